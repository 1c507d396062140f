import { AutoscalingLifecycleHook } from '@cdktf/provider-aws/lib/autoscaling-lifecycle-hook';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { NODE_TERMINATION_EVENTS, type NodeTerminationEvent, type NodeTerminationNames } from '@platform/platform-config';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy, type PolicyDocument } from '../iam/policy-document';
import { invalidProp } from '../private/validation';

/** An Auto Scaling group whose instances are Kubernetes nodes. */
export interface TerminationHandledGroup {
  /** The group's name, as a reference to the group where possible (the hook then waits for it). */
  readonly asgName: string;
  /** Its literal name (the EventBridge patterns match it in events). */
  readonly literalName: string;
  /** Control-plane groups also get the launching hook (readiness). */
  readonly role: 'control-plane' | 'worker';
}

export interface TerminationHandlingProps {
  readonly names: NodeTerminationNames;
  readonly region: string;
  readonly accountId: string;
  readonly groups: readonly TerminationHandledGroup[];
  /** Tag every node group carries (`kubernetes.io/cluster/<name>` = owned): the handler may complete only their hooks. */
  readonly clusterTagKey: string;
  /** How long a terminating worker waits for its drain (then CONTINUE). */
  readonly terminatingHookTimeoutSeconds: number;
  /** The same for a control-plane node (its replacement must not meet it still running). */
  readonly controlPlaneTerminatingHookTimeoutSeconds: number;
  /** How long a launching control-plane instance may take to become a Ready node (then CONTINUE). */
  readonly launchingHookTimeoutSeconds: number;
  /** Queue message retention (60 s to 14 days). */
  readonly messageRetentionSeconds: number;
  /**
   * The account the manifests believe the queue is in (platform-config `settings.accountId`): the
   * queue's real URL must end in `/<account>/<queue>`, or the apply fails (the handler's
   * `queueURL` is derived from it, and a wrong one would leave every node undrained).
   * @default - no check
   */
  readonly expectedAccountId?: string;
  /**
   * A node role the handler's rights are also put on, inline as `node-termination-handler` (construct
   * id `handler-policy`, the address it had before IRSA): the fallback of a cluster whose
   * platform-config `serviceAccountIdentity` is not complete yet, while the handler may still run
   * on the control-plane role. @default - none: the handler has only its workload role
   */
  readonly handlerRoleName?: string;
  /** @default 7 */
  readonly keyDeletionWindowInDays?: number;
}

const EVENTS_PRINCIPAL = 'events.amazonaws.com';
const DRAIN_STATES = ['stopping', 'stopped', 'shutting-down', 'terminated'];
/** AWS limits of lifecycle-hook heartbeat timeouts and SQS retention. */
const HEARTBEAT_RANGE = [30, 7200] as const;
const RETENTION_RANGE = [60, 1_209_600] as const;

/**
 * What makes node terminations graceful: a terminating lifecycle hook on every node group (and a
 * launching one on control-plane groups), EventBridge rules for the events that end an instance
 * (ASG lifecycle actions, spot interruption warnings, rebalance recommendations, stop/terminate
 * state changes, AWS Health scheduled changes) into one SQS queue per cluster, which the Node
 * Termination Handler (k8s-addons) reads: it cordons and drains the node, then completes the hook.
 *
 * The queue is SSE-KMS with its own key, whose key policy lets EventBridge generate and decrypt
 * data keys: without that statement SQS refuses EventBridge's sends and the rules fail
 * silently (failed invocations only). The queue policy admits EventBridge only for these rules.
 */
export class TerminationHandling extends Construct {
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly queueName: string;
  readonly keyArn: string;
  readonly ruleArns: Readonly<Record<NodeTerminationEvent, string>>;
  /** The documents as objects (tests evaluate them). */
  readonly queuePolicy: PolicyDocument;
  readonly keyPolicy: PolicyDocument;
  /** What the handler may do: the cluster stack gives it to the handler's workload role (identity/workload-roles.ts). */
  readonly handlerPolicy: PolicyDocument;

  constructor(scope: Construct, id: string, props: TerminationHandlingProps) {
    super(scope, id);
    if (props.groups.length === 0) throw invalidProp('TerminationHandling', 'groups', props.groups, 'at least one node Auto Scaling group');
    const inRange = (value: number, [min, max]: readonly [number, number]) => Number.isInteger(value) && value >= min && value <= max;
    if (!inRange(props.terminatingHookTimeoutSeconds, HEARTBEAT_RANGE)) {
      throw invalidProp('TerminationHandling', 'terminatingHookTimeoutSeconds', props.terminatingHookTimeoutSeconds, `whole seconds from ${HEARTBEAT_RANGE[0]} to ${HEARTBEAT_RANGE[1]} (lifecycle hook heartbeat timeout)`);
    }
    if (!inRange(props.controlPlaneTerminatingHookTimeoutSeconds, HEARTBEAT_RANGE)) {
      throw invalidProp('TerminationHandling', 'controlPlaneTerminatingHookTimeoutSeconds', props.controlPlaneTerminatingHookTimeoutSeconds, `whole seconds from ${HEARTBEAT_RANGE[0]} to ${HEARTBEAT_RANGE[1]} (lifecycle hook heartbeat timeout)`);
    }
    if (!inRange(props.launchingHookTimeoutSeconds, HEARTBEAT_RANGE)) {
      throw invalidProp('TerminationHandling', 'launchingHookTimeoutSeconds', props.launchingHookTimeoutSeconds, `whole seconds from ${HEARTBEAT_RANGE[0]} to ${HEARTBEAT_RANGE[1]} (lifecycle hook heartbeat timeout)`);
    }
    if (!inRange(props.messageRetentionSeconds, RETENTION_RANGE)) {
      throw invalidProp('TerminationHandling', 'messageRetentionSeconds', props.messageRetentionSeconds, `whole seconds from ${RETENTION_RANGE[0]} to ${RETENTION_RANGE[1]} (SQS retention)`);
    }
    const longestHook = Math.max(props.terminatingHookTimeoutSeconds, ...(props.groups.some((g) => g.role === 'control-plane') ? [props.launchingHookTimeoutSeconds] : []));
    if (props.messageRetentionSeconds < longestHook) {
      throw invalidProp('TerminationHandling', 'messageRetentionSeconds', props.messageRetentionSeconds, `at least the longest hook timeout (${longestHook} s): a message must outlive the hook it completes`);
    }
    const window = props.keyDeletionWindowInDays ?? 7;
    if (!Number.isInteger(window) || window < 7 || window > 30) throw invalidProp('TerminationHandling', 'keyDeletionWindowInDays', window, '7 to 30 days');
    const controlPlane = props.groups.filter((g) => g.role === 'control-plane');

    // Rules first: the queue and key policies name them.
    const patterns: Record<NodeTerminationEvent, object> = {
      'asg-terminate': { source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance-terminate Lifecycle Action'], detail: { AutoScalingGroupName: props.groups.map((g) => g.literalName) } },
      'asg-launch': { source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance-launch Lifecycle Action'], detail: { AutoScalingGroupName: controlPlane.map((g) => g.literalName) } },
      'spot-interruption': { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
      // The handler acts on these states only; others would be read and dropped.
      'state-change': { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: DRAIN_STATES } },
      'scheduled-change': { source: ['aws.health'], 'detail-type': ['AWS Health Event'], detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] } },
    };
    const events = NODE_TERMINATION_EVENTS.filter((event) => event !== 'asg-launch' || controlPlane.length > 0);
    const rules = Object.fromEntries(
      events.map((event) => [event, new CloudwatchEventRule(this, `rule-${event}`, { name: props.names.rules[event], description: `Node termination handling: ${event} events to ${props.names.queue}`, eventPattern: JSON.stringify(patterns[event]) })]),
    ) as Partial<Record<NodeTerminationEvent, CloudwatchEventRule>>;
    const ruleArns = Object.values(rules).map((rule) => rule.arn);

    this.keyPolicy = policyDocument(
      { Sid: 'AccountAdministersKey', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${props.accountId}:root` }, Action: 'kms:*', Resource: '*' },
      // SQS encrypts what EventBridge sends with a data key made under EventBridge's identity.
      // No condition: SQS makes the KMS call, and the queue policy below already limits sends to these rules.
      { Sid: 'EventBridgeSendsToQueue', Effect: 'Allow', Principal: { Service: EVENTS_PRINCIPAL }, Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: '*' },
    );
    const key = new KmsKey(this, 'key', {
      description: `${props.names.queue}: SSE of the node-termination queue`,
      enableKeyRotation: true,
      deletionWindowInDays: window,
      policy: renderPolicy(this.keyPolicy),
    });
    new KmsAlias(this, 'key-alias', { name: props.names.keyAlias, targetKeyId: key.keyId });

    const queue = new SqsQueue(this, 'queue', {
      name: props.names.queue,
      kmsMasterKeyId: key.arn,
      messageRetentionSeconds: props.messageRetentionSeconds,
      lifecycle: props.expectedAccountId
        ? { postcondition: [{ condition: `\${endswith(self.url, "/${props.expectedAccountId}/${props.names.queue}")}`, errorMessage: `The queue is not in account ${props.expectedAccountId} (platform-config settings.accountId): the node termination handler's queueURL would be wrong.` }] }
        : undefined,
    });
    this.queuePolicy = policyDocument(
      { Sid: 'EventBridgeRulesOnly', Effect: 'Allow', Principal: { Service: EVENTS_PRINCIPAL }, Action: 'sqs:SendMessage', Resource: queue.arn, Condition: { ArnEquals: { 'aws:SourceArn': ruleArns } } },
      { Sid: 'TlsOnly', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sqs:*', Resource: queue.arn, Condition: { Bool: { 'aws:SecureTransport': false } } },
    );
    new SqsQueuePolicy(this, 'queue-policy', { queueUrl: queue.url, policy: renderPolicy(this.queuePolicy) });
    for (const [event, rule] of Object.entries(rules)) new CloudwatchEventTarget(this, `target-${event}`, { rule: rule.name, targetId: 'node-termination-queue', arn: queue.arn });

    for (const group of props.groups) {
      const suffix = group.literalName;
      new AutoscalingLifecycleHook(this, `terminating-${suffix}`, {
        name: props.names.terminatingHook,
        autoscalingGroupName: group.asgName,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeout: group.role === 'control-plane' ? props.controlPlaneTerminatingHookTimeoutSeconds : props.terminatingHookTimeoutSeconds,
        // After the timeout the instance goes: a drain that hangs never pins capacity.
        defaultResult: 'CONTINUE',
      });
      if (group.role === 'control-plane') {
        new AutoscalingLifecycleHook(this, `launching-${suffix}`, {
          name: props.names.launchingHook,
          autoscalingGroupName: group.asgName,
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          heartbeatTimeout: props.launchingHookTimeoutSeconds,
          // CONTINUE, not ABANDON: a new cluster's first nodes launch before any handler exists.
          defaultResult: 'CONTINUE',
        });
      }
    }

    this.handlerPolicy = policyDocument(
      { Sid: 'ReadQueue', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], Resource: queue.arn },
      // Receiving from an SSE-KMS queue decrypts its data key: only through SQS.
      { Sid: 'DecryptQueueMessages', Effect: 'Allow', Action: 'kms:Decrypt', Resource: key.arn, Condition: { StringEquals: { 'kms:ViaService': `sqs.${props.region}.amazonaws.com` } } },
      { Sid: 'CompleteOwnHooks', Effect: 'Allow', Action: 'autoscaling:CompleteLifecycleAction', Resource: '*', Condition: { StringEquals: { [`autoscaling:ResourceTag/${props.clusterTagKey}`]: 'owned' } } },
      // Instance → node name and the managed-tag check; EC2 has no resource-level scope for it.
      { Sid: 'DescribeInstances', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
    );

    if (props.handlerRoleName) new IamRolePolicy(this, 'handler-policy', { name: 'node-termination-handler', role: props.handlerRoleName, policy: renderPolicy(this.handlerPolicy) });

    this.queueArn = queue.arn;
    this.queueUrl = queue.url;
    this.queueName = props.names.queue;
    this.keyArn = key.arn;
    this.ruleArns = Object.fromEntries(Object.entries(rules).map(([event, rule]) => [event, rule.arn])) as Record<NodeTerminationEvent, string>;
  }
}
