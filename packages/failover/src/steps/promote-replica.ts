import { FAILOVER_FIELD_MANAGER } from '@platform/platform-config';
import type { Workload } from '../database';
import { resumeCommand, setFluxSuspended } from '../private/flux';
import { liveCluster, waitSettled } from '../private/cnpg';
import { CNPG_CLUSTERS, kube } from '../private/kube';
import { isDistributed, isReplicaSpec, topologyName, type ReplicaSpec } from '../private/topology';
import { StepError, type Step, type StepContext } from '../step';

/**
 * The standby's database is a CloudNativePG replica cluster (k8s-addons renders it so from
 * Git): it has been replaying the primary's replicated archive all along, so promotion is
 * `spec.replica.primary: <itself>` in Git's distributed topology (`spec.replica.enabled: false` for
 * the standalone form) — seconds plus the last WAL — instead of a restore. Flux `apps`
 * is suspended first (Git says `enabled: true`, and a forced apply would take the field back
 * whatever its manager). The promoted database archives under a new server name, `<db>-<run
 * id>`, so fail-back restores from a folder holding only the promoted timeline and its final
 * backup, and the replica's folder can be cleared afterwards without losing them.
 */
export class PromoteReplica implements Step {
  readonly name = 'promote-database';
  readonly verifies =
    "the standby's replica cluster is made primary (spec.replica.primary = itself, or enabled false; field manager platform-failover); CNPG reports status.currentPrimary and phase healthy, and that instance answers pg_is_in_recovery() = f";

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    const { namespace, database } = this.workload;
    const target = ctx.standby;
    const live = await liveCluster(ctx, target, this.workload).catch((error: Error) => {
      throw new StepError(`${target.name} has no replica cluster ${namespace}/${database} to promote: ${error.message}`);
    });
    if (await setFluxSuspended(ctx, target, true)) ctx.note(`Flux ${ctx.options.fluxKustomization} on ${target.name} suspended until fail-back (${resumeCommand(target, ctx.options.fluxKustomization)})`);
    const serverName = `${database}-${ctx.options.runId}`;
    const replica = live.spec?.replica;
    if (!isReplicaSpec(live.metadata?.name ?? database, replica)) {
      ctx.note(`${namespace}/${database} on ${target.name} is already promoted (archives under ${live.spec?.backup?.barmanObjectStore?.serverName ?? database})`);
    } else {
      // The primary's region is lost: no demotion token can exist, so this is the documented
      // failover (promote at what was replayed); archive-freshness bounded what that loses.
      const self = topologyName(live.metadata?.name ?? database, replica);
      const promotion = isDistributed(replica) ? { primary: self } : { enabled: false };
      const patch = { spec: { replica: promotion, backup: { barmanObjectStore: { serverName } } } };
      await ctx.cli.mutate('kubectl', kube(target, 'patch', CNPG_CLUSTERS, database, '-n', namespace, '--type', 'merge', '-p', JSON.stringify(patch), `--field-manager=${FAILOVER_FIELD_MANAGER}`));
      ctx.note(`${namespace}/${database} on ${target.name} promoted (${isDistributed(replica) ? `spec.replica.primary: ${self}, no promotion token: ${ctx.primary.name} cannot be demoted` : 'spec.replica.enabled: false'}); new backups go to server ${serverName} in ${ctx.namesOf(target).appDatabaseStore.bucket}`);
    }
    if (ctx.cli.dryRun) return ctx.note('dry run: not waiting for the promotion');
    const primary = await waitSettled(ctx, target, this.workload, false);
    ctx.note(`${namespace}/${database} on ${target.name}: ${primary} is primary and accepts writes`);
  }
}

/**
 * Whether Git runs the standby's database as a replica cluster: the standalone form
 * (`spec.replica.enabled: true`) or a distributed topology (`spec.replica.primary`, whichever
 * cluster Git says serves now).
 */
export function isReplicaCluster(standbyDatabase: Pick<Workload, 'databaseSpec'>): boolean {
  const replica = standbyDatabase.databaseSpec.replica as ReplicaSpec | undefined;
  return replica?.enabled === true || isDistributed(replica);
}
