import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAILOVER_FIELD_MANAGER, type ClusterDefinition } from '@platform/platform-config';
import { stringify } from 'yaml';
import { renderBootstrapRelease, renderRecoveryCluster, s3Endpoint, type RecoverySource, type Workload } from '../database';
import { liveCluster, psql, waitSettled, type LiveCluster } from '../private/cnpg';
import { assertFencedBackup } from '../private/fenced-backup';
import { resumeCommand, setFluxSuspended } from '../private/flux';
import { CNPG_CLUSTERS, kube } from '../private/kube';
import { pollUntil } from '../private/poll';
import { decodeDemotionToken, isReplicaSpec, topologyName } from '../private/topology';
import { lsnValue } from '../private/wal';
import { StepError, type Step, type StepContext } from '../step';

const patchArgs = (patch: unknown) => ['--type', 'merge', '-p', JSON.stringify(patch), `--field-manager=${FAILOVER_FIELD_MANAGER}`];

/** Whether `live` is a replica following `primary` in the distributed topology. */
const followsPrimary = (live: LiveCluster, database: string, primary: string) => isReplicaSpec(live.metadata?.name ?? database, live.spec?.replica) && live.spec?.replica?.primary === primary;

/**
 * Fail-back, first database change: the returned primary's database (diverged since the
 * promotion, backed up by the fence) is replaced by a replica of the standby's archive in a
 * distributed topology (`replica.self` = the primary, `primary` = the standby, `source` = the
 * standby's archive read cross-region from its own bucket, no replication lag). It catches up
 * while the standby keeps serving: users see nothing until the switchover. The new cluster
 * archives under `<db>-<run id>` (barman refuses a used folder). A re-run finds it already
 * following the standby and keeps it.
 */
export class RebuildPrimaryAsReplica implements Step {
  readonly name = 'rebuild-primary-replica';
  readonly verifies =
    "the primary's database is a replica of the standby's archive (spec.replica.primary = the standby; an existing database deleted only after its fenced backup was found), phase healthy, its designated primary replaying (pg_is_in_recovery() = t)";

  constructor(
    private readonly workload: Workload,
    /** The standby's live archive (read when the step runs). */
    private readonly source: (ctx: StepContext) => Promise<RecoverySource>,
  ) {}

  async run(ctx: StepContext): Promise<void> {
    const { namespace, database } = this.workload;
    const target = ctx.primary;
    const db = `${namespace}/${database}`;
    const found = (await ctx.cli.read('kubectl', kube(target, 'get', CNPG_CLUSTERS, database, '-n', namespace, '--ignore-not-found', '-o', 'json'))).trim();
    const live = found ? (JSON.parse(found) as LiveCluster) : undefined;
    if (live && (await this.promotedBySwitchover(ctx, live))) {
      // A re-run after promote-primary's patch (promoting or promoted) but before its checkpoint: this is the database users write to next.
      return ctx.note(`${db} on ${target.name} is promoted, or promoting, with ${ctx.standby.name}'s current demotion token: the switchover is under way, nothing rebuilt`);
    }
    if (live && followsPrimary(live, database, ctx.standby.name)) {
      ctx.note(`${db} on ${target.name} already replicates ${ctx.standby.name} (archives under ${live.spec?.backup?.barmanObjectStore?.serverName ?? database}): kept, not rebuilt`);
    } else {
      if (live) {
        if (!ctx.options.replaceDatabase) throw new StepError(`${target.name} already runs PostgreSQL cluster ${db}; fail-back replaces it with a replica of ${ctx.standby.name}. Check it holds nothing you need, then re-run with --replace-database`);
        // The preflight checked this before any change; checked again right before the delete.
        ctx.note(await assertFencedBackup(ctx, target, this.workload, `Run: npm run failover -- fence --primary ${ctx.primary.name}`));
        if (await setFluxSuspended(ctx, target, true)) ctx.note(`Flux ${ctx.options.fluxKustomization} on ${target.name} suspended until Git records the topology (${resumeCommand(target, ctx.options.fluxKustomization)})`);
        await ctx.cli.mutate('kubectl', kube(target, 'delete', CNPG_CLUSTERS, database, '-n', namespace, '--wait=true', `--timeout=${ctx.options.timeouts.databaseSeconds}s`));
      }
      const source = await this.source(ctx);
      const serverName = `${database}-${ctx.options.runId}`;
      const manifest = renderRecoveryCluster({
        workload: this.workload,
        source,
        target: { archive: ctx.namesOf(target).appDatabaseStore, serverName },
        targetWorkload: this.workload,
        runId: ctx.options.runId,
        topology: { self: target.name, primary: ctx.standby.name, source: ctx.standby.name },
      });
      const file = join(ctx.options.outDir, `${target.name}-${database}-replica.yaml`);
      writeFileSync(file, manifest.map((o) => `---\n${stringify(o)}`).join(''));
      ctx.note(`rendered ${file}: replica of ${ctx.standby.name}'s ${source.destinationPath} server ${source.serverName}; archives under ${serverName}`);
      await ctx.cli.mutate('kubectl', kube(target, 'apply', '--server-side', `--field-manager=${FAILOVER_FIELD_MANAGER}`, '-f', file));
    }
    if (ctx.cli.dryRun) return ctx.note('dry run: not waiting for the replica');
    const pod = await waitSettled(ctx, target, this.workload, true);
    ctx.note(`${db} on ${target.name} replays ${ctx.standby.name}'s archive (designated primary ${pod}) while ${ctx.standby.name} serves`);
  }

  /**
   * The primary's database was promoted with the standby's current demotion token (this
   * fail-back's switchover), or promote-primary's patch set it and CloudNativePG still replays up
   * to its REDO location (`spec.replica.promotionToken`, no `lastPromotionToken` yet).
   */
  private async promotedBySwitchover(ctx: StepContext, live: LiveCluster): Promise<boolean> {
    const used = live.status?.lastPromotionToken ?? live.spec?.replica?.promotionToken;
    if (!used || isReplicaSpec(live.metadata?.name ?? this.workload.database, live.spec?.replica)) return false;
    return (await liveCluster(ctx, ctx.standby, this.workload)).status?.demotionToken === used;
  }
}

/** 16 MiB, PostgreSQL's default WAL segment: archive shipping delivers whole segments. */
const SEGMENT_BYTES = 0x1000000n;

/**
 * Before the users' outage starts: the primary's replica has replayed the standby's archive up to
 * the segment the standby is writing (archive shipping delivers whole segments, so one segment
 * behind is caught up). The switchover's outage then holds only the last segment and the
 * demotion, not the catch-up. Polls both sides' positions (read-only `psql`).
 */
export class PrimaryCaughtUp implements Step {
  readonly name = 'primary-caught-up';
  readonly verifies = "the primary's replica replayed the standby's WAL to within one segment of the standby's write position (pg_last_wal_replay_lsn() vs pg_current_wal_lsn())";

  constructor(
    private readonly workload: Workload,
    private readonly standbyDatabase: Workload,
  ) {}

  async run(ctx: StepContext): Promise<void> {
    if (ctx.cli.dryRun) return ctx.note('dry run: not measuring the catch-up');
    const { namespace } = this.workload;
    const position = async (cluster: 'primary' | 'standby', query: string, workload: Workload) => {
      const pod = (await liveCluster(ctx, ctx[cluster], workload)).status?.currentPrimary;
      if (!pod) throw new StepError(`${ctx[cluster].name}'s ${workload.namespace}/${workload.database} reports no status.currentPrimary`);
      const [lsn = ''] = await psql(ctx, ctx[cluster], workload.namespace, pod, query);
      try {
        return lsnValue(lsn);
      } catch (error) {
        throw new StepError(`${ctx[cluster].name} ${pod}: ${(error as Error).message}`);
      }
    };
    const status = await pollUntil(ctx, `${ctx.primary.name}'s ${namespace}/${this.workload.database} to catch up with ${ctx.standby.name}`, ctx.options.timeouts.databaseSeconds, async () => {
      const written = await position('standby', 'SELECT pg_current_wal_lsn()', this.standbyDatabase);
      const replayed = await position('primary', 'SELECT pg_last_wal_replay_lsn()', this.workload);
      const behind = written > replayed ? written - replayed : 0n;
      return { done: behind <= SEGMENT_BYTES, status: `${behind} bytes behind ${ctx.standby.name}'s write position (${(Number(behind) / Number(SEGMENT_BYTES)).toFixed(1)} segments)` };
    }).catch((error: Error) => {
      throw new StepError(`${error.message}. Nothing was switched: ${ctx.standby.name} still serves; re-run when the replica has caught up, or fail back with --rebuild`);
    });
    ctx.note(`caught up: ${status}`);
  }
}

/**
 * The planned switchover's first half: the standby's database (apps already at zero) is demoted
 * to a replica of the primary's new archive (`replica.primary` = the primary, its external
 * cluster on the primary's new server name in the replica bucket). CloudNativePG shuts it down
 * cleanly, archives the shutdown checkpoint and only then writes `status.demotionToken`, which
 * promote-primary needs. No token, no promotion: the step stops and the primary stays a replica.
 */
export class DemoteStandby implements Step {
  readonly name = 'demote-standby';
  readonly verifies =
    "the standby's database is demoted (spec.replica.primary = the primary, following its new archive) and CloudNativePG wrote status.demotionToken (the shutdown checkpoint is archived)";

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    const { namespace, database } = this.workload;
    const db = `${namespace}/${database}`;
    const live = await liveCluster(ctx, ctx.standby, this.workload);
    // What puts the standby back in service if no token comes (a demotion by an earlier run: only its primary).
    let restore: object = { spec: { replica: { primary: ctx.standby.name } } };
    if (followsPrimary(live, database, ctx.primary.name)) {
      ctx.note(`${db} on ${ctx.standby.name} is already demoted to a replica of ${ctx.primary.name}`);
    } else {
      if (isReplicaSpec(live.metadata?.name ?? database, live.spec?.replica)) throw new StepError(`${db} on ${ctx.standby.name} is a replica of ${live.spec?.replica?.primary ?? live.spec?.replica?.source ?? '(unknown)'}, not a primary: nothing serves there to demote`);
      const primaryLive = await liveCluster(ctx, ctx.primary, this.workload);
      // A dry run did not rebuild the primary: name the archive the rebuild would create.
      if (!followsPrimary(primaryLive, database, ctx.standby.name) && !ctx.cli.dryRun) throw new StepError(`${db} on ${ctx.primary.name} is not a replica of ${ctx.standby.name}: rebuild-primary-replica must run first`);
      const primaryServer = followsPrimary(primaryLive, database, ctx.standby.name) ? (primaryLive.spec?.backup?.barmanObjectStore?.serverName ?? database) : `${database}-${ctx.options.runId}`;
      const followed = live.spec?.externalClusters?.find((e) => e.name === live.spec?.replica?.source)?.barmanObjectStore;
      const own = live.spec?.backup?.barmanObjectStore;
      if (!followed || !own) throw new StepError(`${db} on ${ctx.standby.name} names no object store for spec.replica.source ${JSON.stringify(live.spec?.replica?.source)} or spec.backup: cannot point it at ${ctx.primary.name}'s archive`);
      // Both clusters of the topology, as the standby reads them: the primary's archive in the
      // replica bucket (its new server name), its own in its own bucket.
      const externalClusters = [
        { name: ctx.primary.name, barmanObjectStore: { ...followed, serverName: primaryServer } },
        { name: ctx.standby.name, barmanObjectStore: { destinationPath: own.destinationPath, serverName: own.serverName ?? database, endpointURL: s3Endpoint(ctx.standby.region), s3Credentials: own.s3Credentials ?? { inheritFromIAMRole: true } } },
      ];
      const patch = { spec: { replica: { enabled: null, self: ctx.standby.name, primary: ctx.primary.name, source: ctx.primary.name }, externalClusters } };
      restore = { spec: { replica: { enabled: live.spec?.replica?.enabled ?? null, ...live.spec?.replica }, externalClusters: live.spec?.externalClusters } };
      await ctx.cli.mutate('kubectl', kube(ctx.standby, 'patch', CNPG_CLUSTERS, database, '-n', namespace, ...patchArgs(patch)));
      ctx.note(`${db} on ${ctx.standby.name} demoted: replica of ${ctx.primary.name}'s archive under ${primaryServer}`);
    }
    if (ctx.cli.dryRun) return ctx.note('dry run: not waiting for the demotion token');
    let token = '';
    await pollUntil(ctx, `${ctx.standby.name}'s status.demotionToken`, ctx.options.timeouts.demotionSeconds, async () => {
      token = (await liveCluster(ctx, ctx.standby, this.workload)).status?.demotionToken ?? '';
      return { done: token !== '', status: token ? 'token written' : 'no status.demotionToken yet (shutdown checkpoint not archived)' };
    }).catch(async (error: Error) => {
      throw new StepError(`${error.message}. ${await this.abort(ctx, restore)}`);
    });
    const t = decodeDemotionToken(token, `${db} on ${ctx.standby.name}`);
    ctx.facts.demotionToken = token;
    ctx.note(`demotion token: system ${t.databaseSystemIdentifier}, timeline ${t.latestCheckpointTimelineID}, REDO ${t.latestCheckpointREDOLocation}${t.redoWalFile ? ` (WAL ${t.redoWalFile})` : ''}, checkpoint ${t.timeOfLatestCheckpoint ?? '(no time)'}`);
  }

  /**
   * No token in time: the switchover is abandoned in the state it started from. The standby is
   * promoted back (spec.replica and externalClusters as they were; it still holds every write it
   * made, so nothing is lost; CloudNativePG starts a new timeline, which the primary's replica
   * follows through the archive) and its apps are scaled back up; the primary's database stays a
   * replica and nothing is deleted; the marker keeps `failing back` (the fence stays off) and a
   * re-run resumes, keeping the replica. Returns what to tell the operator.
   */
  private async abort(ctx: StepContext, restore: object): Promise<string> {
    const { namespace, database } = this.workload;
    const db = `${namespace}/${database}`;
    const replicas = ctx.standby.availabilityZones.length;
    await ctx.cli.mutate('kubectl', kube(ctx.standby, 'patch', CNPG_CLUSTERS, database, '-n', namespace, ...patchArgs(restore)));
    const pod = await waitSettled(ctx, ctx.standby, this.workload, false);
    for (const app of this.workload.apps) {
      await ctx.cli.mutate('kubectl', kube(ctx.standby, 'patch', 'deployment', app.name, '-n', app.namespace, '--type', 'merge', '-p', JSON.stringify({ spec: { replicas } }), `--field-manager=${FAILOVER_FIELD_MANAGER}`));
    }
    return (
      `Switchover abandoned, nothing lost or deleted: ${db} on ${ctx.standby.name} is primary again (${pod} writable) and its apps are back at ${replicas} replicas (the HPA takes over), so ${ctx.standby.name} serves as before; ` +
      `${ctx.primary.name}'s ${db} is still a replica of it and is NOT promoted (without the token it would promote at whatever it replayed and lose ${ctx.standby.name}'s last writes). ` +
      `Fix WAL archiving on ${ctx.standby.name} (kubectl --context ${ctx.standby.name} -n ${namespace} get ${CNPG_CLUSTERS} ${database} -o jsonpath='{.status.conditions[?(@.type=="ContinuousArchiving")]}'), then re-run the fail-back: it resumes and keeps the replica (raise --demotion-timeout if the shutdown is only slow)`
    );
  }
}

/**
 * The switchover's second half: the primary's replica is promoted with the standby's demotion
 * token (`replica.primary` = itself and `promotionToken`, in one patch). CloudNativePG checks the
 * token's system and timeline and promotes only once it has replayed up to the token's REDO
 * location: nothing the standby wrote is lost. Without a token it would promote at once at
 * whatever it replayed, so the step refuses (the standby was demoted: its writes exist only in
 * its archive); `minApplyDelay` and a token exclude each other, so it refuses that too.
 */
export class PromotePrimaryWithToken implements Step {
  readonly name = 'promote-primary';
  readonly verifies =
    "the primary's database is promoted with the standby's demotion token (spec.replica.primary = itself + promotionToken): it replayed up to the token's REDO location; status.currentPrimary, phase healthy, pg_is_in_recovery() = f";

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    const { namespace, database } = this.workload;
    const db = `${namespace}/${database}`;
    if (ctx.cli.dryRun) return ctx.note(`dry run: would set ${db} on ${ctx.primary.name} spec.replica.primary: ${ctx.primary.name} with the demotion token demote-standby reads, and wait until it is writable`);
    const live = await liveCluster(ctx, ctx.primary, this.workload);
    const replica = live.spec?.replica;
    if (!isReplicaSpec(live.metadata?.name ?? database, replica)) {
      ctx.note(`${db} on ${ctx.primary.name} is already primary`);
    } else {
      const token = ctx.facts.demotionToken;
      if (!token) {
        throw new StepError(
          `refusing to promote ${db} on ${ctx.primary.name} without ${ctx.standby.name}'s demotion token: CloudNativePG would promote it at whatever it replayed, and every write ${ctx.standby.name} made after that point would be lost; demote-standby must read the token first`,
        );
      }
      if (replica?.minApplyDelay) {
        throw new StepError(
          `${db} on ${ctx.primary.name} has spec.replica.minApplyDelay ${JSON.stringify(replica.minApplyDelay)}, which CloudNativePG does not allow next to a promotionToken; remove it (kubectl --context ${ctx.primary.name} -n ${namespace} patch ${CNPG_CLUSTERS} ${database} --type merge -p '{"spec":{"replica":{"minApplyDelay":null}}}' --field-manager=${FAILOVER_FIELD_MANAGER}) and re-run`,
        );
      }
      const self = topologyName(live.metadata?.name ?? database, replica);
      await ctx.cli.mutate('kubectl', kube(ctx.primary, 'patch', CNPG_CLUSTERS, database, '-n', namespace, ...patchArgs({ spec: { replica: { primary: self, promotionToken: token } } })));
      ctx.note(`${db} on ${ctx.primary.name}: spec.replica.primary = ${self} with ${ctx.standby.name}'s demotion token; CloudNativePG promotes once it replayed up to the token's REDO location`);
    }
    const pod = await waitSettled(ctx, ctx.primary, this.workload, false);
    ctx.note(`${db} on ${ctx.primary.name}: ${pod} is primary with everything ${ctx.standby.name} wrote`);
    await releaseRecoveryBootstrap(ctx, ctx.primary, this.workload);
  }
}

/**
 * Fail-back's re-arm by switchover: the standby is already a replica of the primary (demoted),
 * so nothing is deleted or bootstrapped again: the step checks it replays the primary's new
 * timeline (designated primary in recovery, phase healthy).
 */
export class StandbyFollowsPrimary implements Step {
  readonly name = 'rearm-standby';
  readonly verifies =
    "the standby's database is a replica of the primary already (demoted by the switchover: no delete, no re-bootstrap), phase healthy, its designated primary replaying (pg_is_in_recovery() = t)";

  constructor(private readonly standbyDatabase: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    const { namespace, database } = this.standbyDatabase;
    if (ctx.cli.dryRun) return ctx.note(`dry run: ${ctx.standby.name}'s ${namespace}/${database} is a replica of ${ctx.primary.name} once demote-standby ran`);
    const live = await liveCluster(ctx, ctx.standby, this.standbyDatabase);
    if (!followsPrimary(live, database, ctx.primary.name)) throw new StepError(`${namespace}/${database} on ${ctx.standby.name} is not a replica of ${ctx.primary.name} (spec.replica ${JSON.stringify(live.spec?.replica ?? {})})`);
    const pod = await waitSettled(ctx, ctx.standby, this.standbyDatabase, true);
    ctx.note(`${namespace}/${database} on ${ctx.standby.name} replays ${ctx.primary.name}'s archive (designated primary ${pod}): re-armed without a rebuild`);
  }
}

/**
 * Drops the `bootstrap.recovery` the tool applied (rebuild-primary-replica) from the promoted
 * database: re-applies the tool's fields without `spec.bootstrap` under the same field manager,
 * so server-side apply removes the fields only it owned, and Flux's apply of Git's
 * `bootstrap.initdb` is admitted later (renderBootstrapRelease). A database with no recovery
 * bootstrap (Git's own, or a re-run after this) is left as it is.
 */
async function releaseRecoveryBootstrap(ctx: StepContext, target: ClusterDefinition, workload: Workload): Promise<void> {
  const { namespace, database } = workload;
  const live = await ctx.cli.readJson<Record<string, unknown> & { spec?: { bootstrap?: { recovery?: unknown } } }>('kubectl', kube(target, 'get', CNPG_CLUSTERS, database, '-n', namespace, '-o', 'json'));
  if (live.spec?.bootstrap?.recovery === undefined) return;
  const file = join(ctx.options.outDir, `${target.name}-${database}-release-bootstrap.yaml`);
  writeFileSync(file, `---\n${stringify(renderBootstrapRelease(live))}`);
  await ctx.cli.mutate('kubectl', kube(target, 'apply', '--server-side', `--field-manager=${FAILOVER_FIELD_MANAGER}`, '-f', file));
  ctx.note(`${namespace}/${database} on ${target.name}: spec.bootstrap.recovery released (${file} applied without spec.bootstrap), so Flux's bootstrap.initdb from Git is admitted when it resumes`);
}

/** The server names both databases archive under, read from the live clusters (what Git must record). */
export async function liveArchiveServers(ctx: StepContext, workload: Workload, standbyDatabase: Workload): Promise<{ primary: string; standby: string }> {
  const server = (live: LiveCluster, database: string) => live.spec?.backup?.barmanObjectStore?.serverName ?? database;
  return {
    primary: server(await liveCluster(ctx, ctx.primary, workload), workload.database),
    standby: server(await liveCluster(ctx, ctx.standby, standbyDatabase), standbyDatabase.database),
  };
}
