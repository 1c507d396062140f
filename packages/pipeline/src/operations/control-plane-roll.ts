import type { ClusterDefinition, ClusterNames } from '@platform/platform-config';

/*
 * Rolling the control plane onto a changed launch template, one etcd member at a time.
 *
 * Why not `instance_refresh` on the ASGs: the AWS provider (5.100.0) starts a refresh on every
 * ASG whose launch template changed during the apply and returns without waiting, and Terraform
 * updates independent resources in parallel, so the three per-AZ groups would replace their
 * nodes at once: etcd loses quorum. The ASGs therefore carry no refresh; after the apply this
 * roll starts one group's refresh, waits for it and for the new node to serve, then the next.
 */

export interface AsgInstance {
  readonly id: string;
  /** `Pending`, `Pending:Wait`, `InService`, `Terminating`, … */
  readonly lifecycleState: string;
  readonly healthStatus: string;
  /** The launch template version it was launched from. */
  readonly version: string | undefined;
}

export interface AsgState {
  readonly name: string;
  /** The launch template version the group launches now (Terraform sets it to the latest). */
  readonly version: string;
  readonly targetGroupArns: readonly string[];
  readonly instances: readonly AsgInstance[];
}

export interface RefreshState {
  /** Pending, InProgress, Successful, Failed, Cancelling, Cancelled, RollbackInProgress, RollbackFailed, RollbackSuccessful, Baking */
  readonly status: string;
  readonly reason?: string;
}

export interface RefreshPreferences {
  readonly MinHealthyPercentage: number;
  readonly MaxHealthyPercentage: number;
  readonly SkipMatching: boolean;
  readonly InstanceWarmup: number;
}

/** The Auto Scaling and ELB calls the roll makes, in the cluster's region. */
export interface AutoScalingApi {
  describeGroups(names: readonly string[]): Promise<readonly AsgState[]>;
  startInstanceRefresh(group: string, preferences: RefreshPreferences): Promise<string>;
  describeInstanceRefresh(group: string, id: string): Promise<RefreshState>;
  /** Target id → state (`initial`, `healthy`, `unhealthy`, `draining`, …) of one target group. */
  targetHealth(targetGroupArn: string): Promise<Readonly<Record<string, string>>>;
}

/**
 * Replace, never surge (min 0 %, max 100 % of one instance): the group's one node is replaced, its
 * AZ's etcd member is down while it rolls, and the order below keeps it the only one. AWS starts the
 * replacement while the old instance is still terminating (its terminating hook drains it); the
 * replacement's join removes the member of a `Terminating*` predecessor (node-bootstrap).
 * SkipMatching leaves a node already on the template alone.
 */
export const CONTROL_PLANE_REFRESH: RefreshPreferences = { MinHealthyPercentage: 0, MaxHealthyPercentage: 100, SkipMatching: true, InstanceWarmup: 60 };

const FAILED = new Set(['Failed', 'Cancelling', 'Cancelled', 'RollbackInProgress', 'RollbackFailed', 'RollbackSuccessful']);

/** The cluster's control-plane ASGs in roll order (the order ControlPlane creates them: AZ by AZ, round-robin). */
export function controlPlaneGroups(cluster: ClusterDefinition, names: ClusterNames): string[] {
  const zones = cluster.availabilityZones;
  return Array.from({ length: cluster.controlPlane.count }, (_, i) => names.controlPlaneAsg(zones[i % zones.length]!, Math.floor(i / zones.length)));
}

/** Why a group's member does not serve, or undefined when it does (one InService, healthy instance, healthy in every API target group). */
export async function memberProblem(api: AutoScalingApi, group: AsgState, version?: string): Promise<string | undefined> {
  const live = group.instances.filter((i) => i.lifecycleState !== 'Terminated');
  if (live.length !== 1) return `${live.length} instances (${live.map((i) => `${i.id} ${i.lifecycleState}`).join(', ') || 'none'}); expected 1`;
  const [node] = live as [AsgInstance];
  if (node.lifecycleState !== 'InService' || node.healthStatus !== 'Healthy') return `${node.id} is ${node.lifecycleState}/${node.healthStatus}; expected InService/Healthy`;
  if (version !== undefined && node.version !== version) return `${node.id} runs launch template version ${node.version}; expected ${version}`;
  for (const arn of group.targetGroupArns) {
    const state = (await api.targetHealth(arn))[node.id];
    // The API target groups check /readyz, which fails while the node's API server cannot reach etcd.
    if (state !== 'healthy') return `${node.id} is ${state ?? 'not registered'} in ${arn}; expected healthy (/readyz)`;
  }
  return undefined;
}

export interface RollOptions {
  readonly groups: readonly string[];
  readonly api: AutoScalingApi;
  /** @default 15000 */
  readonly pollMs?: number;
  /** Per group. @default 45 min (terminating hook 2 min + launch + launching hook up to 15 min + warmup) */
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

export interface RollResult {
  readonly rolled: readonly string[];
  readonly current: readonly string[];
  /** Groups not rolled because another member did not serve (an AZ down): the next apply rolls them. */
  readonly deferred: readonly string[];
  /** Why the roll was deferred, when it was. */
  readonly deferredBecause?: string;
}

/**
 * Rolls each group whose node runs an older launch template version, strictly one after another:
 * before a group starts, every other member must serve (else the rest is deferred, not failed);
 * after it, its new node must serve before the next starts. Throws (leaving the rest alone) on a
 * failed refresh or a new node that never serves.
 */
export async function rollControlPlane(options: RollOptions): Promise<RollResult> {
  const { api, groups } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 15_000;
  const timeoutMs = options.timeoutMs ?? 45 * 60_000;
  const log = options.log ?? (() => {});
  const rolled: string[] = [];
  const current: string[] = [];
  const describe = async (name: string) => {
    const found = (await api.describeGroups([name]))[0];
    if (!found) throw new Error(`${name}: no such Auto Scaling group`);
    return found;
  };

  for (const [index, name] of groups.entries()) {
    const group = await describe(name);
    // Current when every instance not yet gone runs the group's version; a group whose AZ is down
    // (no instance) is current too: whatever it launches next comes from the latest template.
    if (group.instances.filter((i) => i.lifecycleState !== 'Terminated').every((i) => i.version === group.version)) {
      current.push(name);
      continue;
    }
    for (const other of await api.describeGroups(groups.filter((g) => g !== name))) {
      const problem = await memberProblem(api, other);
      // Rolling now would take a second etcd member down. Not a failed apply: the templates are
      // applied, new nodes boot from them, and the next apply (or a run by hand) rolls the rest.
      if (problem) {
        const because = `${other.name} ${problem}; rolling ${name} now would take a second etcd member down`;
        log(`deferred: ${because}`);
        return { rolled, current, deferred: groups.slice(index), deferredBecause: because };
      }
    }
    const id = await api.startInstanceRefresh(name, CONTROL_PLANE_REFRESH);
    log(`${name}: instance refresh ${id} started (launch template version ${group.version})`);
    const deadline = now() + timeoutMs;
    for (;;) {
      const refresh = await api.describeInstanceRefresh(name, id);
      if (FAILED.has(refresh.status)) throw new Error(`${name}: instance refresh ${id} ${refresh.status}${refresh.reason ? `: ${refresh.reason}` : ''}; stopped before the next AZ`);
      const problem = refresh.status === 'Successful' ? await memberProblem(api, await describe(name), group.version) : `refresh ${refresh.status}`;
      if (!problem) break;
      if (now() > deadline) throw new Error(`${name}: not serving after ${Math.round(timeoutMs / 60_000)} min (${problem}); stopped before the next AZ`);
      await sleep(pollMs);
    }
    log(`${name}: new node serving (InService, healthy behind the API load balancers)`);
    rolled.push(name);
  }
  return { rolled, current, deferred: [] };
}
