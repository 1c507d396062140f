import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BACKUP_PURPOSE_LABEL, renderRecoveryCluster, type RecoverySource, type Workload } from '../database';
import { resumeCommand, setFluxSuspended } from '../private/flux';
import { toSecond } from '../promotion-marker';
import { CNPG_BACKUPS, CNPG_CLUSTERS, kube, type Side } from '../private/kube';
import { StepError, type Step, type StepContext } from '../step';

export interface RestoreDatabaseProps {
  readonly side: Side;
  readonly workload: Workload;
  /** Where the base backup and WAL come from; resolved when the step runs. */
  readonly source: (ctx: StepContext) => Promise<RecoverySource>;
  /**
   * Replace an existing cluster only when a completed `fenced` Backup of it exists (a returned
   * primary holds writes nobody else has). @default false (the pilot light's copy holds nothing)
   */
  readonly requireFencedBackup?: boolean;
}

interface BackupList {
  items: { metadata: { name: string }; spec?: { cluster?: { name?: string } }; status?: { phase?: string; stoppedAt?: string } }[];
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
      if (this.props.requireFencedBackup) await this.assertFencedBackup(ctx);
      if (await setFluxSuspended(ctx, target, true)) {
        ctx.note(`Flux Kustomization ${ctx.options.fluxKustomization} on ${target.name} suspended (field manager survives Flux syncs); resume once Git matches the restored cluster: ${resumeCommand(target, ctx.options.fluxKustomization)}`);
      }
      await ctx.cli.mutate('kubectl', kube(target, 'delete', CNPG_CLUSTERS, workload.database, '-n', workload.namespace, '--wait=true', `--timeout=${ctx.options.timeouts.databaseSeconds}s`));
    }

    const manifest = renderRecoveryCluster({
      workload,
      source,
      target: { bucket: ctx.namesOf(target).appBackupBucket, region: target.region, serverName: `${workload.database}-${ctx.options.runId}` },
      runId: ctx.options.runId,
    });
    const file = join(ctx.options.outDir, `${target.name}-${workload.database}-recovery.yaml`);
    writeFileSync(file, manifest.map((o) => `---\n${stringify(o)}`).join(''));
    ctx.note(`rendered ${file}; new backups go to server ${workload.database}-${ctx.options.runId} in ${ctx.namesOf(target).appBackupBucket}`);
    await ctx.cli.mutate('kubectl', kube(target, 'apply', '-f', file));
    if (ctx.cli.dryRun) return ctx.note('dry run: not waiting for the restore');
    await ctx.cli.read('kubectl', kube(target, 'wait', `${CNPG_CLUSTERS}/${workload.database}`, '-n', workload.namespace, '--for=condition=Ready', `--timeout=${ctx.options.timeouts.databaseSeconds}s`)).catch((error: Error) => {
      throw new StepError(`${db} on ${target.name} did not become Ready: ${error.message}`);
    });
  }

  /**
   * Fail-back deletes a returned primary's database only after `failover fence` backed it up:
   * a completed `fenced` Backup of this very cluster (spec.cluster.name, in its namespace) that
   * finished after the standby started serving. An older one (an earlier incident's) misses the
   * writes made to the primary since then.
   */
  private async assertFencedBackup(ctx: StepContext): Promise<void> {
    const { workload } = this.props;
    const target = ctx[this.props.side];
    const promotion = ctx.facts.promotion;
    if (!promotion) throw new StepError('the promotion time is not known; the preflight step must run first');
    const since = promotion.since.getTime();
    const backups = await ctx.cli.readJson<BackupList>('kubectl', kube(target, 'get', CNPG_BACKUPS, '-n', workload.namespace, '-l', `${BACKUP_PURPOSE_LABEL}=fenced`, '-o', 'json'));
    const why = (b: BackupList['items'][number]): string | undefined => {
      if (b.spec?.cluster?.name !== workload.database) return `of cluster ${b.spec?.cluster?.name ?? '(none)'}`;
      if (b.status?.phase !== 'completed') return `phase ${b.status?.phase ?? '(none)'}`;
      const stopped = Date.parse(b.status.stoppedAt ?? '');
      if (!Number.isFinite(stopped)) return 'no status.stoppedAt';
      if (stopped <= since) return `completed ${b.status.stoppedAt}, before the promotion`;
      return undefined;
    };
    const done = backups.items.filter((b) => why(b) === undefined);
    if (done.length === 0) {
      const seen = backups.items.map((b) => `${b.metadata.name} (${why(b)})`).join(', ') || 'none';
      throw new StepError(
        `${target.name}'s ${workload.namespace}/${workload.database} has no fenced backup completed after ${ctx.standby.name} started serving at ${toSecond(promotion.since)} (run ${promotion.runId}); found: ${seen}. ` +
          `It may hold writes made after the promotion. Run: npm run failover -- fence --primary ${ctx.primary.name}`,
      );
    }
    ctx.note(`fenced backup(s) of ${target.name}'s database newer than the promotion: ${done.map((b) => `${b.metadata.name} (${b.status?.stoppedAt})`).join(', ')}`);
  }
}
