import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { FisExperimentTemplate } from '@cdktf/provider-aws/lib/fis-experiment-template';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy, serviceTrustPolicy, type PolicyStatement } from '../iam/policy-document';
import { invalidProp } from '../private/validation';

/**
 * The AWS-managed policy FIS documents for `aws:network:disrupt-connectivity` (create, associate
 * and delete its temporary network ACL, only on ACLs it tagged). Kept up to date by AWS.
 */
export const FIS_NETWORK_POLICY = 'arn:aws:iam::aws:policy/service-role/AWSFaultInjectionSimulatorNetworkAccess';

/** What `aws:ec2:asg-insufficient-instance-capacity-error` needs: find the groups, inject the error. */
export const FIS_NO_CAPACITY_STATEMENTS: readonly PolicyStatement[] = [
  { Sid: 'FindAutoScalingGroups', Effect: 'Allow', Action: ['autoscaling:DescribeAutoScalingGroups', 'tag:GetResources'], Resource: '*' },
  { Sid: 'InjectInsufficientCapacity', Effect: 'Allow', Action: 'ec2:InjectApiError', Resource: '*' },
];

/** The FIS actions of every template, in order. */
export const AZ_FAILURE_ACTIONS = {
  /** Every packet into and out of the AZ's subnets dropped (a network ACL FIS swaps in and back). */
  partition: 'aws:network:disrupt-connectivity',
  /** Launches of the cluster's Auto Scaling groups in the AZ fail with InsufficientInstanceCapacity. */
  noCapacity: 'aws:ec2:asg-insufficient-instance-capacity-error',
} as const;

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
  /** Auto Scaling groups carrying this tag as `owned` get no capacity in the AZ. */
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
 * Game-day AZ failure: one FIS template per AZ that cuts the AZ's subnets off from everything
 * and leaves the cluster's Auto Scaling groups no capacity there for a while, stopping early if
 * the API falls below quorum. One role and one stop alarm serve every template (a game day runs
 * one at a time).
 *
 * It does not stop the AZ's instances: the groups' EC2 health checks would mark a stopped
 * instance unhealthy and replace it, and FIS, restarting the ids it stopped, would find them
 * terminated and end the experiment "failed" (with the AZ's nodes replaced, not recovered).
 * Partitioned instances keep passing EC2 health checks, so nothing is replaced: the cluster sees
 * what an AZ outage looks like from outside the AZ (nodes unreachable, the API target unhealthy,
 * no new capacity there) and every node rejoins when the experiment ends.
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
    // `role-policy-0` was the EC2 access policy of the stop-instances action, no longer used.
    new IamRolePolicyAttachment(this, 'role-policy-1', { role: role.name, policyArn: FIS_NETWORK_POLICY });
    new IamRolePolicy(this, 'no-capacity-policy', { name: 'asg-insufficient-capacity', role: role.name, policy: renderPolicy(policyDocument(...FIS_NO_CAPACITY_STATEMENTS)) });

    const alarm = new CloudwatchMetricAlarm(this, 'stop-condition', {
      alarmName: `${props.experimentName}-api-below-quorum`,
      alarmDescription: 'Stops the AZ-failure experiment when the API has fewer healthy nodes than etcd quorum',
      namespace: 'AWS/NetworkELB',
      metricName: 'HealthyHostCount',
      dimensions: { LoadBalancer: props.apiLoadBalancerArnSuffix, TargetGroup: props.apiTargetGroupArnSuffix },
      // Every NLB node (one per AZ) health-checks the targets and reports what it sees; the
      // partitioned AZ's own node sees none. Maximum is the best-connected node's view: below
      // quorum there means the API really lost quorum, not that the experiment cut one node off.
      statistic: 'Maximum',
      period: 60,
      evaluationPeriods: 1,
      threshold: props.stopBelowHealthyApiTargets,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'breaching',
    });

    const ids: Record<string, string> = {};
    for (const zone of props.availabilityZones.filter((z) => zones.includes(z))) {
      const template = new FisExperimentTemplate(this, azFailureTemplateId(zone, props.availabilityZones), {
        description: `${props.experimentName}: cut ${zone} off for ${minutes} minutes, no new capacity there`,
        roleArn: role.arn,
        stopCondition: [{ source: 'aws:cloudwatch:alarm', value: alarm.arn }],
        target: [
          {
            name: 'zone-subnets',
            resourceType: 'aws:ec2:subnet',
            selectionMode: 'ALL',
            parameters: { availabilityZoneIdentifier: zone, vpc: props.vpcId },
          },
          {
            name: 'cluster-groups',
            resourceType: 'aws:ec2:autoscaling-group',
            selectionMode: 'ALL',
            resourceTag: [{ key: props.clusterTagKey, value: 'owned' }],
          },
        ],
        action: [
          {
            name: 'disrupt-subnets',
            actionId: AZ_FAILURE_ACTIONS.partition,
            parameter: [
              { key: 'duration', value: duration },
              { key: 'scope', value: 'all' },
            ],
            target: { key: 'Subnets', value: 'zone-subnets' },
          },
          {
            // Every cluster group is targeted; only launches in this zone fail (one group per AZ).
            name: 'no-capacity',
            actionId: AZ_FAILURE_ACTIONS.noCapacity,
            parameter: [
              { key: 'availabilityZoneIdentifiers', value: zone },
              { key: 'duration', value: duration },
              { key: 'percentage', value: '100' },
            ],
            target: { key: 'AutoScalingGroups', value: 'cluster-groups' },
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
