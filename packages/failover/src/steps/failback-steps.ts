import { readFileSync, writeFileSync } from 'node:fs';
import { DATABASE_ARCHIVE_SERVER_NAMES, renderDatabaseArchives } from '@platform/platform-config';
import { gitArchiveFolder, type Workload } from '../database';
import { scaleAppsToZero } from '../private/apps';
import { takeBackup } from '../private/backup';
import { fluxSuspendArgs, resumeCommand } from '../private/flux';
import { CNPG_CLUSTERS, FLUX_KUSTOMIZATIONS, kube } from '../private/kube';
import { archiveRunId } from '../promotion-marker';
import type { Step, StepContext } from '../step';
import { changed } from './serving-state';

/**
 * Stops the apps on the standby so no write lands after the final backup. Users see errors
 * from here until the primary answers: fail-back is a planned, short outage.
 */
export class FenceStandbyApp implements Step {
  readonly name = 'fence-standby-app';
  readonly verifies = 'every standby app Deployment is scaled to 0 (the HPA does not scale up from 0)';

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    await scaleAppsToZero(ctx, ctx.standby, this.workload);
    ctx.note(`undo: kubectl --context ${ctx.standby.name} scale deployment -n <namespace> <name> --replicas=${ctx.standby.availabilityZones.length} for ${this.workload.apps.map((a) => `${a.namespace}/${a.name}`).join(', ')}`);
  }
}

/** A last base backup of the standby's database, which the primary restores from. */
export class FinalBackup implements Step {
  readonly name = 'final-backup';
  readonly verifies = 'a CNPG Backup of the standby database reaches phase completed';

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    await takeBackup(ctx, ctx.standby, this.workload, 'failback');
  }
}

/**
 * The restored primary archives under `<db>-<run id>`: Git must name it before Flux may apply
 * the primary's database again, and before a later promotion restores from the replica (else it
 * restores the folder that stopped growing at this fail-back). Writes the platform-config
 * module the region-failover workflow commits.
 */
export class RecordArchiveServerName implements Step {
  readonly name = 'record-archive-server-name';
  readonly verifies = "platform-config's database-archives.ts names the restored primary's archive server";

  constructor(
    private readonly workload: Workload,
    /**
     * The names to record. @default both `<db>-<run id>` of the run that restored the primary (the
     * standby's re-armed replica archives into a new, empty folder of its own bucket too: barman refuses a used one)
     */
    private readonly servers: (ctx: StepContext) => Promise<{ primary: string; standby: string }> = async (ctx) => {
      const name = `${this.workload.database}-${archiveRunId(ctx)}`;
      return { primary: name, standby: name };
    },
  ) {}

  async run(ctx: StepContext): Promise<void> {
    const servers = await this.servers(ctx);
    const file = ctx.options.archivesFile;
    const next = renderDatabaseArchives(readFileSync(file, 'utf8'), { ...DATABASE_ARCHIVE_SERVER_NAMES, [ctx.primary.name]: servers.primary, [ctx.standby.name]: servers.standby });
    const what = `${ctx.primary.name} → ${servers.primary} and ${ctx.standby.name} → ${servers.standby}`;
    if (ctx.cli.dryRun) return ctx.note(`dry run: would record ${what} in ${file}`);
    writeFileSync(file, next);
    changed(ctx, file);
    ctx.facts.archiveServers = servers;
    ctx.note(`${file}: ${what}; Flux stays suspended on both until the deploy-refs step's commit is live`);
  }
}

/**
 * Removes the standby's writable copy (it now lags the primary: keeping it invites split
 * brain) and resumes Flux, which puts back Git's pilot-light database. Git's copy archives
 * under its own server name in the standby's bucket; when that folder already holds the
 * pilot-light archive from before the promotion, barman refuses to archive into it, so Flux
 * stays suspended and the step says what to clean first.
 */
export class RetireStandbyDatabase implements Step {
  readonly name = 'retire-standby-database';
  readonly verifies =
    "the restored database is gone from the standby; the standby's Flux Kustomization is resumed, or left suspended with the reason when Git's copy would find its archive folder non-empty";

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    const { namespace, database } = this.workload;
    await ctx.cli.mutate('kubectl', kube(ctx.standby, 'delete', CNPG_CLUSTERS, database, '-n', namespace, '--ignore-not-found', '--wait=true', `--timeout=${ctx.options.timeouts.databaseSeconds}s`));
    const flux = ctx.options.fluxKustomization;
    const found = (await ctx.cli.read('kubectl', kube(ctx.standby, 'get', FLUX_KUSTOMIZATIONS, flux, '-n', 'flux-system', '--ignore-not-found', '-o', 'name'))).trim();
    if (!found) return;
    const archive = gitArchiveFolder(this.workload, ctx.namesOf(ctx.standby).appBackupBucket);
    const keys = await ctx.cli.readJson<string[] | null>('aws', [
      's3api',
      'list-objects-v2',
      '--region',
      ctx.standby.region,
      '--bucket',
      archive.bucket,
      '--prefix',
      archive.prefix,
      '--max-items',
      '1',
      '--query',
      'Contents[].Key',
      '--output',
      'json',
    ]);
    const resume = resumeCommand(ctx.standby, flux);
    if ((keys ?? []).length > 0) {
      ctx.note(
        `warning: Flux Kustomization ${flux} on ${ctx.standby.name} left suspended: s3://${archive.bucket}/${archive.prefix} holds the pilot-light archive from before the promotion, and Git's ${namespace}/${database} would refuse to archive into it. ` +
          `Check it holds nothing you need, then: aws s3 rm --recursive --region ${ctx.standby.region} s3://${archive.bucket}/${archive.prefix} && ${resume}`,
      );
      return;
    }
    await ctx.cli.mutate('kubectl', fluxSuspendArgs(ctx.standby, flux, false));
  }
}
