import { policyDocument, type PolicyDocument } from '../iam/policy-document';
import { fencePolicy, type FenceParameter } from './fence-policy';

/** The resources of every failover pair the promotion and fail-back act on. */
export interface FailoverResources {
  /** `arn:aws:route53:::hostedzone/<id>`: the public zone holding the app's failover records (none: no DNS configured, no record grant). */
  readonly hostedZoneArn?: string;
  /** Each standby's promoted marker (a String): read, written, deleted. */
  readonly markers: readonly FenceParameter[];
  /** Both clusters' failover kubeconfigs (SecureStrings): read and decrypted through SSM. */
  readonly kubeconfigs: readonly FenceParameter[];
  /** App backup buckets (primaries and replicas) whose WAL folders the tool lists. */
  readonly backupBuckets: readonly string[];
  /** Worker ASG ARNs (`...:autoScalingGroupName/<name>`) the tool scales. */
  readonly workerAsgArns: readonly string[];
  /**
   * The standbys' us-east-1 health-check alarms (aws-cluster HealthCheckAlarm): promotion arms,
   * fail-back silences them. @default none
   */
  readonly pageAlarmArns?: readonly string[];
}

/**
 * What packages/failover does in AWS for `promote` and `failback` (and the workflow's
 * fetch-kubeconfigs.sh), nothing else; apps/infra's ci-identity-permissions test scans the
 * tool's calls and evaluates each against this role. Resource-scoped where IAM allows it;
 * the Describe calls and Route 53's TestDNSAnswer support no resource, and health-check ids
 * come from the cluster stacks (so `healthcheck/*`). `sts get-caller-identity` needs no grant.
 */
export function failoverPolicy(r: FailoverResources): PolicyDocument {
  const markers = r.markers.map((p) => p.arn);
  const reads = fencePolicy([...r.markers, ...r.kubeconfigs]).Statement;
  return policyDocument(
    ...reads,
    { Sid: 'MarkPromotion', Effect: 'Allow', Action: ['ssm:PutParameter', 'ssm:DeleteParameter'], Resource: markers },
    ...(r.hostedZoneArn ? [{ Sid: 'ReadAndMoveTheFailoverRecords', Effect: 'Allow' as const, Action: ['route53:GetHostedZone', 'route53:ListResourceRecordSets', 'route53:ChangeResourceRecordSets'], Resource: [r.hostedZoneArn] }] : []),
    { Sid: 'ReadAndFenceHealthChecks', Effect: 'Allow', Action: ['route53:GetHealthCheck', 'route53:GetHealthCheckStatus', 'route53:UpdateHealthCheck'], Resource: ['arn:aws:route53:::healthcheck/*'] },
    {
      Sid: 'DescribeWhatHasNoResourceScope',
      Effect: 'Allow',
      Action: ['route53:TestDNSAnswer', 'elasticloadbalancing:DescribeLoadBalancers', 'ec2:DescribeNetworkInterfaces', 'autoscaling:DescribeAutoScalingGroups'],
      Resource: ['*'],
    },
    { Sid: 'ScaleWorkers', Effect: 'Allow', Action: ['autoscaling:UpdateAutoScalingGroup'], Resource: r.workerAsgArns },
    { Sid: 'ListWalArchives', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: r.backupBuckets.map((b) => `arn:aws:s3:::${b}`) },
    ...(r.pageAlarmArns?.length ? [{ Sid: 'ArmStandbyPage', Effect: 'Allow' as const, Action: ['cloudwatch:EnableAlarmActions', 'cloudwatch:DisableAlarmActions', 'cloudwatch:DescribeAlarms'], Resource: r.pageAlarmArns }] : []),
  );
}
