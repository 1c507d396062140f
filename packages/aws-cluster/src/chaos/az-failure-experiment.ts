import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { FisExperimentTemplate } from '@cdktf/provider-aws/lib/fis-experiment-template';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Construct } from 'constructs';
import { renderPolicy, serviceTrustPolicy } from '../iam/policy-document';
import { invalidProp } from '../private/validation';

/** AWS-managed policies FIS documents for these two actions. */
export const FIS_MANAGED_POLICIES = [
  'arn:aws:iam::aws:policy/service-role/AWSFaultInjectionSimulatorEC2Access',
  'arn:aws:iam::aws:policy/service-role/AWSFaultInjectionSimulatorNetworkAccess',
] as const;

export interface AzFailureExperimentProps {
  readonly experimentName: string;
  readonly roleName: string;
  /** The AZ to take away. */
  readonly availabilityZone: string;
  /** The cluster's AZs (the target must be one of them). */
  readonly availabilityZones: readonly string[];
  readonly vpcId: string;
  /** Instances carrying this tag as `owned` are stopped. */
  readonly clusterTagKey: string;
  /** Minutes the AZ stays away. @default 10 */
  readonly durationMinutes?: number;
  /** The experiment stops when fewer API targets than this are healthy (etcd quorum). */
  readonly stopBelowHealthyApiTargets: number;
  readonly apiLoadBalancerArnSuffix: string;
  readonly apiTargetGroupArnSuffix: string;
}

/**
 * Game-day AZ failure: stop the cluster's instances in one AZ and cut that AZ's subnets off
 * (network ACLs) for a while, stopping early if the API falls below quorum.
 */
export class AzFailureExperiment extends Construct {
  readonly templateId: string;
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: AzFailureExperimentProps) {
    super(scope, id);
    if (!props.availabilityZones.includes(props.availabilityZone)) {
      throw invalidProp('AzFailureExperiment', 'availabilityZone', props.availabilityZone, `one of the cluster's AZs: ${props.availabilityZones.join(', ')}`);
    }
    const minutes = props.durationMinutes ?? 10;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 720) throw invalidProp('AzFailureExperiment', 'durationMinutes', minutes, '1 to 720 minutes');
    const duration = `PT${minutes}M`;

    const role = new IamRole(this, 'role', { name: props.roleName, assumeRolePolicy: renderPolicy(serviceTrustPolicy('fis.amazonaws.com')) });
    FIS_MANAGED_POLICIES.forEach((policyArn, i) => new IamRolePolicyAttachment(this, `role-policy-${i}`, { role: role.name, policyArn }));

    const alarm = new CloudwatchMetricAlarm(this, 'stop-condition', {
      alarmName: `${props.experimentName}-api-below-quorum`,
      alarmDescription: 'Stops the AZ-failure experiment when the API has fewer healthy nodes than etcd quorum',
      namespace: 'AWS/NetworkELB',
      metricName: 'HealthyHostCount',
      dimensions: { LoadBalancer: props.apiLoadBalancerArnSuffix, TargetGroup: props.apiTargetGroupArnSuffix },
      statistic: 'Minimum',
      period: 60,
      evaluationPeriods: 1,
      threshold: props.stopBelowHealthyApiTargets,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'breaching',
    });

    const template = new FisExperimentTemplate(this, 'template', {
      description: `${props.experimentName}: take ${props.availabilityZone} away for ${minutes} minutes`,
      roleArn: role.arn,
      stopCondition: [{ source: 'aws:cloudwatch:alarm', value: alarm.arn }],
      target: [
        {
          name: 'zone-instances',
          resourceType: 'aws:ec2:instance',
          selectionMode: 'ALL',
          resourceTag: [{ key: props.clusterTagKey, value: 'owned' }],
          filter: [
            { path: 'Placement.AvailabilityZone', values: [props.availabilityZone] },
            { path: 'State.Name', values: ['running'] },
          ],
        },
        {
          name: 'zone-subnets',
          resourceType: 'aws:ec2:subnet',
          selectionMode: 'ALL',
          parameters: { availabilityZoneIdentifier: props.availabilityZone, vpc: props.vpcId },
        },
      ],
      action: [
        {
          name: 'stop-instances',
          actionId: 'aws:ec2:stop-instances',
          parameter: [{ key: 'startInstancesAfterDuration', value: duration }],
          target: { key: 'Instances', value: 'zone-instances' },
        },
        {
          name: 'disrupt-subnets',
          actionId: 'aws:network:disrupt-connectivity',
          parameter: [
            { key: 'duration', value: duration },
            { key: 'scope', value: 'all' },
          ],
          target: { key: 'Subnets', value: 'zone-subnets' },
        },
      ],
      tags: { Name: props.experimentName },
    });
    this.templateId = template.id;
    this.roleArn = role.arn;
  }
}
