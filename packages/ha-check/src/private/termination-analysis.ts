import type { Findings } from '../findings';
import type { K8sObject } from '../manifests';
import type { TerraformIndex, TfResource } from '../terraform';
import { asgLifecycleValues, attachedPolicyValues, eventRuleValues, eventTargetValues, kmsKeyValues, lifecycleHookValues, sqsQueueValues, type LifecycleHookValues } from './tf-accessors';
import type { Json } from './values';

/**
 * Whether a node that AWS takes away (scale-in, instance refresh, spot interruption, rebalance,
 * a scheduled retirement, a stop) leaves through a cordon and a PDB-respecting drain, or
 * abruptly; and what the pods' recovery time is either way.
 *
 * Graceful takes four parts, all found in the synthesized output: a terminating lifecycle hook
 * on every node ASG (the instance waits in Terminating:Wait for the drain); EventBridge rules
 * for each event that ends an instance, targeting an SQS queue; a queue EventBridge can really
 * deliver to (its policy admits events.amazonaws.com and, for SSE-KMS, the key policy lets
 * events.amazonaws.com generate data keys: IAM cannot grant a service principal that, and a
 * missing statement fails silently); and the Node Termination Handler reading that queue
 * (HelmRelease of the aws-node-termination-handler chart with enableSqsTerminationDraining).
 */

/**
 * EventBridge detail-types of the events that end an instance, by what they mean. Not rebalance
 * recommendations: NTH would drain on each, while capacity rebalance already replaces the
 * instance and drains it through the terminating hook (a double drain before the replacement).
 */
export const TERMINATION_EVENTS: Readonly<Record<string, string>> = {
  'ASG terminate lifecycle action': 'EC2 Instance-terminate Lifecycle Action',
  'spot interruption warning': 'EC2 Spot Instance Interruption Warning',
  'instance state change': 'EC2 Instance State-change Notification',
  'scheduled change (AWS Health)': 'AWS Health Event',
};

const NTH_CHART = 'aws-node-termination-handler';
const EVENTS = 'events.amazonaws.com';
const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';

export interface TerminationModel {
  /** Node ASGs (literal names) without a terminating lifecycle hook. */
  readonly asgsWithoutHook: readonly string[];
  readonly asgCount: number;
  /** Shortest terminating-hook heartbeat timeout (how long a drain may take). */
  readonly hookTimeoutSeconds: number | undefined;
  /** The queue the rules deliver to (its name), when one is found. */
  readonly queue: string | undefined;
  /** Event kinds (keys of TERMINATION_EVENTS) no rule sends to that queue. */
  readonly missingEvents: readonly string[];
  /** Why EventBridge cannot put messages into the queue, when it cannot. */
  readonly undeliverable: readonly string[];
  /** `HelmRelease/<ns>/<name>` of the handler in queue mode reading the queue, when present. */
  readonly handler: string | undefined;
  /** Why a handler HelmRelease found does not count (not queue mode, another queue). */
  readonly handlerProblems: readonly string[];
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const parse = (v: unknown): Json | undefined => {
  if (isObject(v)) return v;
  if (typeof v !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
};
const matchesAction = (pattern: unknown, action: string): boolean =>
  typeof pattern === 'string' && new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(action);

/** An unconditioned-or-conditioned Allow for `service` on `action` (conditions are the queue's own business: ha-check checks the principal). */
function allowsService(policy: Json | undefined, service: string, action: string): boolean {
  const statements = list(policy?.Statement).filter(isObject);
  const principalOk = (p: unknown) => p === '*' || (isObject(p) && (list(p.Service).includes(service) || list(p.AWS).includes('*')));
  const denied = statements.some((s) => s.Effect === 'Deny' && principalOk(s.Principal) && list(s.Action).some((a) => matchesAction(a, action)) && s.Condition === undefined);
  return !denied && statements.some((s) => s.Effect === 'Allow' && principalOk(s.Principal) && list(s.Action).some((a) => matchesAction(a, action)));
}

function asgHooked(index: TerraformIndex, asg: TfResource, hooks: readonly TfResource[]): LifecycleHookValues[] {
  const { name, initialHooks } = asgLifecycleValues(asg);
  const separate = hooks.filter((h) => {
    const v = lifecycleHookValues(h);
    if (v.transition !== TERMINATING) return false;
    const target = index.resolve(h, v.autoscalingGroup);
    return target ? target.address === asg.address : v.autoscalingGroup === name;
  });
  return [...separate.map(lifecycleHookValues), ...initialHooks.filter((h) => h.transition === TERMINATING)];
}

function handlerOf(objects: readonly K8sObject[], queue: string | undefined): { handler: string | undefined; problems: string[] } {
  const problems: string[] = [];
  const sourceUrl = (kind: unknown, name: unknown) => objects.find((o) => o.kind === kind && o.metadata?.name === name)?.spec;
  for (const release of objects.filter((o) => o.kind === 'HelmRelease')) {
    const spec = isObject(release.spec) ? release.spec : {};
    const chart = isObject(spec.chart) && isObject(spec.chart.spec) ? spec.chart.spec.chart : undefined;
    const ref = isObject(spec.chartRef) ? sourceUrl(spec.chartRef.kind, spec.chartRef.name) : undefined;
    const refUrl = isObject(ref) && typeof ref.url === 'string' ? ref.url : '';
    if (chart !== NTH_CHART && !refUrl.endsWith(`/${NTH_CHART}`)) continue;
    const id = `HelmRelease/${release.metadata?.namespace ?? 'default'}/${release.metadata?.name}`;
    const values = isObject(spec.values) ? spec.values : {};
    if (values.enableSqsTerminationDraining !== true) problems.push(`${id} is not in queue-processor mode (enableSqsTerminationDraining is not true): it watches IMDS on each node and completes no lifecycle hook`);
    else if (typeof values.queueURL !== 'string' || (queue !== undefined && !values.queueURL.endsWith(`/${queue}`))) problems.push(`${id} reads ${JSON.stringify(values.queueURL)}, not the queue the rules deliver to (${queue ?? 'none'})`);
    else return { handler: id, problems };
  }
  return { handler: undefined, problems };
}

export function terminationModel(index: TerraformIndex, objects: readonly K8sObject[]): TerminationModel {
  const asgs = index.byType('aws_autoscaling_group');
  const hooks = index.byType('aws_autoscaling_lifecycle_hook');
  const hooked = asgs.map((asg) => ({ asg, hooks: asgHooked(index, asg, hooks) }));
  const timeouts = hooked.flatMap((h) => h.hooks.map((x) => x.heartbeatTimeoutSeconds ?? 3600));

  // Queues by what the rules deliver to them.
  const delivered = new Map<string, { queue: TfResource; events: Set<string> }>();
  for (const target of index.byType('aws_cloudwatch_event_target')) {
    const t = eventTargetValues(target);
    const queue = index.resolve(target, t.target);
    // A reference in cdk.tf.json; in a plan the (known) rule name.
    const rule = index.resolve(target, t.rule) ?? index.byType('aws_cloudwatch_event_rule').find((r) => r.stack === target.stack && eventRuleValues(r).name === t.rule);
    if (!queue || queue.type !== 'aws_sqs_queue' || !rule) continue;
    const detailTypes = list(parse(eventRuleValues(rule).eventPattern)?.['detail-type']);
    const entry = delivered.get(queue.address) ?? { queue, events: new Set<string>() };
    for (const [event, detailType] of Object.entries(TERMINATION_EVENTS)) if (detailTypes.includes(detailType)) entry.events.add(event);
    delivered.set(queue.address, entry);
  }
  const best = [...delivered.values()].sort((a, b) => b.events.size - a.events.size)[0];
  const missingEvents = Object.keys(TERMINATION_EVENTS).filter((e) => !best?.events.has(e));

  const undeliverable: string[] = [];
  if (best) {
    const bestQueue = sqsQueueValues(best.queue);
    const queuePolicy = index.byType('aws_sqs_queue_policy').find((p) => index.resolve(p, attachedPolicyValues(p).target)?.address === best.queue.address);
    const policy = parse(queuePolicy ? attachedPolicyValues(queuePolicy).policy : undefined) ?? parse(bestQueue.policy);
    if (!allowsService(policy, EVENTS, 'sqs:SendMessage')) undeliverable.push(`the queue policy does not allow ${EVENTS} sqs:SendMessage`);
    const keyRef = bestQueue.kmsKey;
    if (keyRef !== undefined) {
      const key = index.resolve(best.queue, keyRef);
      const separatePolicy = key ? index.byType('aws_kms_key_policy').find((p) => index.resolve(p, attachedPolicyValues(p).target)?.address === key.address) : undefined;
      const keyPolicy = key ? (parse(kmsKeyValues(key).policy) ?? parse(separatePolicy ? attachedPolicyValues(separatePolicy).policy : undefined)) : undefined;
      if (!key) undeliverable.push(`the queue is encrypted with ${String(keyRef)} (an AWS managed or outside key): EventBridge cannot use aws/sqs, and another key's policy is not in this stack`);
      else if (!allowsService(keyPolicy, EVENTS, 'kms:GenerateDataKey')) undeliverable.push(`the queue's KMS key policy does not let ${EVENTS} use kms:GenerateDataKey (the default key policy admits only the account's IAM principals): every send fails`);
    }
  }
  const queueName = best ? sqsQueueValues(best.queue).name : undefined;
  const { handler, problems } = handlerOf(objects, queueName);
  return {
    asgsWithoutHook: hooked.filter((h) => h.hooks.length === 0).map((h) => String(asgLifecycleValues(h.asg).name ?? h.asg.address)),
    asgCount: asgs.length,
    hookTimeoutSeconds: timeouts.length ? Math.min(...timeouts) : undefined,
    queue: queueName,
    missingEvents,
    undeliverable,
    handler,
    handlerProblems: problems,
  };
}

export interface TerminationOutcome {
  readonly handled: boolean;
  /** What is missing for a graceful termination (empty when handled). */
  readonly gaps: readonly string[];
  /**
   * Seconds the pods of a node that goes without a drain stay lost: Kubernetes notices only
   * when the node stops reporting (node-monitor grace period), then evicts after the pods'
   * unreachable toleration (the workloads' longest, else the 300 s admission default).
   */
  readonly abruptPodRtoSeconds: number;
  /**
   * With handling: pods are evicted (PDBs respected) and replaced while the instance still runs,
   * so workloads with ≥ 2 replicas lose no serving capacity to it: 0 s, as long as the drain fits
   * the hook (or the 2-minute spot warning).
   */
  readonly handledPodRtoSeconds: number | undefined;
  readonly drainBudgetSeconds: number | undefined;
}

export function terminationAnalysis(model: TerminationModel, nodeMonitorGraceSeconds: number, unreachableTolerationSeconds: number, findings: Findings): TerminationOutcome {
  const gaps = [
    ...(model.asgCount > 0 && model.asgsWithoutHook.length > 0 ? [`no terminating lifecycle hook on ${model.asgsWithoutHook.join(', ')}`] : []),
    ...(model.queue === undefined ? ['no SQS queue receives termination events from EventBridge'] : []),
    ...(model.queue !== undefined && model.missingEvents.length > 0 ? [`no EventBridge rule sends ${model.missingEvents.join(', ')} events to ${model.queue}`] : []),
    ...model.undeliverable,
    ...(model.handler === undefined ? (model.handlerProblems.length > 0 ? model.handlerProblems : ['no Node Termination Handler in queue mode (HelmRelease of the aws-node-termination-handler chart) in the manifests']) : []),
  ];
  const abrupt = nodeMonitorGraceSeconds + unreachableTolerationSeconds;
  const handled = gaps.length === 0;
  const outcome: TerminationOutcome = {
    handled,
    gaps,
    abruptPodRtoSeconds: abrupt,
    handledPodRtoSeconds: handled ? 0 : undefined,
    drainBudgetSeconds: model.hookTimeoutSeconds,
  };
  // Present: the report's `termination` says so with both numbers; only a gap is a finding.
  if (!handled) {
    findings.add('termination.not-handled', 'node termination', `${gaps.join('; ')}: a terminated node's pods stay lost ${abrupt} s (node-monitor grace ${nodeMonitorGraceSeconds} s + unreachable toleration ${unreachableTolerationSeconds} s) and leave without respecting PDBs, where a drain would lose none (0 s for workloads with ≥ 2 replicas)`);
  }
  return outcome;
}
