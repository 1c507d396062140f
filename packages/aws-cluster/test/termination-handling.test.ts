import { CONTROL_PLANE_TERMINATING_HOOK_TIMEOUT_SECONDS, LAUNCHING_HOOK_TIMEOUT_SECONDS, NODE_TERMINATION_EVENTS, TERMINATING_HOOK_TIMEOUT_SECONDS } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { TerminationHandling, type TerminationHandlingProps } from '../src';
import { evaluateResourcePolicy } from './resource-policy-model';
import { bareStack, platform, Synth, synthCluster, type Attributes } from './support';

const shipped = platform();
const production = synthCluster(shipped, 'production');
const names = shipped.namesOf('production');
const cluster = shipped.cluster('production');

const asgNames = production.values('aws_autoscaling_group').map((g) => g.name as string);
const controlPlaneAsgs = asgNames.filter((n) => n.includes('-control-plane-'));
const hooks = production.values('aws_autoscaling_lifecycle_hook');
const rules = production.resources('aws_cloudwatch_event_rule');
const [[queueId, queue]] = production.resources('aws_sqs_queue');
const queueArn = `\${aws_sqs_queue.${queueId}.arn}`;
const ruleArn = (id: string) => `\${aws_cloudwatch_event_rule.${id}.arn}`;

/**
 * What EventBridge needs to put one event from `ruleId` into the queue its target names: SQS
 * authorizes SendMessage against the queue policy (source ARN = the rule), then, the queue being
 * SSE-KMS, generates a data key under EventBridge's identity, which the key policy must allow
 * (IAM policies cannot grant a service principal anything). Either refusal drops the event: the
 * rule only counts a FailedInvocation.
 */
function delivery(stack: Synth, ruleId: string, keyPolicyEdit?: (policy: Attributes) => Attributes): string {
  const target = stack.values('aws_cloudwatch_event_target').find((t) => t.rule === `\${aws_cloudwatch_event_rule.${ruleId}.name}`);
  if (!target) return 'no target';
  const q = stack.deref(target.arn);
  const queuePolicy = Synth.policy(stack.values('aws_sqs_queue_policy').find((p) => stack.deref(p.queue_url) === q)!.policy);
  const send = evaluateResourcePolicy(queuePolicy, {
    principal: { Service: 'events.amazonaws.com' },
    action: 'sqs:SendMessage',
    resource: target.arn,
    context: { 'aws:SourceArn': ruleArn(ruleId), 'aws:SecureTransport': 'true' },
  });
  if (send !== 'allowed') return `queue policy: ${send}`;
  if (!q.kms_master_key_id) return 'delivered (no SSE-KMS)';
  const key = stack.deref(q.kms_master_key_id);
  if (!key.policy) return 'key policy: default (account only): implicit-deny';
  const keyPolicy = (keyPolicyEdit ?? ((p) => p))(Synth.policy(key.policy));
  for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
    const result = evaluateResourcePolicy(keyPolicy, { principal: { Service: 'events.amazonaws.com' }, action, resource: q.kms_master_key_id, context: {} });
    if (result !== 'allowed') return `key policy ${action}: ${result}`;
  }
  return 'delivered';
}

describe('TerminationHandling (production)', () => {
  it('puts a terminating hook on every node ASG: CONTINUE after the drain timeout, shorter on the control plane', () => {
    const terminating = hooks.filter((h) => h.lifecycle_transition === 'autoscaling:EC2_INSTANCE_TERMINATING');
    const hooked = terminating.map((h) => production.deref(h.autoscaling_group_name).name).sort();
    expect(hooked).toEqual([...asgNames].sort());
    expect(asgNames.length).toBe(cluster.controlPlane.count + cluster.workerPools.length * cluster.availabilityZones.length);
    for (const h of terminating) {
      const controlPlane = controlPlaneAsgs.includes(production.deref(h.autoscaling_group_name).name);
      expect(h).toMatchObject({ name: names.nodeTermination.terminatingHook, heartbeat_timeout: controlPlane ? CONTROL_PLANE_TERMINATING_HOOK_TIMEOUT_SECONDS : TERMINATING_HOOK_TIMEOUT_SECONDS, default_result: 'CONTINUE' });
    }
    expect(CONTROL_PLANE_TERMINATING_HOOK_TIMEOUT_SECONDS).toBeLessThan(TERMINATING_HOOK_TIMEOUT_SECONDS);
  });

  it('keeps capacity rebalance on every worker ASG: spot nodes are replaced first, then leave through the terminating hook', () => {
    const workers = production.values('aws_autoscaling_group').filter((g) => !controlPlaneAsgs.includes(g.name));
    expect(workers.length).toBeGreaterThan(0);
    for (const g of workers) expect([g.name, g.capacity_rebalance]).toEqual([g.name, true]);
  });

  it('puts a launching hook on control-plane ASGs only, CONTINUE (a new cluster has no handler yet)', () => {
    const launching = hooks.filter((h) => h.lifecycle_transition === 'autoscaling:EC2_INSTANCE_LAUNCHING');
    expect(launching.map((h) => production.deref(h.autoscaling_group_name).name).sort()).toEqual([...controlPlaneAsgs].sort());
    for (const h of launching) expect(h).toMatchObject({ name: names.nodeTermination.launchingHook, heartbeat_timeout: LAUNCHING_HOOK_TIMEOUT_SECONDS, default_result: 'CONTINUE' });
  });

  it('has one rule per event kind, each targeting the one queue', () => {
    const byName = Object.fromEntries(rules.map(([, r]) => [r.name, JSON.parse(r.event_pattern)]));
    expect(Object.keys(byName).sort()).toEqual(NODE_TERMINATION_EVENTS.map((e) => names.nodeTermination.rules[e]).sort());
    const r = names.nodeTermination.rules;
    expect(byName[r['asg-terminate']]).toEqual({ source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance-terminate Lifecycle Action'], detail: { AutoScalingGroupName: expect.arrayContaining(asgNames) } });
    expect(byName[r['asg-terminate']].detail.AutoScalingGroupName).toHaveLength(asgNames.length);
    expect(byName[r['asg-launch']]).toEqual({ source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance-launch Lifecycle Action'], detail: { AutoScalingGroupName: controlPlaneAsgs } });
    expect(byName[r['spot-interruption']]).toEqual({ source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] });
    // No rebalance recommendation rule: NTH (enableSqsTerminationDraining) would drain on it while
    // capacity rebalance already replaces the instance and drains it through the terminating hook.
    expect(Object.values(byName).flatMap((p) => (p as { 'detail-type': string[] })['detail-type'])).not.toContain('EC2 Instance Rebalance Recommendation');
    expect(rules.map(([id]) => id).sort()).toEqual([
      // Logical ids are API: the remaining rules keep theirs.
      'node-termination_rule-asg-launch_4BF086C3',
      'node-termination_rule-asg-terminate_323E2AA6',
      'node-termination_rule-scheduled-change_E9F23304',
      'node-termination_rule-spot-interruption_6A27BBB2',
      'node-termination_rule-state-change_EA27AFBB',
    ]);
    expect(byName[r['state-change']]).toEqual({ source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['stopping', 'stopped', 'shutting-down', 'terminated'] } });
    expect(byName[r['scheduled-change']]).toEqual({ source: ['aws.health'], 'detail-type': ['AWS Health Event'], detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] } });
    const targets = production.values('aws_cloudwatch_event_target');
    expect(targets).toHaveLength(rules.length);
    for (const t of targets) expect(t.arn).toBe(queueArn);
  });

  it('keeps messages as long as the longest hook waits, encrypted with its own key', () => {
    expect(queue).toMatchObject({ name: names.nodeTermination.queue, message_retention_seconds: LAUNCHING_HOOK_TIMEOUT_SECONDS });
    const key = production.deref(queue.kms_master_key_id);
    expect(key.enable_key_rotation).toBe(true);
    const alias = production.values('aws_kms_alias').find((a) => a.name === names.nodeTermination.keyAlias);
    expect(production.deref(alias!.target_key_id)).toBe(key);
  });

  it('fails the apply when the queue is not in settings.accountId (the handler derives its URL from it)', () => {
    expect(queue.lifecycle.postcondition).toEqual([{ condition: `\${endswith(self.url, "/${shipped.settings.accountId}/${names.nodeTermination.queue}")}`, error_message: expect.stringContaining('settings.accountId') }]);
  });

  it('delivers every rule\'s events through the queue policy and the key policy', () => {
    for (const [id] of rules) expect([id, delivery(production, id)]).toEqual([id, 'delivered']);
  });

  it('drops every event when the key policy lacks EventBridge (the silent real-world failure)', () => {
    const withoutEvents = (policy: Attributes) => ({ ...policy, Statement: policy.Statement.filter((s: Attributes) => s.Principal?.Service !== 'events.amazonaws.com') });
    for (const [id] of rules) expect(delivery(production, id, withoutEvents)).toBe('key policy kms:GenerateDataKey: implicit-deny');
  });

  it('admits only these rules and only over TLS', () => {
    const policy = Synth.policy(production.values('aws_sqs_queue_policy')[0].policy);
    const send = (context: Record<string, string>, principal: { Service?: string; AWS?: string } = { Service: 'events.amazonaws.com' }) =>
      evaluateResourcePolicy(policy, { principal, action: 'sqs:SendMessage', resource: queueArn, context });
    expect(send({ 'aws:SourceArn': 'arn:aws:events:ap-northeast-2:123456789012:rule/someone-elses-rule', 'aws:SecureTransport': 'true' })).toBe('implicit-deny');
    expect(send({ 'aws:SecureTransport': 'true' })).toBe('implicit-deny');
    expect(send({ 'aws:SourceArn': ruleArn(rules[0][0]), 'aws:SecureTransport': 'false' })).toBe('explicit-deny');
    expect(send({ 'aws:SourceArn': ruleArn(rules[0][0]), 'aws:SecureTransport': 'true' }, { AWS: 'arn:aws:iam::123456789012:role/anyone' })).toBe('implicit-deny');
  });

  it('gives the handler\'s workload role (not a node role) only the queue, its key through SQS, this cluster\'s hooks and DescribeInstances', () => {
    const policy = production.values('aws_iam_role_policy').find((p) => p.name === 'node-termination-handler')!;
    expect(production.deref(policy.role).name).toBe(names.serviceAccountIssuer.workloadRole('node-termination-handler'));
    const statements = Synth.policy(policy.policy).Statement;
    expect(statements).toEqual([
      { Sid: 'ReadQueue', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], Resource: queueArn },
      { Sid: 'DecryptQueueMessages', Effect: 'Allow', Action: 'kms:Decrypt', Resource: queue.kms_master_key_id, Condition: { StringEquals: { 'kms:ViaService': `sqs.${cluster.region}.amazonaws.com` } } },
      { Sid: 'CompleteOwnHooks', Effect: 'Allow', Action: 'autoscaling:CompleteLifecycleAction', Resource: '*', Condition: { StringEquals: { [`autoscaling:ResourceTag/${names.clusterTagKey}`]: 'owned' } } },
      { Sid: 'DescribeInstances', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
    ]);
    // The tag the condition names is on every node ASG.
    for (const asg of production.values('aws_autoscaling_group')) expect(asg.tag).toContainEqual(expect.objectContaining({ key: names.clusterTagKey, value: 'owned' }));
    expect(production.values('aws_iam_role_policy').filter((p) => p.name === 'node-termination-handler')).toHaveLength(1);
  });

  it('outputs the queue URL', () => {
    expect(production.json.output.node_termination_queue_url.value).toBe(`\${aws_sqs_queue.${queueId}.url}`);
  });
});

describe('TerminationHandling validation', () => {
  const base: TerminationHandlingProps = {
    names: names.nodeTermination,
    region: 'ap-northeast-2',
    accountId: '123456789012',
    groups: [{ asgName: 'a', literalName: 'a', role: 'worker' }],
    clusterTagKey: names.clusterTagKey,
    terminatingHookTimeoutSeconds: 600,
    controlPlaneTerminatingHookTimeoutSeconds: 120,
    launchingHookTimeoutSeconds: 900,
    messageRetentionSeconds: 900,
  };
  const make = (change: Partial<TerminationHandlingProps>) => () => new TerminationHandling(bareStack(), 't', { ...base, ...change });

  it('rejects no groups', () => {
    expect(make({ groups: [] })).toThrow('TerminationHandling: props.groups = []; expected at least one node Auto Scaling group');
  });
  it('rejects a terminating timeout outside what a lifecycle hook takes', () => {
    expect(make({ terminatingHookTimeoutSeconds: 10 })).toThrow('TerminationHandling: props.terminatingHookTimeoutSeconds = 10; expected whole seconds from 30 to 7200 (lifecycle hook heartbeat timeout)');
  });
  it('rejects a control-plane terminating timeout outside what a lifecycle hook takes', () => {
    expect(make({ controlPlaneTerminatingHookTimeoutSeconds: 0 })).toThrow('TerminationHandling: props.controlPlaneTerminatingHookTimeoutSeconds = 0; expected whole seconds from 30 to 7200 (lifecycle hook heartbeat timeout)');
  });
  it('rejects a launching timeout outside what a lifecycle hook takes', () => {
    expect(make({ launchingHookTimeoutSeconds: 7201 })).toThrow('TerminationHandling: props.launchingHookTimeoutSeconds = 7201; expected whole seconds from 30 to 7200 (lifecycle hook heartbeat timeout)');
  });
  it('rejects a retention SQS does not offer', () => {
    expect(make({ messageRetentionSeconds: 30 })).toThrow('TerminationHandling: props.messageRetentionSeconds = 30; expected whole seconds from 60 to 1209600 (SQS retention)');
  });
  it('rejects a retention shorter than a hook waits', () => {
    expect(make({ messageRetentionSeconds: 300 })).toThrow('TerminationHandling: props.messageRetentionSeconds = 300; expected at least the longest hook timeout (600 s): a message must outlive the hook it completes');
  });
  it('rejects a key deletion window KMS does not offer', () => {
    expect(make({ keyDeletionWindowInDays: 3 })).toThrow('TerminationHandling: props.keyDeletionWindowInDays = 3; expected 7 to 30 days');
  });
});
