import { APP_HEALTH_CHECK_PATH, FENCED_HEALTH_CHECK_PATH } from '@platform/platform-config';
import { StepError, type Step, type StepContext } from '../step';

/**
 * Route 53 failover is not sticky: once the old primary's app answers again, its check would
 * pass. Promotion points the PRIMARY's check at a path the ingress does not serve, so it fails
 * whether the primary is down or back; Terraform ignores that field (aws-cluster
 * FailoverRecord). OpenStandby later points the PRIMARY record itself at the standby, since
 * Route 53 answers the PRIMARY when both checks fail. Skipped on a --drill.
 */
export class FencePrimary implements Step {
  readonly name = 'fence-primary';
  readonly verifies = `the PRIMARY's Route 53 health check probes ${FENCED_HEALTH_CHECK_PATH}, which fails`;

  async run(ctx: StepContext): Promise<void> {
    const id = ctx.facts.primaryHealthCheckId;
    if (!id) throw new StepError('no PRIMARY health check known; the preflight step must run first');
    if (ctx.options.drill) return ctx.note(`--drill: health check ${id} left on ${APP_HEALTH_CHECK_PATH}, DNS keeps answering ${ctx.primary.name}`);
    await ctx.cli.mutate('aws', ['route53', 'update-health-check', '--health-check-id', id, '--resource-path', FENCED_HEALTH_CHECK_PATH, '--output', 'json']);
    ctx.note(`health check ${id} now probes ${FENCED_HEALTH_CHECK_PATH}; fail-back (close-standby) puts ${APP_HEALTH_CHECK_PATH} back`);
  }
}
