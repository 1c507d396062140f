import { failoverRole, type ClusterDefinition, type Platform } from '@platform/platform-config';
import { CommandError, type Commands } from './commands';
import { StepError, type Step, type StepContext } from './step';

const NOT_FOUND = /ParameterNotFound/;

/**
 * Refuses while the failover pair of `cluster` is promoted (the standby's marker parameter, in
 * the standby's region, exists). For the standby's stack: Terraform would reset its worker
 * ASGs' min_size to pilot light under production traffic. For the primary's stack: Terraform
 * would point the PRIMARY record back at the primary's load balancer and close nothing else,
 * sending users to a fenced region. Clusters in no pair make no call. Any other error (no
 * credentials, access denied) throws: the guard fails closed. For the pipeline's apply, before
 * each stack.
 */
export async function assertNotPromoted(platform: Platform, cluster: ClusterDefinition | string, cli: Pick<Commands, 'read'>): Promise<void> {
  const definition = typeof cluster === 'string' ? platform.cluster(cluster) : cluster;
  const pair = failoverRole(platform.clusters, definition);
  if (!pair) return;
  const standby = pair.standby;
  const marker = platform.namesOf(standby).ssm.promotedMarker;
  let value: string;
  try {
    value = (await cli.read('aws', ['ssm', 'get-parameter', '--region', standby.region, '--name', marker, '--query', 'Parameter.Value', '--output', 'text'])).trim();
  } catch (error) {
    if (error instanceof CommandError && NOT_FOUND.test(error.stderr)) return;
    throw error;
  }
  const why =
    pair.role === 'standby'
      ? 'Terraform would put its worker minimums back to pilot light'
      : `Terraform would point the PRIMARY record back at ${definition.name}, which is fenced while ${standby.name} serves`;
  throw new Error(
    `${platform.namesOf(definition).stack}: ${standby.name} is promoted (SSM ${marker} = ${JSON.stringify(value)}); refusing to apply it, ${why}. Fail back first (npm run failover -- failback), or make the capacity permanent in platform-config`,
  );
}

/**
 * The marker's value says how far the promotion got: `promoting` from before the standby's first
 * change until users are moved to it, `serves` once they are (OpenStandby), with the time they
 * were moved. Only `serves` lets the fence stop the primary: while a promotion is unfinished, or
 * in a drill, the primary may be the one serving. Fail-back accepts only a fenced backup that
 * completed after that time. The apply guard refuses in either state.
 */
export function promotedMarkerValue(state: 'promoting' | 'serves' | 'drill', runId: string, standby: string, primary: string, since?: Date): string {
  if (state === 'drill') return `run ${runId}: drill: ${standby} promoted in a drill, ${primary} serves`;
  if (state === 'promoting') return `run ${runId}: ${standby} promoting for ${primary} (${primary} may still serve)`;
  if (!since) throw new Error('a serves marker needs the time users were moved');
  return `run ${runId}: ${standby} serves for ${primary} since ${toSecond(since)}`;
}

/** `2026-01-01T12:00:00Z`. */
export const toSecond = (date: Date): string => date.toISOString().replace(/\.\d+Z$/, 'Z');

const SERVES = /^run ([^:]+): (\S+) serves for (\S+)(?: since (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ))?$/;
const FAILING_BACK = /^run ([^:]+): (\S+) failing back to (\S+), served since (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)(?:, restored by run ([a-z0-9-]+))?$/;

/** Whether a marker value says the standby serves the users (the fence may stop the primary). */
export const standbyServes = (value: string): boolean => SERVES.test(value.trim());

/**
 * A fail-back's marker: the promotion's run and time kept (a re-run of the fail-back still finds
 * them), in a form `standbyServes` rejects, so a scheduled fence running at the same time stops
 * before it backs up or hibernates the database the fail-back is restoring. Once the primary's
 * database is restored, the checkpoint `restored by run <id>` is added: a re-run never fences or
 * restores the primary again (it may serve users by then) and keeps that run's archive name.
 */
export function failingBackMarkerValue(runId: string, standby: string, primary: string, since: Date, restoredBy?: string): string {
  return `run ${runId}: ${standby} failing back to ${primary}, served since ${toSecond(since)}${restoredBy ? `, restored by run ${restoredBy}` : ''}`;
}

export interface MarkedPromotion {
  readonly runId: string;
  readonly since?: Date;
  readonly failingBack: boolean;
  /** fail-back: the run whose restore of the primary's database completed (checkpoint). */
  readonly restoredBy?: string;
}

/** A `serves` (or `failing back`) marker's run and the time users were moved; undefined for any other value. */
export function parseServesMarker(value: string): MarkedPromotion | undefined {
  const back = FAILING_BACK.exec(value.trim());
  if (back) return { runId: back[1]!, since: new Date(back[4]!), failingBack: true, ...(back[5] ? { restoredBy: back[5] } : {}) };
  const match = SERVES.exec(value.trim());
  if (!match) return undefined;
  return { runId: match[1]!, ...(match[4] ? { since: new Date(match[4]) } : {}), failingBack: false };
}

/** Reads the standby's marker; undefined when it does not exist (any other error throws). */
export async function readPromotedMarker(ctx: StepContext): Promise<string | undefined> {
  const marker = ctx.namesOf(ctx.standby).ssm.promotedMarker;
  try {
    return (await ctx.cli.read('aws', ['ssm', 'get-parameter', '--region', ctx.standby.region, '--name', marker, '--query', 'Parameter.Value', '--output', 'text'])).trim();
  } catch (error) {
    if (error instanceof CommandError && NOT_FOUND.test(error.stderr)) return undefined;
    throw error;
  }
}

/** Writes the standby's marker in the given state. */
export async function writePromotedMarker(ctx: StepContext, state: 'promoting' | 'serves' | 'drill'): Promise<string> {
  const marker = ctx.namesOf(ctx.standby).ssm.promotedMarker;
  const value = promotedMarkerValue(state, ctx.options.runId, ctx.standby.name, ctx.primary.name, ctx.clock());
  await ctx.cli.mutate('aws', ['ssm', 'put-parameter', '--region', ctx.standby.region, '--name', marker, '--type', 'String', '--overwrite', '--value', value]);
  return marker;
}

/** Promotion: marks the standby promoted before its first change (assertNotPromoted reads it). */
export class MarkPromoted implements Step {
  readonly name = 'mark-promoted';
  readonly verifies = "the standby's promoted marker exists in SSM, so the pipeline refuses to apply its stack until fail-back";

  async run(ctx: StepContext): Promise<void> {
    const marker = await writePromotedMarker(ctx, ctx.options.drill ? 'drill' : 'promoting');
    ctx.note(`${marker} written: applies of ${ctx.namesOf(ctx.standby).stack} are refused until fail-back removes it`);
  }

}

/**
 * Fail-back, first change: the marker leaves `serves` (the promotion's time kept), so the
 * scheduled fence, which re-reads it before each of its own changes, stops instead of backing
 * up or hibernating the primary's database while the fail-back restores it.
 */
export class MarkFailingBack implements Step {
  readonly name = 'mark-failing-back';
  readonly verifies = "the standby's marker says `failing back` (the fence stops acting); the promotion's run and time are kept";

  async run(ctx: StepContext): Promise<void> {
    // A resumed fail-back keeps its checkpoint (rewriting the marker without it would let a third run restore again).
    const value = await writeFailingBack(ctx, ctx.facts.promotion?.restoredBy);
    ctx.note(`${ctx.namesOf(ctx.standby).ssm.promotedMarker} = ${value}: a fence running now stops before its next change`);
  }
}

async function writeFailingBack(ctx: StepContext, restoredBy: string | undefined): Promise<string> {
  const promotion = ctx.facts.promotion;
  if (!promotion?.since) throw new StepError('the promotion time was not read by the preflight');
  const value = failingBackMarkerValue(promotion.runId, ctx.standby.name, ctx.primary.name, promotion.since, restoredBy);
  await ctx.cli.mutate('aws', ['ssm', 'put-parameter', '--region', ctx.standby.region, '--name', ctx.namesOf(ctx.standby).ssm.promotedMarker, '--type', 'String', '--overwrite', '--value', value]);
  return value;
}

/**
 * Fail-back's checkpoint, right after restore-database: the marker records the run that restored
 * the primary. From here on the primary's database is the one users will (or already do) write
 * to; a re-run skips every step that fences or replaces it (`SkippedOnceRestored`).
 */
export class MarkRestored implements Step {
  readonly name = 'mark-restored';
  readonly verifies = "the standby's marker says `restored by run <id>`: a re-run neither fences nor restores the primary again";

  async run(ctx: StepContext): Promise<void> {
    if (ctx.facts.promotion?.restoredBy) return ctx.note(`checkpoint already recorded by run ${ctx.facts.promotion.restoredBy}`);
    const value = await writeFailingBack(ctx, ctx.options.runId);
    ctx.note(`${ctx.namesOf(ctx.standby).ssm.promotedMarker} = ${value}`);
  }
}

/**
 * A destructive fail-back step (fencing the primary's apps, the standby's final backup, the
 * restore) that a resumed fail-back skips once the marker's checkpoint says the primary was
 * restored: running it again would scale the serving primary to 0 and delete its database.
 */
export class SkippedOnceRestored implements Step {
  readonly name: string;
  readonly verifies: string;

  constructor(private readonly step: Step) {
    this.name = step.name;
    this.verifies = `${step.verifies} (skipped when the marker says the primary was restored)`;
  }

  async run(ctx: StepContext): Promise<void> {
    const restoredBy = ctx.facts.promotion?.restoredBy;
    if (restoredBy) return ctx.note(`skipped: ${ctx.primary.name}'s database was restored by fail-back run ${restoredBy}; it is not fenced or replaced again`);
    await this.step.run(ctx);
  }
}

/** The run whose restore named the primary's new archive: this one, or the fail-back it resumes. */
export const archiveRunId = (ctx: StepContext): string => ctx.facts.promotion?.restoredBy ?? ctx.options.runId;

/**
 * The fence's guard before each of its changes: the standby must still serve. A fail-back
 * started since the fence's preflight (marker `failing back`, or gone) stops the fence: exit 3.
 */
export async function assertStandbyStillServes(ctx: StepContext): Promise<void> {
  const value = await readPromotedMarker(ctx);
  if (value !== undefined && standbyServes(value)) return;
  ctx.facts.notDue = `${ctx.standby.name} no longer serves (${value === undefined ? 'marker gone' : value}): a fail-back took over`;
  throw new StepError(`${ctx.namesOf(ctx.standby).ssm.promotedMarker} = ${value === undefined ? '(absent)' : JSON.stringify(value)}: ${ctx.standby.name} no longer serves, a fail-back is under way; the fence stops here`);
}

/** Fail-back, last: the standby is at pilot light again, so its stack may be applied. */
export class ClearPromotedMarker implements Step {
  readonly name = 'clear-promoted-marker';
  readonly verifies = "the standby's promoted marker is gone from SSM (applies of its stack are allowed again)";

  async run(ctx: StepContext): Promise<void> {
    const marker = ctx.namesOf(ctx.standby).ssm.promotedMarker;
    try {
      await ctx.cli.mutate('aws', ['ssm', 'delete-parameter', '--region', ctx.standby.region, '--name', marker]);
    } catch (error) {
      if (!(error instanceof CommandError && NOT_FOUND.test(error.stderr))) throw error;
      ctx.note(`${marker} was already absent`);
    }
  }
}
