import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { HEALTH_CHECK_ALARM_PERIOD_SECONDS, ROUTE53_METRICS_REGION, type HealthCheckAlarmNames } from '@platform/platform-config';
import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy, type PolicyDocument } from '../iam/policy-document';
import { invalidProp } from '../private/validation';

export interface HealthCheckAlarmProps {
  readonly names: HealthCheckAlarmNames;
  /** The Route 53 health check to watch. */
  readonly healthCheckId: string;
  /** What the check guards, for the alarm's description (e.g. `app.example.com PRIMARY (production)`). */
  readonly description: string;
  /** The aws provider (alias) of ROUTE53_METRICS_REGION: the metric exists only there. */
  readonly provider: TerraformProvider;
  /** The region `provider` is configured for; anything but ROUTE53_METRICS_REGION would alarm on no data. */
  readonly providerRegion: string;
  readonly accountId: string;
  /**
   * Whether the alarm notifies from creation. packages/failover owns the value afterwards
   * (`lifecycle.ignore_changes`): a standby's check fails by design until a promotion opens it,
   * so its alarm is created silent, armed by the promotion and silenced again by fail-back.
   */
  readonly armed: boolean;
  /** @default 7 */
  readonly keyDeletionWindowInDays?: number;
}

const CLOUDWATCH_PRINCIPAL = 'cloudwatch.amazonaws.com';

/**
 * Pages the on-call when a failover health check turns unhealthy: a CloudWatch alarm on
 * `AWS/Route53 HealthCheckStatus` in us-east-1 (the only region Route 53 publishes it to), an
 * SNS topic there and the topic's own KMS key there. Not the AWS-managed `alias/aws/sns`: its key
 * policy cannot be changed, CloudWatch is not admitted, and an alarm publishing to a topic under
 * it fails silently (AWS: "compatibility between event sources from AWS services and encrypted
 * topics"). Not the cluster key either: SNS uses a key only in the topic's own region.
 *
 * One datapoint of the check's status below 1 alarms: the check's own `failureThreshold` already
 * decided it is down. OK notifies too (the page resolves when the check passes again).
 * The subscription (the incident tool's URL) is not here: it is a secret and would sit in
 * Terraform state; docs/runbooks/alert-receivers.md creates it.
 */
export class HealthCheckAlarm extends Construct {
  readonly alarmArn: string;
  readonly topicArn: string;
  readonly keyArn: string;
  /** The documents as objects (tests evaluate them). */
  readonly keyPolicy: PolicyDocument;
  readonly topicPolicy: PolicyDocument;

  constructor(scope: Construct, id: string, props: HealthCheckAlarmProps) {
    super(scope, id);
    if (props.providerRegion !== ROUTE53_METRICS_REGION) {
      throw invalidProp('HealthCheckAlarm', 'providerRegion', props.providerRegion, `${ROUTE53_METRICS_REGION}: Route 53 publishes HealthCheckStatus nowhere else`);
    }
    const window = props.keyDeletionWindowInDays ?? 7;
    if (!Number.isInteger(window) || window < 7 || window > 30) throw invalidProp('HealthCheckAlarm', 'keyDeletionWindowInDays', window, '7 to 30 days');

    const alarmArn = `arn:aws:cloudwatch:${ROUTE53_METRICS_REGION}:${props.accountId}:alarm:${props.names.alarm}`;
    const fromThisAlarm = { StringEquals: { 'aws:SourceAccount': props.accountId }, ArnLike: { 'aws:SourceArn': alarmArn } };
    this.keyPolicy = policyDocument(
      { Sid: 'AccountAdministersKey', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${props.accountId}:root` }, Action: 'kms:*', Resource: '*' },
      // SNS encrypts what the alarm publishes with a data key made under CloudWatch's identity.
      { Sid: 'AlarmPublishesToTopic', Effect: 'Allow', Principal: { Service: CLOUDWATCH_PRINCIPAL }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*', Condition: fromThisAlarm },
    );
    const key = new KmsKey(this, 'key', {
      provider: props.provider,
      description: `${props.names.topic}: SSE of the health-check page topic`,
      enableKeyRotation: true,
      deletionWindowInDays: window,
      policy: renderPolicy(this.keyPolicy),
    });
    new KmsAlias(this, 'key-alias', { provider: props.provider, name: props.names.keyAlias, targetKeyId: key.keyId });
    const topic = new SnsTopic(this, 'topic', { provider: props.provider, name: props.names.topic, kmsMasterKeyId: key.arn });
    this.topicPolicy = policyDocument({ Sid: 'AlarmPublishes', Effect: 'Allow', Principal: { Service: CLOUDWATCH_PRINCIPAL }, Action: 'sns:Publish', Resource: topic.arn, Condition: fromThisAlarm });
    new SnsTopicPolicy(this, 'topic-policy', { provider: props.provider, arn: topic.arn, policy: renderPolicy(this.topicPolicy) });

    const alarm = new CloudwatchMetricAlarm(this, 'alarm', {
      provider: props.provider,
      alarmName: props.names.alarm,
      alarmDescription: `Route 53 health check of ${props.description} is unhealthy: see docs/runbooks/region-failover.md`,
      namespace: 'AWS/Route53',
      metricName: 'HealthCheckStatus',
      dimensions: { HealthCheckId: props.healthCheckId },
      statistic: 'Minimum',
      period: HEALTH_CHECK_ALARM_PERIOD_SECONDS,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparisonOperator: 'LessThanThreshold',
      threshold: 1,
      // Route 53 publishes every minute while the check exists: silence is itself a failure.
      treatMissingData: 'breaching',
      alarmActions: [topic.arn],
      okActions: [topic.arn],
      actionsEnabled: props.armed,
      lifecycle: { ignoreChanges: ['actions_enabled'] },
    });
    this.alarmArn = alarm.arn;
    this.topicArn = topic.arn;
    this.keyArn = key.arn;
  }
}
