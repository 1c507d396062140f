import { join } from 'node:path';
import type { ClusterDefinition, Platform } from '@platform/platform-config';
import { pilotLightCapacity, promotionCapacity, workersPerZone } from './capacity';
import { findWorkload, rebaseDestination, sourceCredentials, type BarmanStore, type RecoverySource, type Workload } from './database';
import { CNPG_CLUSTERS, kube } from './private/kube';
import { ClearPromotedMarker, MarkFailingBack, MarkPromoted, MarkRestored, SkippedOnceRestored, archiveRunId } from './promotion-marker';
import { StepError, type Step, type StepContext } from './step';
import { ArchiveFreshness } from './steps/archive-freshness';
import { DnsReport } from './steps/dns-report';
import { CloseStandby, OpenStandby } from './steps/dns-switch';
import { FencePrimary } from './steps/fence-primary';
import { BackupReturnedPrimary, FencePrimaryApps, HibernatePrimaryDatabase } from './steps/fence-returned-primary';
import { BaseBackup } from './steps/base-backup';
import { FenceStandbyApp, FinalBackup, RecordArchiveServerName, RetireStandbyDatabase } from './steps/failback-steps';
import { DemoteStandby, liveArchiveServers, PrimaryCaughtUp, PromotePrimaryWithToken, RebuildPrimaryAsReplica, StandbyFollowsPrimary } from './steps/switchover';
import { RearmStandby, VerifyPilotLight } from './steps/rearm-standby';
import { RecheckPrimary } from './steps/recheck-primary';
import { DeployRefs, RecordServingState } from './steps/serving-state';
import { NodesReady } from './steps/nodes-ready';
import { isReplicaCluster, PromoteReplica } from './steps/promote-replica';
import { FailbackPreflight, FencePreflight, PromotionPreflight } from './steps/preflight';
import { RestoreDatabase } from './steps/restore-database';
import { ScaleWorkers } from './steps/scale-workers';
import { VerifyApp } from './steps/verify-app';
import type { FailoverOptions } from './options';

export interface Pair {
  readonly primary: ClusterDefinition;
  readonly standby: ClusterDefinition;
}

/** The primary/standby pair an invocation acts on, from `failover.standbyCluster`. */
export function resolvePair(platform: Platform, options: FailoverOptions): Pair {
  if (options.action === 'promote') {
    const standby = platform.cluster(options.standby!);
    const primary = platform.clusters.find((c) => c.failover?.standbyCluster === standby.name);
    if (!primary) throw new Error(`--standby ${standby.name}: no cluster names it in failover.standbyCluster; expected one of ${standbys(platform)}`);
    if (options.primary && options.primary !== primary.name) throw new Error(`--primary ${options.primary}: ${standby.name} is the standby of ${primary.name}`);
    if (primary.backups.replicaRegion !== standby.region) {
      throw new Error(`clusters[${primary.name}].backups.replicaRegion: got ${JSON.stringify(primary.backups.replicaRegion)}; expected ${standby.region} (the standby's region, where it restores from)`);
    }
    return { primary, standby };
  }
  const primary = platform.cluster(options.primary!);
  if (!primary.failover) throw new Error(`--primary ${primary.name}: it has no failover.standbyCluster; expected one of ${primaries(platform)}`);
  return { primary, standby: platform.cluster(primary.failover.standbyCluster) };
}

const standbys = (p: Platform) => p.clusters.flatMap((c) => (c.failover ? [c.failover.standbyCluster] : [])).join(', ') || 'none';
const primaries = (p: Platform) => p.clusters.filter((c) => c.failover).map((c) => c.name).join(', ') || 'none';

/** The primary's archive in the standby's region (appWalArchive = appBackupReplicaBucket: written there directly). */
function replicaSource(workload: Workload, primary: ClusterDefinition, standby: ClusterDefinition): (ctx: StepContext) => Promise<RecoverySource> {
  return async (ctx) => {
    const bucket = ctx.namesOf(primary).appBackupReplicaBucket;
    if (!bucket) throw new StepError(`${primary.name} has no backups.replicaRegion, so there is no replica to restore from`);
    return {
      destinationPath: workload.backup ? rebaseDestination(workload.backup.destinationPath, bucket) : `s3://${bucket}/`,
      serverName: workload.backup?.serverName ?? workload.database,
      region: standby.region,
      s3Credentials: sourceCredentials(workload),
    };
  };
}

/**
 * The standby's live backup settings (what the promoted database has been archiving to).
 * Read directly from the standby's own bucket, cross-region: at fail-back both regions are
 * up, and reading the source avoids replication lag.
 */
function liveStandbySource(workload: Workload): (ctx: StepContext) => Promise<RecoverySource> {
  return async (ctx) => {
    const live = await ctx.cli.readJson<{ spec?: { backup?: { barmanObjectStore?: BarmanStore } } }>(
      'kubectl',
      kube(ctx.standby, 'get', CNPG_CLUSTERS, workload.database, '-n', workload.namespace, '-o', 'json'),
    );
    const store = live.spec?.backup?.barmanObjectStore;
    if (!store) throw new StepError(`${workload.namespace}/${workload.database} on ${ctx.standby.name} has no spec.backup.barmanObjectStore to restore from`);
    return {
      destinationPath: store.destinationPath,
      serverName: store.serverName ?? workload.database,
      region: ctx.standby.region,
      s3Credentials: store.s3Credentials ?? sourceCredentials(workload),
    };
  };
}

/**
 * How the standby's database takes over: a replica cluster (Git's dr) is promoted in place; a
 * standby that runs an ordinary cluster is replaced by a restore from the replicated archive.
 */
function takeOverDatabase(workload: Workload, pair: Pair, standbyDatabase: Workload): Step {
  if (isReplicaCluster(standbyDatabase)) return new PromoteReplica(standbyDatabase);
  return new RestoreDatabase({ side: 'standby', workload, targetWorkload: standbyDatabase, source: replicaSource(workload, pair.primary, pair.standby) });
}

/**
 * Workers are scaled up first but not waited for: recheck, promotion and verify-app run on the
 * pilot light's standing workers while the ASGs launch the rest; nodes-ready, last, records when
 * the full capacity is Ready (a verify-app rollout that needs the new nodes waits for them).
 * The primary is fenced only just before users are moved to the standby: until then a primary
 * that recovers keeps serving, and recheck-primary stops the run before the standby's
 * database becomes writable, so no moment has two writable databases that users reach.
 */
export function promotionSteps(workload: Workload, pair: Pair, standbyDatabase: Workload): Step[] {
  const capacity = (ctx: StepContext) => promotionCapacity(pair.primary, pair.standby, ctx.namesOf(pair.standby));
  return [
    new PromotionPreflight(),
    new ArchiveFreshness(workload, standbyDatabase),
    new MarkPromoted(),
    // Issued, not awaited: the pilot light's standing workers run the app's minimum (ha-check's
    // region.standby-standing-capacity proves it), the new nodes join in the background.
    new ScaleWorkers({ name: 'scale-workers', plan: capacity, waitFor: 'desired' }),
    new RecheckPrimary(),
    takeOverDatabase(workload, pair, standbyDatabase),
    new VerifyApp({ side: 'standby', workload }),
    new FencePrimary(),
    new OpenStandby(),
    new DnsReport({ expect: 'standby' }),
    new BaseBackup({ side: 'standby', workload: standbyDatabase }),
    new RecordServingState('standby'),
    new DeployRefs({ clusters: (ctx) => [ctx.standby], message: (ctx) => `failover: ${ctx.standby.name} serves for ${ctx.primary.name} (run ${ctx.options.runId})`, resumeFlux: false }),
    // Last, off the users' critical path: the journal records when the full capacity is there.
    new NodesReady({ name: 'nodes-ready', side: 'standby', perZone: (ctx) => workersPerZone(capacity(ctx)), onTimeout: 'report' }),
  ];
}

/** While the standby serves: the returned primary stops taking writes, is backed up, then hibernated. */
export function fenceSteps(workload: Workload, _pair: Pair, _standbyDatabase: Workload): Step[] {
  return [new FencePreflight(workload), new FencePrimaryApps(workload), new BackupReturnedPrimary(workload), new HibernatePrimaryDatabase(workload)];
}

/**
 * Fail-back by switchover (Git's standby is a replica cluster): the primary's database is rebuilt
 * as a replica of the standby and catches up while the standby serves; then the standby's apps
 * go to 0, it is demoted (CloudNativePG archives its shutdown checkpoint and writes the demotion
 * token) and the primary promoted with that token (it promotes only once it replayed up to it:
 * zero loss). The standby is then already a replica of the primary: nothing is deleted or
 * re-bootstrapped. `--rebuild` (or a standby that runs an ordinary cluster) takes the
 * delete-and-restore path instead, for a replica that cannot catch up.
 */
export function failbackSteps(workload: Workload, pair: Pair, standbyDatabase: Workload, options?: Pick<FailoverOptions, 'rebuild'>): Step[] {
  if (options?.rebuild || !isReplicaCluster(standbyDatabase)) return rebuildFailbackSteps(workload, pair, standbyDatabase);
  return [
    ...failbackStart(workload, pair, standbyDatabase),
    // Until mark-restored a re-run repeats these (each finds what is done and keeps it); after it, never.
    new SkippedOnceRestored(new FencePrimaryApps(workload)),
    new SkippedOnceRestored(new RebuildPrimaryAsReplica(workload, liveStandbySource(workload))),
    new SkippedOnceRestored(new PrimaryCaughtUp(workload, standbyDatabase)),
    new SkippedOnceRestored(new FenceStandbyApp(workload)),
    new SkippedOnceRestored(new DemoteStandby(standbyDatabase)),
    new SkippedOnceRestored(new PromotePrimaryWithToken(workload)),
    new MarkRestored(),
    new VerifyApp({ side: 'primary', workload }),
    new RecordArchiveServerName(workload, (ctx) => liveArchiveServers(ctx, workload, standbyDatabase)),
    ...failbackEnd(workload, pair, standbyDatabase, new StandbyFollowsPrimary(standbyDatabase)),
  ];
}

/** `replicaOf`: the standby's database, when the primary is rebuilt as a replica of its live archive. */
function failbackStart(workload: Workload, pair: Pair, replicaOf?: Workload): Step[] {
  const primaryMinimum = (_ctx: StepContext) =>
    new Map(pair.primary.availabilityZones.map((az) => [az, pair.primary.workerPools.reduce((sum, p) => sum + p.minPerAz, 0)]));
  return [new FailbackPreflight(workload, replicaOf), new MarkFailingBack(), new NodesReady({ name: 'primary-nodes-ready', side: 'primary', perZone: primaryMinimum })];
}

function failbackEnd(workload: Workload, pair: Pair, standbyDatabase: Workload, rearm: Step): Step[] {
  return [
    new CloseStandby(),
    new DnsReport({ expect: 'primary' }),
    new BaseBackup({ side: 'primary', workload }),
    rearm,
    new ScaleWorkers({ name: 'scale-standby-down', plan: (ctx) => pilotLightCapacity(pair.standby, ctx.namesOf(pair.standby)), waitFor: 'desired' }),
    new ClearPromotedMarker(),
    new VerifyPilotLight(standbyDatabase),
    new RecordServingState('primary'),
    new DeployRefs({
      clusters: (ctx) => [ctx.primary, ctx.standby],
      message: (ctx) => {
        const servers = ctx.facts.archiveServers ?? { primary: `${workload.database}-${archiveRunId(ctx)}`, standby: `${workload.database}-${archiveRunId(ctx)}` };
        return `failback: ${ctx.primary.name} serves again, archiving under ${servers.primary}; ${ctx.standby.name} replays it, archiving under ${servers.standby} (run ${ctx.options.runId})`;
      },
      resumeFlux: true,
    }),
  ];
}

/** Delete-and-restore fail-back (`--rebuild`): the primary restored from the standby's final backup, the standby rebuilt as a replica. */
function rebuildFailbackSteps(workload: Workload, pair: Pair, standbyDatabase: Workload): Step[] {
  return [
    ...failbackStart(workload, pair),
    // Until mark-restored, a re-run repeats these (nothing serves from the primary yet); after it, never:
    // the restored primary takes users' writes from close-standby on.
    new SkippedOnceRestored(new FencePrimaryApps(workload)),
    new SkippedOnceRestored(new FenceStandbyApp(workload)),
    new SkippedOnceRestored(new FinalBackup(workload)),
    new SkippedOnceRestored(new RestoreDatabase({ side: 'primary', workload, targetWorkload: workload, source: liveStandbySource(workload), requireFencedBackup: true })),
    new MarkRestored(),
    new VerifyApp({ side: 'primary', workload }),
    new RecordArchiveServerName(workload),
    ...failbackEnd(workload, pair, standbyDatabase, isReplicaCluster(standbyDatabase) ? new RearmStandby(workload, standbyDatabase) : new RetireStandbyDatabase(workload)),
  ];
}

/** The database and apps as a cluster's generated manifests define them. */
export function workloadOf(options: FailoverOptions, cluster: ClusterDefinition): Workload {
  return findWorkload(join(options.clustersDir, cluster.name));
}
