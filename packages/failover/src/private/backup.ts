import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterDefinition } from '@platform/platform-config';
import { stringify } from 'yaml';
import { backupName, renderBackup, type BackupPurpose, type Workload } from '../database';
import { StepError, type StepContext } from '../step';
import { CNPG_BACKUPS, kube } from './kube';
import { pollUntil } from './poll';

/** The parts of a CloudNativePG Backup's status the tool reads. */
export interface BackupStatus {
  readonly phase?: string;
  readonly backupId?: string;
  readonly stoppedAt?: string;
  readonly error?: string;
}

export interface TakenBackup {
  /** The Backup object's name. */
  readonly name: string;
  /** barman's backup id (`status.backupId`), what a recovery names; undefined in a dry run. */
  readonly backupId?: string;
  readonly stoppedAt?: string;
}

/**
 * Applies an on-demand CNPG Backup of `cluster`'s database and polls it until `status.phase`
 * is `completed` (CNPG's BackupPhaseCompleted); `failed` is final and stops at once, with
 * CNPG's `status.error`.
 */
export async function takeBackup(ctx: StepContext, cluster: ClusterDefinition, workload: Workload, purpose: BackupPurpose): Promise<TakenBackup> {
  const name = backupName(workload, purpose, ctx.options.runId);
  const file = join(ctx.options.outDir, `${cluster.name}-${name}.yaml`);
  writeFileSync(file, stringify(renderBackup(workload, purpose, ctx.options.runId)));
  await ctx.cli.mutate('kubectl', kube(cluster, 'apply', '-f', file));
  if (ctx.cli.dryRun) {
    ctx.note(`dry run: not waiting for backup ${name}`);
    return { name };
  }
  let status: BackupStatus = {};
  await pollUntil(ctx, `backup ${name} on ${cluster.name} to complete`, ctx.options.timeouts.databaseSeconds, async () => {
    status = (await ctx.cli.readJson<{ status?: BackupStatus }>('kubectl', kube(cluster, 'get', `${CNPG_BACKUPS}/${name}`, '-n', workload.namespace, '-o', 'json'))).status ?? {};
    if (status.phase === 'failed') throw new StepError(`backup ${name} on ${cluster.name} failed: ${status.error ?? '(no status.error)'}`);
    return { done: status.phase === 'completed', status: `phase ${status.phase ?? '(none yet)'}` };
  }).catch((error: Error) => {
    throw new StepError(error.message.startsWith(`backup ${name}`) ? error.message : `backup ${name} on ${cluster.name} did not complete: ${error.message}`);
  });
  return { name, backupId: status.backupId, stoppedAt: status.stoppedAt };
}
