import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { finalBackupName, gitArchiveFolder, renderFinalBackup, type Workload } from '../database';
import { CNPG_BACKUPS, CNPG_CLUSTERS, FLUX_KUSTOMIZATIONS, kube } from '../private/kube';
import { StepError, type Step, type StepContext } from '../step';

/**
 * Stops the app on the standby so no write lands after the final backup. Users see errors
 * from here until the primary answers: fail-back is a planned, short outage.
 */
export class FenceStandbyApp implements Step {
  readonly name = 'fence-standby-app';
  readonly verifies = 'the standby app Deployment is scaled to 0 (the HPA does not scale up from 0)';

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    const { appNamespace: ns, deployment } = this.workload;
    await ctx.cli.mutate('kubectl', kube(ctx.standby, 'scale', 'deployment', deployment, '-n', ns, '--replicas=0'));
    ctx.note(`undo: kubectl --context ${ctx.standby.name} scale deployment ${deployment} -n ${ns} --replicas=${ctx.standby.availabilityZones.length}`);
  }
}

/** A last base backup of the standby's database, which the primary restores from. */
export class FinalBackup implements Step {
  readonly name = 'final-backup';
  readonly verifies = 'a CNPG Backup of the standby database reaches phase completed';

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    const file = join(ctx.options.outDir, `${ctx.standby.name}-${this.workload.database}-final-backup.yaml`);
    writeFileSync(file, stringify(renderFinalBackup(this.workload, ctx.options.runId)));
    await ctx.cli.mutate('kubectl', kube(ctx.standby, 'apply', '-f', file));
    if (ctx.cli.dryRun) return ctx.note('dry run: not waiting for the backup');
    const name = finalBackupName(this.workload, ctx.options.runId);
    await ctx.cli
      .read('kubectl', kube(ctx.standby, 'wait', `${CNPG_BACKUPS}/${name}`, '-n', this.workload.namespace, '--for=jsonpath={.status.phase}=completed', `--timeout=${ctx.options.timeouts.databaseSeconds}s`))
      .catch((error: Error) => {
        throw new StepError(`backup ${name} on ${ctx.standby.name} did not complete: ${error.message}`);
      });
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
    const resume = `kubectl --context ${ctx.standby.name} -n flux-system patch kustomization ${flux} --type merge -p '{"spec":{"suspend":false}}'`;
    if ((keys ?? []).length > 0) {
      ctx.note(
        `warning: Flux Kustomization ${flux} on ${ctx.standby.name} left suspended: s3://${archive.bucket}/${archive.prefix} holds the pilot-light archive from before the promotion, and Git's ${namespace}/${database} would refuse to archive into it. ` +
          `Check it holds nothing you need, then: aws s3 rm --recursive --region ${ctx.standby.region} s3://${archive.bucket}/${archive.prefix} && ${resume}`,
      );
      return;
    }
    await ctx.cli.mutate('kubectl', kube(ctx.standby, 'patch', FLUX_KUSTOMIZATIONS, flux, '-n', 'flux-system', '--type', 'merge', '-p', '{"spec":{"suspend":false}}'));
  }
}
