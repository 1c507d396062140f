import { FAILOVER_FIELD_MANAGER } from '@platform/platform-config';
import type { Workload } from '../database';
import { resumeCommand, setFluxSuspended } from '../private/flux';
import { liveCluster, waitSettled } from '../private/cnpg';
import { CNPG_CLUSTERS, kube } from '../private/kube';
import { StepError, type Step, type StepContext } from '../step';

/**
 * The standby's database is a CloudNativePG replica cluster (k8s-addons renders it so from
 * Git): it has been replaying the primary's replicated archive all along, so promotion is
 * `spec.replica.enabled: false` — seconds plus the last WAL — instead of a restore. Flux `apps`
 * is suspended first (Git says `enabled: true`, and a forced apply would take the field back
 * whatever its manager). The promoted database archives under a new server name, `<db>-<run
 * id>`, so fail-back restores from a folder holding only the promoted timeline and its final
 * backup, and the replica's folder can be cleared afterwards without losing them.
 */
export class PromoteReplica implements Step {
  readonly name = 'promote-database';
  readonly verifies =
    "the standby's replica cluster has spec.replica.enabled false (field manager platform-failover); CNPG reports status.currentPrimary and phase healthy, and that instance answers pg_is_in_recovery() = f";

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    const { namespace, database } = this.workload;
    const target = ctx.standby;
    const live = await liveCluster(ctx, target, this.workload).catch((error: Error) => {
      throw new StepError(`${target.name} has no replica cluster ${namespace}/${database} to promote: ${error.message}`);
    });
    if (await setFluxSuspended(ctx, target, true)) ctx.note(`Flux ${ctx.options.fluxKustomization} on ${target.name} suspended until fail-back (${resumeCommand(target, ctx.options.fluxKustomization)})`);
    const serverName = `${database}-${ctx.options.runId}`;
    if (live.spec?.replica?.enabled === false) {
      ctx.note(`${namespace}/${database} on ${target.name} is already promoted (archives under ${live.spec.backup?.barmanObjectStore?.serverName ?? database})`);
    } else {
      const patch = { spec: { replica: { enabled: false }, backup: { barmanObjectStore: { serverName } } } };
      await ctx.cli.mutate('kubectl', kube(target, 'patch', CNPG_CLUSTERS, database, '-n', namespace, '--type', 'merge', '-p', JSON.stringify(patch), `--field-manager=${FAILOVER_FIELD_MANAGER}`));
      ctx.note(`${namespace}/${database} on ${target.name} promoted; new backups go to server ${serverName} in ${ctx.namesOf(target).appBackupBucket}`);
    }
    if (ctx.cli.dryRun) return ctx.note('dry run: not waiting for the promotion');
    const primary = await waitSettled(ctx, target, this.workload, false);
    ctx.note(`${namespace}/${database} on ${target.name}: ${primary} is primary and accepts writes`);
  }
}

/** Whether Git runs the standby's database as a replica cluster (`spec.replica.enabled`). */
export function isReplicaCluster(standbyDatabase: Pick<Workload, 'databaseSpec'>): boolean {
  return (standbyDatabase.databaseSpec.replica as { enabled?: boolean } | undefined)?.enabled === true;
}
