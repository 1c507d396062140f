import { FAILOVER_FIELD_MANAGER } from '@platform/platform-config';
import type { Workload } from '../database';
import { scaleAppsToZero } from '../private/apps';
import { takeBackup } from '../private/backup';
import { resumeCommand, setFluxSuspended } from '../private/flux';
import { CNPG_CLUSTERS, kube } from '../private/kube';
import type { Step, StepContext } from '../step';
import { assertStandbyStillServes } from '../promotion-marker';

/** CloudNativePG's declarative hibernation: pods stop, PVCs (the data) stay. */
export const HIBERNATION_ANNOTATION = 'cnpg.io/hibernation';

async function databaseExists(ctx: StepContext, workload: Workload): Promise<boolean> {
  return (await ctx.cli.read('kubectl', kube(ctx.primary, 'get', CNPG_CLUSTERS, workload.database, '-n', workload.namespace, '--ignore-not-found', '-o', 'name'))).trim() !== '';
}

/**
 * A primary that returns while the standby serves comes back writable; clients with cached DNS
 * or pooled connections would write to it. First its Flux apps layer is suspended (so nothing
 * scales the apps back) and every app Deployment scaled to zero, both under
 * FAILOVER_FIELD_MANAGER, which kustomize-controller does not take over. Git sets no replicas
 * (the HPA owns them) and an HPA does not scale a Deployment at zero.
 */
export class FencePrimaryApps implements Step {
  readonly name = 'fence-primary-apps';
  readonly verifies = "the primary's Flux apps layer is suspended and every app Deployment has 0 replicas, under a field manager Flux does not take over";

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    if (await setFluxSuspended(ctx, ctx.primary, true)) ctx.note(`Flux ${ctx.options.fluxKustomization} suspended on ${ctx.primary.name}; fail-back leaves it so until Git names the restored archive (${resumeCommand(ctx.primary, ctx.options.fluxKustomization)})`);
    await scaleAppsToZero(ctx, ctx.primary, this.workload);
  }
}

/** The returned primary's database, split-brain writes included, backed up before anything may replace it. */
export class BackupReturnedPrimary implements Step {
  readonly name = 'backup-primary-database';
  readonly verifies = "a CNPG Backup (purpose fenced) of the returned primary's database completed, or it has no database";

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    await assertStandbyStillServes(ctx);
    if (!(await databaseExists(ctx, this.workload))) return ctx.note(`${ctx.primary.name} has no ${this.workload.namespace}/${this.workload.database}: nothing to back up`);
    const { name } = await takeBackup(ctx, ctx.primary, this.workload, 'fenced');
    ctx.note(`backup ${name} holds everything ${ctx.primary.name}'s database had when fenced, in its archive ${ctx.namesOf(ctx.primary).appDatabaseStore.bucket} (${ctx.namesOf(ctx.primary).appDatabaseStore.region}, where its spec.backup writes)`);
  }
}

/** Then the database stops (hibernation keeps its volumes): nothing can write to it any more. */
export class HibernatePrimaryDatabase implements Step {
  readonly name = 'hibernate-primary-database';
  readonly verifies = `the returned primary's CNPG Cluster carries ${HIBERNATION_ANNOTATION}=on (instances stopped, volumes kept)`;

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    await assertStandbyStillServes(ctx);
    if (!(await databaseExists(ctx, this.workload))) return ctx.note('no database to hibernate');
    const { namespace, database } = this.workload;
    await ctx.cli.mutate('kubectl', kube(ctx.primary, 'annotate', CNPG_CLUSTERS, database, '-n', namespace, `${HIBERNATION_ANNOTATION}=on`, '--overwrite', `--field-manager=${FAILOVER_FIELD_MANAGER}`));
  }
}
