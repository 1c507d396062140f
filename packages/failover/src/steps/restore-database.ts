import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { renderRecoveryCluster, type RecoverySource, type Workload } from '../database';
import { resumeCommand, setFluxSuspended } from '../private/flux';
import { assertFencedBackup } from '../private/fenced-backup';
import { CNPG_CLUSTERS, kube, type Side } from '../private/kube';
import { StepError, type Step, type StepContext } from '../step';

export interface RestoreDatabaseProps {
  readonly side: Side;
  readonly workload: Workload;
  /** The target cluster's database as its own manifests define it (its AWS identity is the target's). */
  readonly targetWorkload: Workload;
  /** Where the base backup and WAL come from; resolved when the step runs. */
  readonly source: (ctx: StepContext) => Promise<RecoverySource>;
  /**
   * Replace an existing cluster only when a completed `fenced` Backup of it exists (a returned
   * primary holds writes nobody else has). @default false (the pilot light's copy holds nothing)
   */
  readonly requireFencedBackup?: boolean;
}

/**
 * Creates the PostgreSQL cluster on the target from object-store backups (CNPG recovery
 * bootstrap), replacing a same-named cluster only with --replace-database: the pilot-light
 * standby runs an empty initdb copy from Git, the old primary a stale one. Before replacing,
 * the Flux Kustomization that applies it is suspended, or Flux would re-apply Git's initdb
 * spec over the restored cluster.
 */
export class RestoreDatabase implements Step {
  readonly name = 'restore-database';
  readonly verifies = 'the restored CNPG Cluster reports condition Ready (all instances up, primary elected)';

  constructor(private readonly props: RestoreDatabaseProps) {}

  async run(ctx: StepContext): Promise<void> {
    const { workload } = this.props;
    const target = ctx[this.props.side];
    const db = `${workload.namespace}/${workload.database}`;
    if (workload.origin === 'defaults') ctx.note(`no CNPG Cluster in the generated manifests; using default names ${db}`);
    const source = await this.props.source(ctx);
    ctx.note(`source: ${source.destinationPath} server ${source.serverName} (${source.region})`);

    const existing = (await ctx.cli.read('kubectl', kube(target, 'get', CNPG_CLUSTERS, workload.database, '-n', workload.namespace, '--ignore-not-found', '-o', 'name'))).trim();
    if (existing && !ctx.options.replaceDatabase) {
      throw new StepError(
        `${target.name} already runs PostgreSQL cluster ${db}; the restore replaces it. Check it holds nothing you need, then re-run with --replace-database`,
      );
    }
    if (existing) {
      // The fail-back preflight checked this before any change; checked again right before the delete.
      if (this.props.requireFencedBackup) ctx.note(await assertFencedBackup(ctx, target, workload, `Run: npm run failover -- fence --primary ${ctx.primary.name}`));
      if (await setFluxSuspended(ctx, target, true)) {
        ctx.note(`Flux Kustomization ${ctx.options.fluxKustomization} on ${target.name} suspended (field manager survives Flux syncs); resume once Git matches the restored cluster: ${resumeCommand(target, ctx.options.fluxKustomization)}`);
      }
      await ctx.cli.mutate('kubectl', kube(target, 'delete', CNPG_CLUSTERS, workload.database, '-n', workload.namespace, '--wait=true', `--timeout=${ctx.options.timeouts.databaseSeconds}s`));
    }

    const manifest = renderRecoveryCluster({
      workload,
      source,
      target: { archive: ctx.namesOf(target).appDatabaseStore, serverName: `${workload.database}-${ctx.options.runId}` },
      targetWorkload: this.props.targetWorkload,
      runId: ctx.options.runId,
    });
    const file = join(ctx.options.outDir, `${target.name}-${workload.database}-recovery.yaml`);
    writeFileSync(file, manifest.map((o) => `---\n${stringify(o)}`).join(''));
    ctx.note(`rendered ${file}; new backups go to server ${workload.database}-${ctx.options.runId} in ${ctx.namesOf(target).appDatabaseStore.bucket} (${ctx.namesOf(target).appDatabaseStore.region})`);
    await ctx.cli.mutate('kubectl', kube(target, 'apply', '-f', file));
    if (ctx.cli.dryRun) return ctx.note('dry run: not waiting for the restore');
    await ctx.cli.read('kubectl', kube(target, 'wait', `${CNPG_CLUSTERS}/${workload.database}`, '-n', workload.namespace, '--for=condition=Ready', `--timeout=${ctx.options.timeouts.databaseSeconds}s`)).catch((error: Error) => {
      throw new StepError(`${db} on ${target.name} did not become Ready: ${error.message}`);
    });
  }
}
