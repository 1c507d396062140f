import { CommandError } from '../commands';
import { parseServesMarker, promotedMarkerValue, readPromotedMarker, standbyServes, toSecond, type MarkedPromotion } from '../promotion-marker';
import { backupName, renderBackup, type Workload } from '../database';
import { liveCluster } from '../private/cnpg';
import { listObjects, splitS3Path } from '../private/s3';
import { assertFencedBackup } from '../private/fenced-backup';
import { CNPG_CLUSTERS, kube } from '../private/kube';
import { HIBERNATION_ANNOTATION } from './fence-returned-primary';
import { describeHealth, findFailoverRecords, healthCheckStatus, type FailoverRecords } from '../route53';
import { StepError, type Step, type StepContext } from '../step';

/** STS of the region that is up for this run (the standby's while promoting): never the lost region's endpoint. */
async function identity(ctx: StepContext, region: string): Promise<void> {
  const who = await ctx.cli.readJson<{ Arn?: string }>('aws', ['sts', 'get-caller-identity', '--region', region, '--output', 'json']);
  ctx.note(`AWS identity: ${who.Arn ?? 'unknown'}`);
}

async function apiReady(ctx: StepContext, side: 'primary' | 'standby'): Promise<void> {
  const cluster = ctx[side];
  const out = await ctx.cli.read('kubectl', kube(cluster, 'get', '--raw=/readyz')).catch((error: Error) => {
    throw new StepError(`the ${cluster.name} API is not reachable with context ${cluster.name}: ${error.message}`);
  });
  if (out.trim() !== 'ok') throw new StepError(`the ${cluster.name} API answered /readyz with ${JSON.stringify(out.trim())}; expected "ok"`);
}

async function records(ctx: StepContext): Promise<FailoverRecords> {
  const dns = ctx.platform.settings.dns;
  const hostname = ctx.platform.names.appHostname;
  if (!dns || !hostname) throw new StepError('settings.dns is not set: there is no failover record to act on');
  const found = await findFailoverRecords(ctx.cli, dns, hostname);
  ctx.facts.hostedZoneId = found.hostedZoneId;
  ctx.facts.primaryHealthCheckId = found.primary.healthCheckId;
  ctx.facts.secondaryHealthCheckId = found.secondary.healthCheckId;
  ctx.facts.records = found;
  for (const [kind, record, cluster] of [['PRIMARY', found.primary, ctx.primary.name], ['SECONDARY', found.secondary, ctx.standby.name]] as const) {
    if (record.setIdentifier !== cluster) ctx.note(`warning: ${kind} record's set identifier is ${JSON.stringify(record.setIdentifier)}, expected ${JSON.stringify(cluster)}`);
  }
  if (!found.primary.healthCheckId) throw new StepError(`the PRIMARY record of ${hostname} has no health check, so Route 53 can never fail over`);
  return found;
}

/**
 * Promote only a standby whose primary is really down: unless --force (its load balancer answers
 * but its app or database is broken: fail over anyway) or --drill (never fences, never moves DNS).
 */
export class PromotionPreflight implements Step {
  readonly name = 'preflight';
  readonly verifies = 'Route 53 sees the primary unhealthy (or --force / --drill); AWS credentials work; the standby API is ready';

  async run(ctx: StepContext): Promise<void> {
    await identity(ctx, ctx.standby.region);
    const found = await records(ctx);
    const status = await healthCheckStatus(ctx.cli, found.primary.healthCheckId!);
    ctx.note(`primary ${ctx.primary.name} health check ${found.primary.healthCheckId}: ${describeHealth(status)}`);
    if (status.healthy && !ctx.options.force && !ctx.options.drill) {
      throw new StepError(
        `Route 53 sees ${ctx.primary.name} as ${describeHealth(status)}; refusing to promote ${ctx.standby.name} (pass --force if its app or database is broken although the check passes, --drill for a game day)`,
      );
    }
    if (status.healthy && ctx.options.force) ctx.note(`--force: failing over although Route 53 sees ${ctx.primary.name} healthy; it will be fenced and DNS moved`);
    if (ctx.options.drill) ctx.note(`--drill: ${ctx.primary.name} is neither fenced nor leaves DNS; ${ctx.standby.name} is restored and verified through its own load balancer only`);
    await apiReady(ctx, 'standby');
  }
}

/**
 * Fence only a primary whose standby is promoted (fencing a serving primary is an outage),
 * whose API answers again (a scheduled run retries until it does) and whose database is not
 * hibernated already (fenced by an earlier run: a hibernated cluster cannot be backed up again).
 */
export class FencePreflight implements Step {
  readonly name = 'preflight';
  readonly verifies = "the standby's promoted marker exists; the primary's API answers again; its database is not hibernated yet";

  constructor(private readonly workload: Workload) {}

  async run(ctx: StepContext): Promise<void> {
    await identity(ctx, ctx.standby.region);
    const marker = ctx.namesOf(ctx.standby).ssm.promotedMarker;
    const value = await ctx.cli.read('aws', ['ssm', 'get-parameter', '--region', ctx.standby.region, '--name', marker, '--query', 'Parameter.Value', '--output', 'text']).catch((error: Error) => {
      if (error instanceof CommandError && /ParameterNotFound/.test(error.stderr)) ctx.facts.notDue = `${ctx.standby.name} is not promoted`;
      throw new StepError(`${ctx.standby.name} is not promoted (${marker}: ${error.message.trim()}); refusing to fence ${ctx.primary.name}, which may be serving`);
    });
    ctx.note(`${marker} = ${value.trim()}`);
    if (!standbyServes(value)) {
      ctx.facts.notDue = `${ctx.standby.name}'s promotion did not move the users (a drill, or unfinished)`;
      throw new StepError(`${ctx.standby.name} does not serve yet (${marker} = ${value.trim()}): ${ctx.primary.name} may be the region users reach; refusing to fence it`);
    }
    await apiReady(ctx, 'primary').catch((error: Error) => {
      ctx.facts.notDue = `${ctx.primary.name}'s API does not answer yet`;
      throw error;
    });
    const { namespace, database } = this.workload;
    const live = (await ctx.cli.read('kubectl', kube(ctx.primary, 'get', CNPG_CLUSTERS, database, '-n', namespace, '--ignore-not-found', '-o', 'json'))).trim();
    const annotations = live ? ((JSON.parse(live) as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations ?? {}) : {};
    if (annotations[HIBERNATION_ANNOTATION] === 'on') {
      ctx.facts.notDue = `${ctx.primary.name}'s ${namespace}/${database} is hibernated: fenced by an earlier run`;
      throw new StepError(`${ctx.primary.name}'s ${namespace}/${database} is already hibernated (${HIBERNATION_ANNOTATION}=on); nothing more to fence`);
    }
  }
}

/**
 * Return only from a promotion the standby's marker records with the time users were moved
 * (the fenced backup must be newer), to a primary whose API is back; both clusters must answer.
 * Before the first change (the marker leaving `serves`, the standby's apps stopped), the primary's
 * database must have a fenced backup newer than the promotion: found missing later, the fence
 * could no longer make one (it acts only on `serves`) while the standby's users had no app.
 */
export class FailbackPreflight implements Step {
  readonly name = 'preflight';
  readonly verifies =
    "AWS credentials work; the standby's marker records when it started serving; both APIs are ready; Route 53 records found; the primary's database (if any) has a fenced backup newer than the promotion, unless an earlier run already restored it";

  constructor(
    private readonly workload: Workload,
    /**
     * The standby's database when the fail-back rebuilds the primary as a replica of its live
     * archive (switchover): that folder must hold a base backup of the promoted timeline.
     * @default none (delete-and-restore takes its own final backup)
     */
    private readonly replicaOf?: Workload,
  ) {}

  async run(ctx: StepContext): Promise<void> {
    await identity(ctx, ctx.primary.region);
    const marker = ctx.namesOf(ctx.standby).ssm.promotedMarker;
    const value = await readPromotedMarker(ctx);
    if (value === undefined) {
      throw new StepError(`${marker} does not exist in ${ctx.standby.region}: ${ctx.standby.name} is not promoted, so there is nothing to fail back from; refusing (fail-back replaces ${ctx.primary.name}'s database)`);
    }
    const promotion = parseServesMarker(value);
    if (!promotion?.since) {
      throw new StepError(
        `${marker} = ${JSON.stringify(value)}: it records no time ${ctx.standby.name} started serving (expected "run <id>: ${ctx.standby.name} serves for ${ctx.primary.name} since <UTC time>"); refusing to fail back, since no fenced backup can be shown to be newer than the promotion`,
      );
    }
    ctx.facts.promotion = { runId: promotion.runId, since: promotion.since, ...(promotion.restoredBy ? { restoredBy: promotion.restoredBy } : {}) };
    if (promotion.restoredBy) {
      ctx.note(`an earlier fail-back (run ${promotion.restoredBy}) stopped after restoring ${ctx.primary.name}'s database: resuming it without fencing or restoring ${ctx.primary.name} again; its archive stays ${this.workload.database}-${promotion.restoredBy}`);
    } else if (promotion.failingBack) {
      ctx.note('an earlier fail-back stopped part way: resuming it');
    }
    ctx.note(`${marker} = ${value}`);
    await apiReady(ctx, 'primary');
    await apiReady(ctx, 'standby');
    const found = await records(ctx);
    ctx.note(`primary ${ctx.primary.name} health check: ${describeHealth(await healthCheckStatus(ctx.cli, found.primary.healthCheckId!))}`);
    if (!promotion.restoredBy) await this.assertPrimaryFenced(ctx, promotion);
    if (!promotion.restoredBy && this.replicaOf) await this.assertStandbyBaseBackup(ctx, this.replicaOf, promotion);
  }

  /**
   * The primary's replica bootstraps from a base backup in the standby's LIVE archive folder
   * (`spec.backup.barmanObjectStore`: destinationPath + serverName); WAL alone cannot start it
   * (barman-cloud-restore: "no target backup found"). The backup must be of the promoted
   * timeline: newer than the standby's promotion (`status.currentPrimaryTimestamp`, else the
   * marker's time). Checked here, before anything changes, with the command that fixes it.
   */
  private async assertStandbyBaseBackup(ctx: StepContext, standbyDatabase: Workload, promotion: MarkedPromotion): Promise<void> {
    const { namespace, database } = standbyDatabase;
    const live = await liveCluster(ctx, ctx.standby, standbyDatabase);
    const store = live.spec?.backup?.barmanObjectStore;
    if (!store) throw new StepError(`${namespace}/${database} on ${ctx.standby.name} has no spec.backup.barmanObjectStore: ${ctx.primary.name} has no archive to replicate`);
    const { bucket, prefix } = splitS3Path(store.destinationPath);
    const folder = `${prefix}${store.serverName ?? database}/`;
    const promotedAt = live.status?.currentPrimaryTimestamp ? new Date(live.status.currentPrimaryTimestamp) : promotion.since!;
    const { contents } = await listObjects(ctx, { region: ctx.standby.region, bucket, prefix: `${folder}base/` });
    const idOf = (key: string) => key.slice(folder.length + 'base/'.length).split('/')[0]!;
    const newer = [...new Set(contents.filter((o) => Date.parse(o.LastModified) > promotedAt.getTime()).map((o) => idOf(o.Key)))];
    if (newer.length > 0) return ctx.note(`${ctx.standby.name}'s live archive s3://${bucket}/${folder} has base backup(s) since its promotion at ${toSecond(promotedAt)}: ${newer.join(', ')}`);
    const older = [...new Set(contents.map((o) => idOf(o.Key)))];
    const backup = JSON.stringify(renderBackup(standbyDatabase, 'base', ctx.options.runId));
    throw new StepError(
      `${ctx.standby.name}'s live archive s3://${bucket}/${folder} (what ${ctx.primary.name}'s replica would replay) has no base backup newer than ${ctx.standby.name}'s promotion at ${toSecond(promotedAt)} (found: ${older.join(', ') || 'none'}): ` +
        `${ctx.primary.name}'s rebuild as a replica could not start. Nothing was changed. Take one on ${ctx.standby.name}: echo '${backup}' | kubectl --context ${ctx.standby.name} apply -f - ; ` +
        `wait until kubectl --context ${ctx.standby.name} -n ${namespace} get backups.postgresql.cnpg.io ${backupName(standbyDatabase, 'base', ctx.options.runId)} -o jsonpath='{.status.phase}' prints completed; then re-run this fail-back`,
    );
  }

  private async assertPrimaryFenced(ctx: StepContext, promotion: MarkedPromotion): Promise<void> {
    const { namespace, database } = this.workload;
    const db = `${namespace}/${database}`;
    const existing = (await ctx.cli.read('kubectl', kube(ctx.primary, 'get', CNPG_CLUSTERS, database, '-n', namespace, '--ignore-not-found', '-o', 'name'))).trim();
    if (!existing) return ctx.note(`${ctx.primary.name} has no ${db}: nothing to back up before the restore`);
    if (!ctx.options.replaceDatabase) {
      throw new StepError(`${ctx.primary.name} already runs PostgreSQL cluster ${db}; the restore replaces it. Check it holds nothing you need, then re-run with --replace-database`);
    }
    const fence = `npm run failover -- fence --primary ${ctx.primary.name}`;
    const marker = ctx.namesOf(ctx.standby).ssm.promotedMarker;
    // The fence acts only on `serves`: a marker an older fail-back left at `failing back` is put back first.
    const serves = promotedMarkerValue('serves', promotion.runId, ctx.standby.name, ctx.primary.name, promotion.since);
    const advice = promotion.failingBack
      ? `The fence acts only while the marker says serves; nothing was restored yet, so put it back and fence: aws ssm put-parameter --region ${ctx.standby.region} --name ${marker} --type String --overwrite --value '${serves}' && ${fence}; then re-run this fail-back`
      : `Nothing was changed (${marker} still says serves since ${toSecond(promotion.since!)}). Run: ${fence}; then re-run this fail-back`;
    ctx.note(await assertFencedBackup(ctx, ctx.primary, this.workload, advice));
  }
}
