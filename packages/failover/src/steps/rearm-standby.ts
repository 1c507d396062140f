import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAILOVER_FIELD_MANAGER, UNPROMOTED_HEALTH_CHECK_PATH } from '@platform/platform-config';
import { stringify } from 'yaml';
import type { Workload } from '../database';
import { inRecovery, liveCluster, waitSettled } from '../private/cnpg';
import { CNPG_CLUSTERS, kube } from '../private/kube';
import { isReplicaSpec } from '../private/topology';
import { archiveRunId, readPromotedMarker } from '../promotion-marker';
import { StepError, type Step, type StepContext } from '../step';
import { isReplicaCluster } from './promote-replica';

type Obj = Record<string, unknown>;

/**
 * The standby's replica cluster as Git defines it, following the primary's archive under
 * `primaryServer` and archiving under `standbyServer`: exactly what k8s-addons renders once
 * database-archives.ts names both (record-archive-server-name), so resuming Flux after the
 * commit changes nothing.
 */
export function renderRearmedReplica(standbyDatabase: Workload, primaryServer: string, standbyServer: string, runId: string, primary: string): Obj {
  const spec = structuredClone(standbyDatabase.databaseSpec) as Obj & { replica?: { source?: string; self?: string; primary?: string }; externalClusters?: { name: string; barmanObjectStore?: Obj }[]; backup?: { barmanObjectStore?: Obj } };
  const source = spec.replica?.source;
  const external = spec.externalClusters?.find((e) => e.name === source);
  if (!external?.barmanObjectStore) throw new StepError(`Git's ${standbyDatabase.namespace}/${standbyDatabase.database} names no object store for spec.replica.source ${JSON.stringify(source)}`);
  external.barmanObjectStore.serverName = primaryServer;
  if (spec.backup?.barmanObjectStore) spec.backup.barmanObjectStore.serverName = standbyServer;
  // Distributed topology: a replica of the primary, whatever Git's serving state said while promoted; its own entry names its new archive.
  if (spec.replica?.primary !== undefined) spec.replica.primary = primary;
  const own = spec.externalClusters?.find((e) => e.name === spec.replica?.self);
  if (own?.barmanObjectStore) own.barmanObjectStore.serverName = standbyServer;
  return {
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    metadata: { name: standbyDatabase.database, namespace: standbyDatabase.namespace, labels: { 'app.kubernetes.io/managed-by': 'platform-failover', 'failover.platform.io/run': runId } },
    spec,
  };
}

/**
 * After fail-back the standby must be a standby again: its promoted database (backed up by
 * final-backup) is replaced by Git's replica cluster, pointed at the restored primary's new
 * server name, and the step waits until CloudNativePG reports it replaying (designated primary
 * in recovery, phase healthy). Until then a second regional outage would find no standby. The
 * bootstrap needs the primary's first base backup under that name in the primary's archive
 * (base-backup writes it there directly: appWalArchive, the primary's bucket in the standby's region).
 */
export class RearmStandby implements Step {
  readonly name = 'rearm-standby';
  readonly verifies =
    "the standby's database is Git's replica cluster again (a replica of the primary, its external cluster on the primary's new server name), phase healthy and its designated primary replaying (pg_is_in_recovery() = t)";

  constructor(
    private readonly workload: Workload,
    private readonly standbyDatabase: Workload,
  ) {}

  async run(ctx: StepContext): Promise<void> {
    const { namespace, database } = this.standbyDatabase;
    const serverName = `${this.workload.database}-${archiveRunId(ctx)}`;
    const manifest = renderRearmedReplica(this.standbyDatabase, serverName, serverName, ctx.options.runId, ctx.primary.name);
    const file = join(ctx.options.outDir, `${ctx.standby.name}-${database}-replica.yaml`);
    writeFileSync(file, stringify(manifest));
    await ctx.cli.mutate('kubectl', kube(ctx.standby, 'delete', CNPG_CLUSTERS, database, '-n', namespace, '--ignore-not-found', '--wait=true', `--timeout=${ctx.options.timeouts.databaseSeconds}s`));
    await ctx.cli.mutate('kubectl', kube(ctx.standby, 'apply', '--server-side', `--field-manager=${FAILOVER_FIELD_MANAGER}`, '-f', file));
    if (ctx.cli.dryRun) return ctx.note(`dry run: not waiting for the replica (${file})`);
    const pod = await waitSettled(ctx, ctx.standby, this.standbyDatabase, true);
    ctx.note(`${namespace}/${database} on ${ctx.standby.name} replays ${ctx.primary.name}'s archive under server ${serverName} (designated primary ${pod})`);
  }
}

/**
 * The last check of a fail-back: the standby is back in its pilot-light state as a whole — its
 * Route 53 check probes UNPROMOTED_HEALTH_CHECK_PATH again (so the SECONDARY never answers
 * before a promotion), its promoted marker is gone (both stacks may be applied), and its
 * database is a replica in recovery.
 */
export class VerifyPilotLight implements Step {
  readonly name = 'verify-pilot-light';
  readonly verifies = `the standby's health check probes ${UNPROMOTED_HEALTH_CHECK_PATH}, its promoted marker is gone and its database replays (pg_is_in_recovery() = t)`;

  constructor(private readonly standbyDatabase: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    const problems: string[] = [];
    const id = ctx.facts.secondaryHealthCheckId;
    if (!id) throw new StepError('no SECONDARY health check known; the preflight step must run first');
    const check = await ctx.cli.readJson<{ HealthCheck?: { HealthCheckConfig?: { ResourcePath?: string } } }>('aws', ['route53', 'get-health-check', '--health-check-id', id, '--output', 'json']);
    const path = check.HealthCheck?.HealthCheckConfig?.ResourcePath;
    if (path !== UNPROMOTED_HEALTH_CHECK_PATH) problems.push(`health check ${id} probes ${JSON.stringify(path)}, not ${UNPROMOTED_HEALTH_CHECK_PATH}`);
    const marker = await readPromotedMarker(ctx);
    if (!ctx.cli.dryRun && marker !== undefined) problems.push(`${ctx.namesOf(ctx.standby).ssm.promotedMarker} still exists (${JSON.stringify(marker)})`);
    if (isReplicaCluster(this.standbyDatabase) && !ctx.cli.dryRun) {
      const live = await liveCluster(ctx, ctx.standby, this.standbyDatabase);
      const pod = live.status?.currentPrimary;
      if (!isReplicaSpec(live.metadata?.name ?? this.standbyDatabase.database, live.spec?.replica) || !pod || !(await inRecovery(ctx, ctx.standby, this.standbyDatabase.namespace, pod))) {
        problems.push(`${this.standbyDatabase.namespace}/${this.standbyDatabase.database} is not a replica in recovery`);
      }
    }
    if (problems.length > 0 && ctx.cli.dryRun) return ctx.note(`dry run: ${ctx.standby.name} is not back to pilot light yet (nothing was changed): ${problems.join('; ')}`);
    if (problems.length > 0) throw new StepError(`${ctx.standby.name} is not back to pilot light: ${problems.join('; ')}`);
    ctx.note(`${ctx.standby.name}: check ${id} on ${UNPROMOTED_HEALTH_CHECK_PATH}, no promoted marker, database replaying: ready for the next promotion`);
  }
}
