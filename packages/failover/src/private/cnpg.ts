import type { ClusterDefinition } from '@platform/platform-config';
import type { BarmanStore, Workload } from '../database';
import { StepError, type StepContext } from '../step';
import { CNPG_CLUSTERS, kube } from './kube';
import { pollUntil } from './poll';
import { isReplicaSpec, type ReplicaSpec } from './topology';

/** `status.phase` of a CloudNativePG Cluster whose instances all run as the spec says (apiv1.PhaseHealthy). */
export const CNPG_HEALTHY_PHASE = 'Cluster in healthy state';

/** The parts of a live CloudNativePG Cluster the tool reads. */
export interface LiveCluster {
  readonly metadata?: { readonly name?: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly replica?: ReplicaSpec;
    readonly externalClusters?: readonly { readonly name: string; readonly barmanObjectStore?: BarmanStore }[];
    readonly backup?: { readonly barmanObjectStore?: BarmanStore };
  };
  readonly status?: {
    readonly phase?: string;
    readonly currentPrimary?: string;
    readonly targetPrimary?: string;
    readonly timelineID?: number;
    /** When the current primary was promoted (RFC 3339): the start of its timeline. */
    readonly currentPrimaryTimestamp?: string;
    readonly readyInstances?: number;
    readonly instances?: number;
    /** Written after a demotion, once the shutdown checkpoint is archived (distributed topology). */
    readonly demotionToken?: string;
    /** The promotion token a promotion last used (distributed topology). */
    readonly lastPromotionToken?: string;
  };
}

export async function liveCluster(ctx: StepContext, cluster: Pick<ClusterDefinition, 'name'>, workload: Pick<Workload, 'namespace' | 'database'>): Promise<LiveCluster> {
  return ctx.cli.readJson<LiveCluster>('kubectl', kube(cluster, 'get', CNPG_CLUSTERS, workload.database, '-n', workload.namespace, '-o', 'json'));
}

/**
 * One query on an instance through its `postgres` container's local socket (what `kubectl cnpg
 * psql` does): unaligned, tuples only, `|` between columns. Needs `pods/exec` create.
 */
export async function psql(ctx: StepContext, cluster: Pick<ClusterDefinition, 'name'>, namespace: string, pod: string, query: string): Promise<string[]> {
  const out = await ctx.cli.read('kubectl', kube(cluster, 'exec', '-n', namespace, pod, '-c', 'postgres', '--', 'psql', '-XAtq', '-d', 'postgres', '-c', query)).catch((error: Error) => {
    throw new StepError(`query on ${cluster.name} ${namespace}/${pod} failed: ${error.message}`);
  });
  return out.trim().split('|');
}

/** `pg_is_in_recovery()` on `pod`: true while it replays WAL (a replica, or a promotion not finished). */
export async function inRecovery(ctx: StepContext, cluster: Pick<ClusterDefinition, 'name'>, namespace: string, pod: string): Promise<boolean> {
  const [value] = await psql(ctx, cluster, namespace, pod, 'SELECT pg_is_in_recovery()');
  if (value !== 't' && value !== 'f') throw new StepError(`pg_is_in_recovery() on ${cluster.name} ${namespace}/${pod} printed ${JSON.stringify(value)}; expected t or f`);
  return value === 't';
}

/** What is still missing for `live` to be a settled cluster with the given replica setting, or nothing. */
export function unsettled(live: LiveCluster, replica: boolean): string[] {
  const s = live.status ?? {};
  const missing: string[] = [];
  if (isReplicaSpec(live.metadata?.name ?? '', live.spec?.replica) !== replica) missing.push(`spec.replica ${JSON.stringify(live.spec?.replica ?? {})} makes it ${replica ? 'a primary' : 'a replica'}`);
  if (!s.currentPrimary) missing.push('no status.currentPrimary');
  else if (s.targetPrimary && s.targetPrimary !== s.currentPrimary) missing.push(`status.targetPrimary ${s.targetPrimary} ≠ currentPrimary ${s.currentPrimary}`);
  if (s.phase !== CNPG_HEALTHY_PHASE) missing.push(`phase ${JSON.stringify(s.phase ?? '(none)')}`);
  return missing;
}

/**
 * Polls until CloudNativePG reports the cluster settled the way `replica` says: the spec applied,
 * `status.currentPrimary` set (and equal to `targetPrimary`), phase healthy, and its primary
 * (the designated primary of a replica cluster) in recovery exactly when `replica`. A cluster
 * that was Ready before a change stays Ready for a while after it, so neither the Ready
 * condition nor `kubectl wait` proves the change took effect. Returns the primary's pod.
 */
export async function waitSettled(ctx: StepContext, cluster: Pick<ClusterDefinition, 'name'>, workload: Pick<Workload, 'namespace' | 'database'>, replica: boolean): Promise<string> {
  const { namespace, database } = workload;
  let primary = '';
  const role = replica ? 'replaying (a replica cluster)' : 'promoted (writable)';
  await pollUntil(ctx, `${namespace}/${database} on ${cluster.name} to be ${role}`, ctx.options.timeouts.databaseSeconds, async () => {
    const live = await liveCluster(ctx, cluster, workload);
    const missing = unsettled(live, replica);
    primary = live.status?.currentPrimary ?? '';
    if (missing.length === 0 && (await inRecovery(ctx, cluster, namespace, primary)) !== replica) {
      missing.push(`${primary}: pg_is_in_recovery() is ${replica ? 'f' : 't'}`);
    }
    return { done: missing.length === 0, status: missing.length === 0 ? `${primary} ${role}, ${CNPG_HEALTHY_PHASE}` : missing.join('; ') };
  });
  return primary;
}
