import type { ClusterDefinition } from '@platform/platform-config';
import { BACKUP_PURPOSE_LABEL, type Workload } from '../database';
import { toSecond } from '../promotion-marker';
import { StepError, type StepContext } from '../step';
import { CNPG_BACKUPS, kube } from './kube';

interface BackupList {
  items: { metadata: { name: string }; spec?: { cluster?: { name?: string } }; status?: { phase?: string; stoppedAt?: string } }[];
}

/**
 * Fail-back deletes a returned primary's database only after `failover fence` backed it up: a
 * completed `fenced` Backup of this very cluster (spec.cluster.name, in its namespace) that
 * finished after the standby started serving. An older one (an earlier incident's) misses the
 * writes made to the primary since then. Throws naming what was found and `advice`; returns the
 * note listing the usable backups.
 */
export async function assertFencedBackup(ctx: StepContext, target: ClusterDefinition, workload: Workload, advice: string): Promise<string> {
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
        `It may hold writes made after the promotion. ${advice}`,
    );
  }
  return `fenced backup(s) of ${target.name}'s database newer than the promotion: ${done.map((b) => `${b.metadata.name} (${b.status?.stoppedAt})`).join(', ')}`;
}
