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
  /**
   * The AZs a game day may take away, one experiment template each (one zone per run).
   * @default every AZ in `availabilityZones`
   */
  readonly targetZones?: readonly string[];
  /** The cluster's AZs (every target must be one of them). */
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
 * Construct id of the template of `zone`. The cluster's first AZ keeps `template`, the id of
 * the single template this construct made before it made one per AZ, so applying the change
 * adds the others and replaces nothing.
 */
export function azFailureTemplateId(zone: string, availabilityZones: readonly string[]): string {
  return zone === availabilityZones[0] ? 'template' : `template-${zone}`;
}

/**
 * Game-day AZ failure: one FIS template per AZ that stops the cluster's instances in that AZ
 * and cuts its subnets off (network ACLs) for a while, stopping early if the API falls below
 * quorum. One role and one stop alarm serve every template (a game day runs one at a time).
 */
export class AzFailureExperiment extends Construct {
  /** Template id per AZ, in the order of `availabilityZones`. */
  readonly templateIds: Readonly<Record<string, string>>;
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: AzFailureExperimentProps) {
    super(scope, id);
    const zones = props.targetZones ?? props.availabilityZones;
    if (zones.length === 0) throw invalidProp('AzFailureExperiment', 'targetZones', zones, `at least one of the cluster's AZs: ${props.availabilityZones.join(', ')}`);
    zones.forEach((zone, i) => {
      if (!props.availabilityZones.includes(zone)) {
        throw invalidProp('AzFailureExperiment', `targetZones[${i}]`, zone, `one of the cluster's AZs: ${props.availabilityZones.join(', ')}`);
      }
    });
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

    const ids: Record<string, string> = {};
    for (const zone of props.availabilityZones.filter((z) => zones.includes(z))) {
      const template = new FisExperimentTemplate(this, azFailureTemplateId(zone, props.availabilityZones), {
        description: `${props.experimentName}: take ${zone} away for ${minutes} minutes`,
        roleArn: role.arn,
        stopCondition: [{ source: 'aws:cloudwatch:alarm', value: alarm.arn }],
        target: [
          {
            name: 'zone-instances',
            resourceType: 'aws:ec2:instance',
            selectionMode: 'ALL',
            resourceTag: [{ key: props.clusterTagKey, value: 'owned' }],
            filter: [
              { path: 'Placement.AvailabilityZone', values: [zone] },
              { path: 'State.Name', values: ['running'] },
            ],
          },
          {
            name: 'zone-subnets',
            resourceType: 'aws:ec2:subnet',
            selectionMode: 'ALL',
            parameters: { availabilityZoneIdentifier: zone, vpc: props.vpcId },
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
      ids[zone] = template.id;
    }
    this.templateIds = ids;
    this.roleArn = role.arn;
  }
}
