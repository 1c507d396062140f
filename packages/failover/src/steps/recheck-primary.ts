import { describeHealth, healthCheckStatus } from '../route53';
import { StepError, type Step, type StepContext } from '../step';

/**
 * Right before the standby's database becomes writable, Route 53 is asked again whether the
 * primary is down: scaling and node joins take minutes, and a primary that recovered meanwhile
 * serves users again (its check still probes the app: the fence comes only just before the
 * standby opens). Promoting then would leave two writable databases. Same split as the
 * preflight: --force promotes a primary whose check passes but whose app is broken; --drill
 * never fences and never moves users, so a healthy primary is expected.
 */
export class RecheckPrimary implements Step {
  readonly name = 'recheck-primary';
  readonly verifies = "Route 53 still sees the primary unhealthy just before the standby's database is promoted (or --force / --drill)";

  async run(ctx: StepContext): Promise<void> {
    const id = ctx.facts.primaryHealthCheckId;
    if (!id) throw new StepError('no PRIMARY health check known; the preflight step must run first');
    const status = await healthCheckStatus(ctx.cli, id);
    ctx.note(`primary ${ctx.primary.name} health check ${id}: ${describeHealth(status)}`);
    if (!status.healthy) return;
    if (ctx.options.drill) return ctx.note(`--drill: ${ctx.primary.name} healthy, as expected in a game day; it keeps serving`);
    if (ctx.options.force) return ctx.note(`--force: ${ctx.primary.name} answers its check again; promoting anyway, it is fenced before ${ctx.standby.name} opens`);
    throw new StepError(
      `Route 53 sees ${ctx.primary.name} as ${describeHealth(status)} again: it recovered during the promotion and may be taking writes; refusing to promote ${ctx.standby.name}'s database (nothing in it changed). ` +
        `Either let ${ctx.primary.name} serve and scale ${ctx.standby.name} back (npm run failover -- failback is not needed: only the marker and worker minimums changed), or re-run with --force if its app or database is broken although the check passes`,
    );
  }
}
