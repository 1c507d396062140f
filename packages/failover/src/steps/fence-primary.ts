import { FENCED_HEALTH_CHECK_PATH, INGRESS_HEALTH_CHECK_PATH } from '@platform/platform-config';
import { StepError, type Step, type StepContext } from '../step';

/** The PRIMARY record's health check id, found by the preflight. */
function primaryCheck(ctx: StepContext): string {
  const id = ctx.facts.primaryHealthCheckId;
  if (!id) throw new StepError('no PRIMARY health check known; the preflight step must run first');
  return id;
}

async function setPath(ctx: StepContext, id: string, path: string): Promise<void> {
  await ctx.cli.mutate('aws', ['route53', 'update-health-check', '--health-check-id', id, '--resource-path', path, '--output', 'json']);
}

/**
 * Route 53 failover is not sticky: once the old primary's app answers again, DNS would send
 * users back to its stale database. Promotion points the PRIMARY's check at a path the ingress
 * does not serve, so the check fails whether the primary is down or back; Terraform ignores
 * that field (aws-cluster FailoverRecord). Skipped on a --force drill: DNS stays on the primary.
 */
export class FencePrimary implements Step {
  readonly name = 'fence-primary';
  readonly verifies = `the PRIMARY's Route 53 health check probes ${FENCED_HEALTH_CHECK_PATH}, which fails, so DNS stays on the standby until fail-back`;

  async run(ctx: StepContext): Promise<void> {
    const id = primaryCheck(ctx);
    if (ctx.options.force) return ctx.note(`--force drill: health check ${id} left on ${INGRESS_HEALTH_CHECK_PATH}, DNS keeps answering ${ctx.primary.name}`);
    await setPath(ctx, id, FENCED_HEALTH_CHECK_PATH);
    ctx.note(`health check ${id} now probes ${FENCED_HEALTH_CHECK_PATH}; undo (fail-back does it): aws route53 update-health-check --health-check-id ${id} --resource-path ${INGRESS_HEALTH_CHECK_PATH}`);
  }
}

/** Fail-back, once the primary serves again: its check probes the real path, DNS returns. */
export class UnfencePrimary implements Step {
  readonly name = 'unfence-primary';
  readonly verifies = `the PRIMARY's Route 53 health check probes ${INGRESS_HEALTH_CHECK_PATH} again`;

  async run(ctx: StepContext): Promise<void> {
    const id = primaryCheck(ctx);
    await setPath(ctx, id, INGRESS_HEALTH_CHECK_PATH);
  }
}
