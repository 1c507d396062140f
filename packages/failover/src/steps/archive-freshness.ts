import { S3_REPLICATION_BOUND_SECONDS, WAL_ARCHIVE_TIMEOUT_SECONDS } from '@platform/platform-config';
import { gitArchiveFolder, type Workload } from '../database';
import { StepError, type Step, type StepContext } from '../step';

interface S3Object {
  readonly Key: string;
  readonly LastModified: string;
}

/** Seconds after which the replica's newest WAL means writes are missing: archive timeout + replication bound. */
export const ARCHIVE_STALE_AFTER_SECONDS = WAL_ARCHIVE_TIMEOUT_SECONDS + S3_REPLICATION_BOUND_SECONDS;

/** `2026-01-01T12:00:00Z`: what the refusal prints and --accept-data-loss-after must repeat. */
const toSecond = (date: Date) => date.toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Before anything changes, the archive the promotion will restore (Git's server name, in the
 * primary's replica bucket) must be current: its newest WAL object at most archive_timeout plus
 * the replication bound old. A primary archives at least every archive_timeout, so an older
 * newest segment means the folder stopped growing (a server name left behind by a fail-back, or
 * replication broken) and CloudNativePG would replay to its end, report Ready and silently drop
 * everything after. --accept-data-loss-after <that time> promotes anyway, stating the loss.
 */
export class ArchiveFreshness implements Step {
  readonly name = 'archive-freshness';
  readonly verifies = `the newest WAL object under Git's archive server name in the replica bucket is at most ${ARCHIVE_STALE_AFTER_SECONDS} s old (archive timeout + replication bound), or the operator accepted the loss after it`;

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    const bucket = ctx.namesOf(ctx.primary).appBackupReplicaBucket;
    if (!bucket) throw new StepError(`${ctx.primary.name} has no backups.replicaRegion, so there is no replica to restore from`);
    const folder = gitArchiveFolder(this.workload, bucket);
    const prefix = `${folder.prefix}wals/`;
    const listed = await ctx.cli.readJson<{ Contents?: S3Object[] } | null>('aws', ['s3api', 'list-objects-v2', '--region', ctx.standby.region, '--bucket', bucket, '--prefix', prefix, '--output', 'json']);
    const objects = listed?.Contents ?? [];
    if (objects.length === 0) {
      throw new StepError(`s3://${bucket}/${prefix} holds no WAL: Git's server name for ${this.workload.namespace}/${this.workload.database} does not match what ${ctx.primary.name} archives under (or replication never ran); nothing to restore`);
    }
    const newest = objects.reduce((a, b) => (Date.parse(b.LastModified) > Date.parse(a.LastModified) ? b : a));
    const at = new Date(Date.parse(newest.LastModified));
    const age = Math.round((ctx.clock().getTime() - at.getTime()) / 1000);
    const where = `newest WAL s3://${bucket}/${newest.Key} written ${toSecond(at)} (${age} s ago)`;
    if (age <= ARCHIVE_STALE_AFTER_SECONDS) return ctx.note(`${where}: within ${ARCHIVE_STALE_AFTER_SECONDS} s; expected data loss ≤ ${age + WAL_ARCHIVE_TIMEOUT_SECONDS} s of writes`);
    const accepted = ctx.options.acceptDataLossAfter;
    if (accepted === toSecond(at)) {
      return ctx.note(`warning: ${where} is older than ${ARCHIVE_STALE_AFTER_SECONDS} s; promoting anyway (--accept-data-loss-after ${accepted}): every write to ${ctx.primary.name} after ${accepted} is lost`);
    }
    throw new StepError(
      `${where} is older than ${ARCHIVE_STALE_AFTER_SECONDS} s (archive timeout ${WAL_ARCHIVE_TIMEOUT_SECONDS} s + replication bound ${S3_REPLICATION_BOUND_SECONDS} s): ` +
        `${ctx.primary.name} archives at least every ${WAL_ARCHIVE_TIMEOUT_SECONDS} s, so this folder stopped growing and a restore would drop every write after ${toSecond(at)}. ` +
        `Check Git's serverName and the bucket replication; to promote anyway, losing those writes, re-run with --accept-data-loss-after ${toSecond(at)}` +
        (accepted ? ` (got ${accepted})` : ''),
    );
  }
}
