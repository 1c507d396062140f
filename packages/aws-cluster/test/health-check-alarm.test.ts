import { HEALTH_CHECK_ALARM_PERIOD_SECONDS, ROUTE53_METRICS_REGION } from '@platform/platform-config';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { describe, expect, it } from 'vitest';
import { HealthCheckAlarm, ROUTE53_METRICS_PROVIDER_ALIAS } from '../src';
import { evaluateResourcePolicy } from './resource-policy-model';
import { bareStack, platform, Synth, synthCluster, type Attributes } from './support';

const shipped = platform();
const ACCOUNT = '${local.account_id}';
const metricsProvider = `aws.${ROUTE53_METRICS_PROVIDER_ALIAS}`;

function alarmOf(cluster: string) {
  const synth = synthCluster(shipped, cluster);
  const alarms = synth.values('aws_cloudwatch_metric_alarm').filter((a) => a.namespace === 'AWS/Route53');
  expect(alarms).toHaveLength(1);
  const [[checkId]] = synth.resources('aws_route53_health_check');
  return { synth, alarm: alarms[0]!, checkId, names: shipped.namesOf(cluster).healthCheckAlarm };
}

/**
 * What CloudWatch needs to deliver one alarm notification: SNS authorizes Publish against the
 * topic policy (CloudWatch's service principal, source = the alarm), then, the topic being
 * SSE-KMS, a data key is made under CloudWatch's identity, which only the key policy can allow.
 * A refusal anywhere and the alarm only records a failed action: nobody is paged.
 */
function delivery(synth: Synth, alarm: Attributes, alarmName: string): string {
  const [topicRef] = alarm.alarm_actions as string[];
  const topic = synth.deref(topicRef!);
  const sourceContext = { 'aws:SourceArn': `arn:aws:cloudwatch:${ROUTE53_METRICS_REGION}:${ACCOUNT}:alarm:${alarmName}`, 'aws:SourceAccount': ACCOUNT };
  const topicPolicy = synth.values('aws_sns_topic_policy').find((p) => synth.deref(p.arn) === topic);
  if (!topicPolicy) return 'no topic policy';
  const publish = evaluateResourcePolicy(Synth.policy(topicPolicy.policy), { principal: { Service: 'cloudwatch.amazonaws.com' }, action: 'sns:Publish', resource: topicRef!, context: sourceContext });
  if (publish !== 'allowed') return `topic policy: ${publish}`;
  // An AWS-managed key (alias/aws/sns) has a fixed policy that admits no service principal.
  if (!String(topic.kms_master_key_id).startsWith('${aws_kms_key.')) return `key ${topic.kms_master_key_id}: not a key whose policy admits CloudWatch`;
  const key = synth.deref(topic.kms_master_key_id);
  for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
    const result = evaluateResourcePolicy(Synth.policy(key.policy), { principal: { Service: 'cloudwatch.amazonaws.com' }, action, resource: '*', context: sourceContext });
    if (result !== 'allowed') return `key policy ${action}: ${result}`;
  }
  return 'delivered';
}

describe('HealthCheckAlarm (the page when a failover health check fails)', () => {
  it("alarms on production's own check, in us-east-1 where Route 53 publishes HealthCheckStatus, on the check's first unhealthy minute", () => {
    const { synth, alarm, checkId, names } = alarmOf('production');
    expect(synth.json.provider.aws.find((p: Attributes) => p.alias === ROUTE53_METRICS_PROVIDER_ALIAS)).toMatchObject({ region: 'us-east-1' });
    expect(alarm).toMatchObject({
      provider: metricsProvider,
      alarm_name: names.alarm,
      metric_name: 'HealthCheckStatus',
      dimensions: { HealthCheckId: `\${aws_route53_health_check.${checkId}.id}` },
      statistic: 'Minimum',
      comparison_operator: 'LessThanThreshold',
      threshold: 1,
      // The check already waited failure_threshold probes: one datapoint is its verdict.
      period: HEALTH_CHECK_ALARM_PERIOD_SECONDS,
      evaluation_periods: 1,
      datapoints_to_alarm: 1,
      treat_missing_data: 'breaching',
      actions_enabled: true,
      lifecycle: { ignore_changes: ['actions_enabled'] },
    });
    expect(alarm.ok_actions).toEqual(alarm.alarm_actions);
    expect(alarm.alarm_description).toContain('docs/runbooks/region-failover.md');
  });

  it("creates dr's alarm silent: its check fails by design until a promotion, which arms it", () => {
    const { alarm } = alarmOf('dr');
    expect(alarm).toMatchObject({ actions_enabled: false, lifecycle: { ignore_changes: ['actions_enabled'] } });
  });

  it('delivers the notification: topic and key in us-east-1, both policies admitting CloudWatch for this alarm only', () => {
    for (const cluster of ['production', 'dr']) {
      const { synth, alarm, names } = alarmOf(cluster);
      const topic = synth.deref(alarm.alarm_actions[0]);
      expect(topic).toMatchObject({ name: names.topic, provider: metricsProvider });
      expect(synth.deref(topic.kms_master_key_id)).toMatchObject({ provider: metricsProvider, enable_key_rotation: true });
      expect(synth.values('aws_kms_alias').find((a) => a.name === names.keyAlias)).toMatchObject({ provider: metricsProvider });
      expect(delivery(synth, alarm, names.alarm)).toBe('delivered');
      // Another alarm in the account cannot publish to the page topic.
      expect(delivery(synth, alarm, 'someone-elses-alarm')).toBe('topic policy: implicit-deny');
    }
  });

  it('would page nobody under the AWS-managed SNS key (the reason for a key of its own)', () => {
    const { synth, alarm, names } = alarmOf('production');
    const topic = synth.deref(alarm.alarm_actions[0]);
    topic.kms_master_key_id = 'alias/aws/sns';
    expect(delivery(synth, alarm, names.alarm)).toBe('key alias/aws/sns: not a key whose policy admits CloudWatch');
  });

  it('keeps the on-call endpoint (a secret) out of Terraform: no subscription in any stack', () => {
    for (const cluster of ['production', 'dr', 'staging']) expect(synthCluster(shipped, cluster).count('aws_sns_topic_subscription')).toBe(0);
  });

  it('gives a cluster outside a failover pair no alarm and no us-east-1 provider', () => {
    const staging = synthCluster(shipped, 'staging');
    expect(staging.values('aws_cloudwatch_metric_alarm').filter((a) => a.namespace === 'AWS/Route53')).toHaveLength(0);
    expect(staging.json.provider.aws.some((p: Attributes) => p.alias === ROUTE53_METRICS_PROVIDER_ALIAS)).toBe(false);
  });

  it('refuses a provider outside us-east-1 (the alarm would only ever see missing data)', () => {
    const stack = bareStack();
    const provider = new AwsProvider(stack, 'aws', { region: 'ap-northeast-2' });
    expect(() => new HealthCheckAlarm(stack, 'a', { names: shipped.namesOf('production').healthCheckAlarm, healthCheckId: 'hc', description: 'x', provider, providerRegion: 'ap-northeast-2', accountId: '123456789012', armed: true })).toThrow(
      'HealthCheckAlarm: props.providerRegion = "ap-northeast-2"; expected us-east-1: Route 53 publishes HealthCheckStatus nowhere else',
    );
  });

  it('refuses a key deletion window KMS would reject', () => {
    const stack = bareStack();
    const provider = new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    expect(() => new HealthCheckAlarm(stack, 'a', { names: shipped.namesOf('production').healthCheckAlarm, healthCheckId: 'hc', description: 'x', provider, providerRegion: 'us-east-1', accountId: '123456789012', armed: true, keyDeletionWindowInDays: 3 })).toThrow(
      'HealthCheckAlarm: props.keyDeletionWindowInDays = 3; expected 7 to 30 days',
    );
  });
});
