import { REGIONAL_RPO_SECONDS, WAL_ARCHIVE_TIMEOUT_SECONDS, type ClusterDefinition } from '@platform/platform-config';
import { gitArchiveFolder, type Workload } from '../database';
import { liveCluster, psql, type LiveCluster } from '../private/cnpg';
import { listObjects, splitS3Path, type S3Object } from '../private/s3';
import { replayableChain, type Chain, type TimelineSwitch } from '../private/wal-chain';
import { after, parseWalKey, segmentOfLsn, walKey, type WalFile } from '../private/wal';
import { parseServesMarker, promotedMarkerValue, readPromotedMarker, standbyServes, toSecond } from '../promotion-marker';
import { resumeCommand } from '../private/flux';
import { CNPG_CLUSTERS } from '../private/kube';
import { StepError, type Step, type StepContext } from '../step';
import { isReplicaCluster } from './promote-replica';

/**
 * Seconds after which the archive's newest WAL is too old to promote without the operator's
 * consent: the primary's regional RPO objective (the loss the pair accepted), else
 * REGIONAL_RPO_SECONDS (what the archive holds: archive timeout + archiver bound, no replication).
 * Not the design bound when an objective is declared: the age read here runs on past the
 * primary's death (detection, the run's start), so it bounds the loss from above, and 120 s would
 * refuse nearly every real failover; the design bound is DatabaseWalArchiveLate's, before the loss.
 */
export function archiveStaleAfterSeconds(primary: ClusterDefinition): number {
  return primary.objectives.regionRpoSeconds ?? REGIONAL_RPO_SECONDS;
}

const limitText = (primary: ClusterDefinition) =>
  `${archiveStaleAfterSeconds(primary)} s (${primary.objectives.regionRpoSeconds === undefined ? `the regional RPO the archive holds, REGIONAL_RPO_SECONDS: ${primary.name} declares no objectives.regionRpoSeconds` : `${primary.name}'s regional RPO objective`})`;

interface Wal {
  readonly object: S3Object;
  readonly file: WalFile;
}

const segments = (objects: readonly S3Object[]): Wal[] =>
  objects.flatMap((object) => {
    const file = parseWalKey(object.Key);
    return file?.kind === 'segment' ? [{ object, file }] : [];
  });

const newestOf = (wals: readonly Wal[]): Wal | undefined => wals.reduce<Wal | undefined>((a, b) => (!a || after(b.file, a.file) ? b : a), undefined);

/** The archive a replica cluster replays: its `spec.replica.source` external cluster's object store. */
function replicaArchive(live: LiveCluster): { bucket: string; folder: string; serverName: string } | undefined {
  const source = live.spec?.replica?.source;
  const store = live.spec?.externalClusters?.find((e) => e.name === source)?.barmanObjectStore;
  if (!source || !store) return undefined;
  // CloudNativePG: an external cluster's serverName defaults to its name.
  const serverName = store.serverName ?? source;
  const { bucket, prefix } = splitS3Path(store.destinationPath);
  return { bucket, folder: `${prefix}${serverName}/`, serverName };
}

/**
 * Before anything changes, the data the standby will serve must be current. dr's database is
 * a CloudNativePG replica cluster replaying the primary's replicated archive, so the gate reads
 * where the replica is (its designated primary's `pg_last_wal_replay_lsn()`, as a segment
 * name) and lists only what the archive holds after it (ListObjectsV2 StartAfter), in the
 * folder the live cluster follows (its external cluster's serverName, checked against Git):
 *
 * - nothing archived after the replayed segment: the replica has everything the archive has,
 *   fresh however old that segment is (an idle primary switches no segment);
 * - segments after it: contiguous from the replayed one as PostgreSQL replays them
 *   (replayableChain: a gap ends replay and the promotion there, however fresh what lies
 *   beyond), and the newest of them at most archiveStaleAfterSeconds old (the replica replays
 *   them before it promotes), else the archive stopped growing;
 * - another server folder beside it holding WAL written after the replayed segment: the
 *   primary archives there now (a fail-back's new server name Git does not carry yet).
 *
 * A standby running an ordinary cluster (restore path) has no replay point: its newest
 * segment, found in the last `wals/<timeline+log>/` directory, must be fresh.
 * --accept-data-loss-after <the printed time> promotes anyway, stating the loss.
 */
export class ArchiveFreshness implements Step {
  readonly name = 'archive-freshness';
  readonly verifies = `the replica replayed the newest WAL segment archived in the folder it follows (any age), or the segments after it are contiguous (no gap the replica stops at) and the newest is at most the primary's regional RPO objective old (default REGIONAL_RPO_SECONDS, ${REGIONAL_RPO_SECONDS} s); no newer folder beside it; or the operator accepted the loss after the printed time`;

  constructor(
    private readonly workload: Workload,
    private readonly standbyDatabase: Workload,
  ) {}

  async run(ctx: StepContext): Promise<void> {
    const bucket = ctx.namesOf(ctx.primary).appBackupReplicaBucket;
    if (!bucket) throw new StepError(`${ctx.primary.name} has no backups.replicaRegion, so there is no replica to restore from`);
    const git = gitArchiveFolder(this.workload, bucket);
    if (!isReplicaCluster(this.standbyDatabase)) return this.newestSegment(ctx, git.bucket, git.prefix);
    const live = await liveCluster(ctx, ctx.standby, this.standbyDatabase).catch((error: Error) => {
      throw new StepError(`${ctx.standby.name} has no replica cluster ${this.standbyDatabase.namespace}/${this.standbyDatabase.database}: ${error.message}`);
    });
    const archive = replicaArchive(live);
    if (!archive) throw new StepError(`${ctx.standby.name}'s ${this.standbyDatabase.namespace}/${this.standbyDatabase.database} names no object store for spec.replica.source ${JSON.stringify(live.spec?.replica?.source)}`);
    if (archive.bucket !== git.bucket || archive.folder !== git.prefix) {
      ctx.note(`warning: the live replica follows s3://${archive.bucket}/${archive.folder}, Git names s3://${git.bucket}/${git.prefix}; judging what the replica really replays`);
    }
    const pod = live.status?.currentPrimary;
    if (!pod) throw new StepError(`${ctx.standby.name}'s ${this.standbyDatabase.namespace}/${this.standbyDatabase.database} has no status.currentPrimary: the replica is not running`);
    const [recovering, lsn, timeline, segmentBytes] = await psql(
      ctx,
      ctx.standby,
      this.standbyDatabase.namespace,
      pod,
      "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), timeline_id, (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') FROM pg_control_checkpoint()",
    );
    if (recovering === 'f') return this.promotedByThisRun(ctx, pod);
    if (!lsn) throw new StepError(`${pod} has replayed no WAL yet (pg_last_wal_replay_lsn() is null): the replica is still bootstrapping`);
    const replayed = segmentOfLsn(lsn, Number(timeline), Number(segmentBytes));
    await this.fromReplayPoint(ctx, archive, pod, lsn, replayed, Number(segmentBytes));
  }

  /**
   * A standby that is not in recovery is writable. Only this run's own promotion (a re-run: the
   * marker says this run promotes, drills or serves) may make it so; any other writable standby
   * (a drill's, a promotion by hand, an older run's) has diverged from the primary, and nothing
   * says how fresh its data is: refused.
   */
  private async promotedByThisRun(ctx: StepContext, pod: string): Promise<void> {
    const value = await readPromotedMarker(ctx);
    const { runId } = ctx.options;
    const { standby, primary } = ctx;
    const ours = value !== undefined && (value === promotedMarkerValue('promoting', runId, standby.name, primary.name) || (ctx.options.drill && value === promotedMarkerValue('drill', runId, standby.name, primary.name)) || (standbyServes(value) && parseServesMarker(value)?.runId === runId));
    const marker = ctx.namesOf(standby).ssm.promotedMarker;
    if (ours) return ctx.note(`${pod} is not in recovery: ${marker} = ${JSON.stringify(value)}, this run's own promotion (a re-run); nothing to judge`);
    const other = value === undefined ? undefined : new RegExp(`^run ([a-z0-9-]+): ${standby.name} promoting for `).exec(value)?.[1];
    const db = `${this.standbyDatabase.namespace}/${this.standbyDatabase.database}`;
    throw new StepError(
      `${pod} is not in recovery: ${standby.name}'s ${db} is writable, but ${marker} ${value === undefined ? 'does not exist' : `= ${JSON.stringify(value)}`}, so run ${runId} did not promote it. ` +
        `A writable standby no longer replays ${primary.name}'s archive (a drill, a promotion by hand, an older run): how fresh its data is cannot be judged, and it may hold writes ${primary.name} never had. ` +
        `${other && other !== runId ? `If run ${other} is the interrupted promotion, re-run it: --run-id ${other}. Otherwise r` : 'R'}e-arm it as a replica of ${primary.name} before promoting: kubectl --context ${standby.name} -n ${this.standbyDatabase.namespace} delete ${CNPG_CLUSTERS} ${this.standbyDatabase.database}, then resume Flux (${resumeCommand(standby, ctx.options.fluxKustomization)}) so it re-creates Git's replica cluster`,
    );
  }

  private async fromReplayPoint(ctx: StepContext, archive: { bucket: string; folder: string; serverName: string }, pod: string, lsn: string, replayed: string, segmentBytes: number): Promise<void> {
    const region = ctx.standby.region;
    const startAfter = walKey(archive.folder, replayed);
    const listed = await listObjects(ctx, { region, bucket: archive.bucket, prefix: `${archive.folder}wals/`, startAfter });
    const mine = parseWalKey(replayed)!;
    const wals = segments(listed.contents);
    // StartAfter the bare name keeps the replayed segment's own (compressed) object: it says when it was written.
    const current = wals.find((w) => w.file.name === replayed);
    const pending = wals.filter((w) => after(w.file, mine));
    const where = `${pod} replayed up to ${lsn} (segment ${replayed})`;
    if (pending.length === 0 && !current) {
      throw new StepError(
        `s3://${archive.bucket}/${archive.folder}wals/ holds neither the segment ${pod} replayed last (${replayed}) nor any after it: the folder the tool reads is not the one the replica bootstrapped from; nothing to judge freshness by`,
      );
    }
    if (pending.length === 0) {
      const written = current ? ` written ${toSecond(new Date(current.object.LastModified))}` : '';
      const siblings = await this.newerFolders(ctx, archive, replayed, current);
      if (siblings.length === 0) {
        return ctx.note(
          `${where}${written}, the newest segment in s3://${archive.bucket}/${archive.folder}wals/: the replica has everything archived (an idle primary archives nothing new). Expected loss: what ${ctx.primary.name} wrote after that segment and did not archive or replicate, ≤ ${archiveStaleAfterSeconds(ctx.primary)} s`,
        );
      }
      const at = current ? new Date(current.object.LastModified) : new Date(0);
      return this.staleOrAccepted(
        ctx,
        at,
        `${where}, the newest segment under server ${archive.serverName}, but ${siblings.map((s) => `s3://${archive.bucket}/${s.object.Key} (written ${toSecond(new Date(s.object.LastModified))})`).join(', ')} is newer: ${ctx.primary.name} archives under another server name now, which the replica does not follow`,
      );
    }
    const chain = replayableChain({ replayed: mine, replayLsn: lsn, segmentBytes, pending, histories: this.histories(listed.contents, mine.timeline) });
    if (chain.missing !== undefined || chain.notFollowed !== undefined) return this.gap(ctx, archive, where, current, chain);
    const newest = chain.contiguous[chain.contiguous.length - 1]!;
    const at = new Date(newest.object.LastModified);
    const age = Math.round((ctx.clock().getTime() - at.getTime()) / 1000);
    const lag = `${where}; ${chain.contiguous.length} newer segment(s) archived, the newest s3://${archive.bucket}/${newest.object.Key} written ${toSecond(at)} (${age} s ago)`;
    if (age <= archiveStaleAfterSeconds(ctx.primary)) return ctx.note(`${lag}: within ${limitText(ctx.primary)}, the replica replays them before it promotes; expected data loss ≤ ${age + WAL_ARCHIVE_TIMEOUT_SECONDS} s of writes`);
    return this.staleOrAccepted(ctx, at, `${lag}, older than ${limitText(ctx.primary)} while the replica has not caught up: the archive stopped growing`);
  }

  /**
   * The timelines newer than the replica's whose `<timeline>.history` the archive holds, with no
   * switch the replica would follow. A standby looks for a newer timeline only at startup or after
   * a restore failed, and a promotion ends recovery at the first failed restore, before any such
   * look (PostgreSQL's WaitForWALToBecomeAvailable): a replica still behind on its timeline replays
   * that timeline past the fork and promotes there, so the newer timeline's writes are lost. The
   * gate therefore never counts a newer timeline as reachable (and reads no object's contents:
   * the failover role lists WAL folders, it never reads WAL or history data).
   */
  private histories(objects: readonly S3Object[], timeline: number): Map<number, TimelineSwitch[]> {
    const timelines = new Set(objects.flatMap((o) => { const f = parseWalKey(o.Key); return f?.kind === 'history' ? [f.timeline] : []; }));
    const found = new Map<number, TimelineSwitch[]>();
    for (let tli = timeline + 1; timelines.has(tli); tli++) found.set(tli, []);
    return found;
  }

  /**
   * Segments lie beyond one the replica needs and the archive lacks: PostgreSQL replays an
   * archive only as far as it is continuous (restore_command fails for the next segment, replay
   * stops; a promotion promotes there), so every write after the last contiguous segment is lost
   * however fresh the later ones are. Causes: segments uploaded in parallel (wal.maxParallel)
   * when the region died, or an in-region failover that lost the old primary's unarchived
   * segments (the new primary marks the streamed copies .done and never archives them).
   */
  private gap(ctx: StepContext, archive: { bucket: string; folder: string }, where: string, current: Wal | undefined, chain: Chain<Wal>): void {
    const last = chain.contiguous[chain.contiguous.length - 1] ?? current;
    const at = last ? new Date(last.object.LastModified) : new Date(0);
    const beyond = newestOf(chain.unreachable);
    const lastText = last ? `${last.file.name} (written ${toSecond(at)})` : 'the replayed segment (not in the archive)';
    const notFollowed =
      chain.notFollowed !== undefined
        ? `timeline ${chain.notFollowed} (its history file is archived) is not followed: a standby switches timelines only at startup or after a restore failed, and a promotion ends recovery first`
        : undefined;
    const lacks =
      chain.missing !== undefined
        ? `s3://${archive.bucket}/${archive.folder}wals/ lacks ${chain.missing}, the next file it needs${notFollowed ? ` on timeline ${chain.timeline}; ${notFollowed}` : ''}`
        : notFollowed!;
    this.staleOrAccepted(
      ctx,
      at,
      `${where}; ${lacks}, while ${chain.unreachable.length} later segment(s) are archived${beyond ? ` (newest s3://${archive.bucket}/${beyond.object.Key}, written ${toSecond(new Date(beyond.object.LastModified))})` : ''}: PostgreSQL replays an archive only as far as it is continuous, so the replica stops after ${lastText} and would promote there`,
      [
        ...(chain.missing !== undefined ? [`If ${ctx.primary.name}'s pg_wal or archive can still be read, upload ${chain.missing} to the folder and re-run`] : []),
        ...(chain.notFollowed !== undefined ? [`${chain.missing !== undefined ? 'or w' : 'W'}ait until the replica replays onto timeline ${chain.notFollowed} (it switches once it has restored every segment it can on its own timeline), then re-run`] : []),
      ].join('; '),
    );
  }

  /**
   * Other server folders beside the followed one, holding segments at or beyond the replayed
   * position written after it: one StartAfter-bounded listing per folder (a handful: one per
   * fail-back).
   */
  private async newerFolders(ctx: StepContext, archive: { bucket: string; folder: string }, replayed: string, current: Wal | undefined): Promise<Wal[]> {
    const parent = archive.folder.replace(/[^/]+\/$/, '');
    const region = ctx.standby.region;
    const { prefixes } = await listObjects(ctx, { region, bucket: archive.bucket, prefix: parent, delimiter: '/' });
    const since = current ? Date.parse(current.object.LastModified) : 0;
    const found: Wal[] = [];
    for (const folder of prefixes.filter((p) => p !== archive.folder)) {
      const listed = await listObjects(ctx, { region, bucket: archive.bucket, prefix: `${folder}wals/`, startAfter: walKey(folder, replayed) });
      const newest = newestOf(segments(listed.contents).filter((w) => Date.parse(w.object.LastModified) > since));
      if (newest) found.push(newest);
    }
    return found;
  }

  /** Restore path: the newest segment is in the lexically last `wals/<timeline><log>/` directory. */
  private async newestSegment(ctx: StepContext, bucket: string, folder: string): Promise<void> {
    const region = ctx.standby.region;
    const dirs = (await listObjects(ctx, { region, bucket, prefix: `${folder}wals/`, delimiter: '/' })).prefixes.filter((p) => /\/[0-9A-F]{16}\/$/.test(p)).sort();
    const last = dirs[dirs.length - 1];
    const newest = last ? newestOf(segments((await listObjects(ctx, { region, bucket, prefix: last })).contents)) : undefined;
    if (!newest) {
      throw new StepError(
        `s3://${bucket}/${folder}wals/ holds no WAL: Git's server name for ${this.workload.namespace}/${this.workload.database} does not match what ${ctx.primary.name} archives under (or replication never ran); nothing to restore`,
      );
    }
    const at = new Date(newest.object.LastModified);
    const age = Math.round((ctx.clock().getTime() - at.getTime()) / 1000);
    const where = `newest WAL s3://${bucket}/${newest.object.Key} written ${toSecond(at)} (${age} s ago)`;
    if (age <= archiveStaleAfterSeconds(ctx.primary)) return ctx.note(`${where}: within ${limitText(ctx.primary)}; expected data loss ≤ ${age + WAL_ARCHIVE_TIMEOUT_SECONDS} s of writes`);
    return this.staleOrAccepted(
      ctx,
      at,
      `${where} is older than ${limitText(ctx.primary)}: ${ctx.primary.name} archives at least every ${WAL_ARCHIVE_TIMEOUT_SECONDS} s while it writes, so this folder stopped growing and a restore would drop every write after ${toSecond(at)}`,
    );
  }

  private staleOrAccepted(ctx: StepContext, at: Date, why: string, remedy = "Check Git's serverName and the bucket replication"): void {
    const accepted = ctx.options.acceptDataLossAfter;
    if (accepted === toSecond(at)) {
      return ctx.note(`warning: ${why}; promoting anyway (--accept-data-loss-after ${accepted}): every write to ${ctx.primary.name} after ${accepted} is lost`);
    }
    throw new StepError(`${why}. ${remedy}; to promote anyway, losing every write after ${toSecond(at)}, re-run with --accept-data-loss-after ${toSecond(at)}${accepted ? ` (got ${accepted})` : ''}`);
  }
}
