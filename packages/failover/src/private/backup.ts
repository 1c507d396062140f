import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterDefinition } from '@platform/platform-config';
import { stringify } from 'yaml';
import { backupName, renderBackup, type BackupPurpose, type Workload } from '../database';
import { StepError, type StepContext } from '../step';
import { CNPG_BACKUPS, kube } from './kube';

/** Applies an on-demand CNPG Backup of `cluster`'s database and waits until it completed. */
export async function takeBackup(ctx: StepContext, cluster: ClusterDefinition, workload: Workload, purpose: BackupPurpose): Promise<string> {
  const name = backupName(workload, purpose, ctx.options.runId);
  const file = join(ctx.options.outDir, `${cluster.name}-${name}.yaml`);
  writeFileSync(file, stringify(renderBackup(workload, purpose, ctx.options.runId)));
  await ctx.cli.mutate('kubectl', kube(cluster, 'apply', '-f', file));
  if (ctx.cli.dryRun) {
    ctx.note(`dry run: not waiting for backup ${name}`);
    return name;
  }
  await ctx.cli
    .read('kubectl', kube(cluster, 'wait', `${CNPG_BACKUPS}/${name}`, '-n', workload.namespace, '--for=jsonpath={.status.phase}=completed', `--timeout=${ctx.options.timeouts.databaseSeconds}s`))
    .catch((error: Error) => {
      throw new StepError(`backup ${name} on ${cluster.name} did not complete: ${error.message}`);
    });
  return name;
}
