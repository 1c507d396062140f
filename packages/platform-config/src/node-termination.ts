/**
 * Names and timings of a cluster's node-termination handling: ASG lifecycle hooks and
 * EventBridge rules feed one SQS queue, which the AWS Node Termination Handler (queue mode)
 * drains. aws-cluster creates them, k8s-addons points the handler at the queue, ha-check
 * looks for them: each reads the names from here.
 */

/** EventBridge rules sending events to the queue, by what they catch. */
export const NODE_TERMINATION_EVENTS = ['asg-terminate', 'asg-launch', 'spot-interruption', 'state-change', 'scheduled-change'] as const;
export type NodeTerminationEvent = (typeof NODE_TERMINATION_EVENTS)[number];

/**
 * Longest drain a terminating hook waits for before the ASG goes on (default result CONTINUE):
 * the handler cordons, then evicts respecting PDBs, one pod's `terminationGracePeriodSeconds`
 * at most 120 s (NTH's `nodeTerminationGracePeriod`), a PDB-blocked eviction retried until a
 * replacement pod is Ready elsewhere (a worker from the autoscaler: ≈ 240 s, ha-check's
 * capacity estimate). 600 s covers both with room; past it the instance goes anyway.
 */
export const TERMINATING_HOOK_TIMEOUT_SECONDS = 600;

/**
 * The terminating hook of a control-plane node: shorter, because the ASG launches the
 * replacement without waiting for the hook, and the replacement's bootstrap removes only etcd
 * members whose instance no longer runs (node-bootstrap control-plane.sh): an old node still
 * waiting when the replacement reaches its join keeps its member, and the replacement joins
 * beside it (4 members, one about to die). Its drain is short (a few leader-elected controllers
 * with replicas in other zones, PDB maxUnavailable 1): 120 s is NTH's own node grace period, and
 * a replacement needs longer than that from launch to its join (boot, packages, certificates).
 */
export const CONTROL_PLANE_TERMINATING_HOOK_TIMEOUT_SECONDS = 120;

/**
 * How long a launching control-plane node may take to become a Ready node before its hook
 * times out (CONTINUE: the node goes InService anyway; a cluster's first nodes launch before
 * any handler runs). node-bootstrap's first boot installs packages and joins: ≈ 5–10 min.
 */
export const LAUNCHING_HOOK_TIMEOUT_SECONDS = 900;

/**
 * SQS message retention: a lifecycle message older than its hook's timeout can no longer be
 * acted on (the ASG already continued), a spot warning is void after 2 min; keeping messages
 * longer only replays stale drains after a handler outage.
 */
export const NODE_TERMINATION_QUEUE_RETENTION_SECONDS = LAUNCHING_HOOK_TIMEOUT_SECONDS;

export interface NodeTerminationNames {
  /** SQS queue (SSE-KMS with `keyAlias`). */
  readonly queue: string;
  /** The queue's own customer-managed key: its key policy admits EventBridge, the cluster key's never does. */
  readonly keyAlias: string;
  /** EventBridge rule per event kind (names ≤ 64 characters: cluster names are ≤ 20). */
  readonly rules: Readonly<Record<NodeTerminationEvent, string>>;
  /** Lifecycle hook on every node ASG (EC2_INSTANCE_TERMINATING). */
  readonly terminatingHook: string;
  /** Lifecycle hook on control-plane ASGs (EC2_INSTANCE_LAUNCHING), completed when the node is Ready. */
  readonly launchingHook: string;
}

export function nodeTerminationNames(cluster: string): NodeTerminationNames {
  const rules = Object.fromEntries(NODE_TERMINATION_EVENTS.map((event) => [event, `${cluster}-node-termination-${event}`])) as Record<NodeTerminationEvent, string>;
  return {
    queue: `${cluster}-node-termination`,
    keyAlias: `alias/${cluster}-node-termination`,
    rules,
    terminatingHook: `${cluster}-node-terminating`,
    launchingHook: `${cluster}-node-launching`,
  };
}

/** URL of an SQS queue (what SQS clients address it by): `https://sqs.<region>.amazonaws.com/<account>/<name>`. */
export function sqsQueueUrl(region: string, accountId: string, queueName: string): string {
  return `https://sqs.${region}.amazonaws.com/${accountId}/${queueName}`;
}
