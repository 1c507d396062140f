import { kube } from '../private/kube';
import { describeHealth, findFailoverRecords, healthCheckStatus, type FailoverRecords } from '../route53';
import { StepError, type Step, type StepContext } from '../step';

async function identity(ctx: StepContext): Promise<void> {
  const who = await ctx.cli.readJson<{ Arn?: string }>('aws', ['sts', 'get-caller-identity', '--output', 'json']);
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
  for (const [kind, record, cluster] of [['PRIMARY', found.primary, ctx.primary.name], ['SECONDARY', found.secondary, ctx.standby.name]] as const) {
    if (record.setIdentifier !== cluster) ctx.note(`warning: ${kind} record's set identifier is ${JSON.stringify(record.setIdentifier)}, expected ${JSON.stringify(cluster)}`);
  }
  if (!found.primary.healthCheckId) throw new StepError(`the PRIMARY record of ${hostname} has no health check, so Route 53 can never fail over`);
  return found;
}

/** Promote only a standby whose primary is really down, unless this is a drill (--force). */
export class PromotionPreflight implements Step {
  readonly name = 'preflight';
  readonly verifies = 'Route 53 sees the primary unhealthy (or --force); AWS credentials work; the standby API is ready';

  async run(ctx: StepContext): Promise<void> {
    await identity(ctx);
    const found = await records(ctx);
    const status = await healthCheckStatus(ctx.cli, found.primary.healthCheckId!);
    ctx.note(`primary ${ctx.primary.name} health check ${found.primary.healthCheckId}: ${describeHealth(status)}`);
    if (status.healthy && !ctx.options.force) {
      throw new StepError(`Route 53 sees ${ctx.primary.name} as ${describeHealth(status)}; refusing to promote ${ctx.standby.name} (pass --force for a drill)`);
    }
    if (status.healthy) ctx.note('--force: promoting although the primary is healthy (drill); DNS will keep answering with the primary');
    await apiReady(ctx, 'standby');
  }
}

/** Return only to a primary whose API is back; both clusters must answer. */
export class FailbackPreflight implements Step {
  readonly name = 'preflight';
  readonly verifies = 'AWS credentials work; both APIs are ready; Route 53 records found';

  async run(ctx: StepContext): Promise<void> {
    await identity(ctx);
    await apiReady(ctx, 'primary');
    await apiReady(ctx, 'standby');
    const found = await records(ctx);
    ctx.note(`primary ${ctx.primary.name} health check: ${describeHealth(await healthCheckStatus(ctx.cli, found.primary.healthCheckId!))}`);
  }
}
