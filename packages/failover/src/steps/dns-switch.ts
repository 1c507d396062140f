import { APP_HEALTH_CHECK_PATH, ROUTE53_METRICS_REGION, UNPROMOTED_HEALTH_CHECK_PATH } from '@platform/platform-config';
import { setAlarmActions } from '../page-alarm';
import { writePromotedMarker } from '../promotion-marker';
import { loadBalancerAlias, upsertPrimaryRecord, type FailoverRecords } from '../route53';
import { StepError, type Step, type StepContext } from '../step';

function found(ctx: StepContext): FailoverRecords & { primary: { healthCheckId: string; setIdentifier: string }; secondary: { healthCheckId: string } } {
  const records = ctx.facts.records;
  if (!records?.primary.healthCheckId || !records.primary.setIdentifier || !records.secondary.healthCheckId) {
    throw new StepError('the failover records and both health checks must be known; the preflight step must run first');
  }
  return records as ReturnType<typeof found>;
}

async function setPath(ctx: StepContext, id: string, path: string): Promise<void> {
  await ctx.cli.mutate('aws', ['route53', 'update-health-check', '--health-check-id', id, '--resource-path', path, '--output', 'json']);
}

/**
 * The standby's page alarm follows its check. A failure to set it is a WARNING, never a stop:
 * a half-moved DNS pair is worse than a page that has to be armed by hand.
 */
async function pageAlarm(ctx: StepContext, armed: boolean): Promise<void> {
  const alarm = ctx.namesOf(ctx.standby).healthCheckAlarm.alarm;
  try {
    await setAlarmActions(ctx.cli, alarm, armed);
  } catch (error) {
    ctx.note(`WARNING: ${(error as Error).message}. Do it by hand: aws cloudwatch ${armed ? 'enable' : 'disable'}-alarm-actions --region ${ROUTE53_METRICS_REGION} --alarm-names ${alarm}`);
  }
}

/**
 * After the restored app is verified: the standby's check probes the app (it stays unhealthy
 * before, so no user reaches an unrestored database), and the PRIMARY record leads to the
 * standby's load balancer, so neither a returning primary nor a blip in the standby's check
 * (both unhealthy → Route 53 answers the PRIMARY) sends users back. Not on a --drill.
 */
export class OpenStandby implements Step {
  readonly name = 'open-standby';
  readonly verifies = `the SECONDARY's health check probes ${APP_HEALTH_CHECK_PATH} and its us-east-1 alarm pages; the PRIMARY record (fenced check kept) aliases the standby's ingress NLB`;

  async run(ctx: StepContext): Promise<void> {
    if (ctx.options.drill) return ctx.note('--drill: DNS left alone; users stay on the primary');
    const records = found(ctx);
    await setPath(ctx, records.secondary.healthCheckId, APP_HEALTH_CHECK_PATH);
    const target = await loadBalancerAlias(ctx.cli, ctx.standby.region, ctx.namesOf(ctx.standby).ingressLoadBalancer, false);
    const hostname = ctx.platform.names.appHostname!;
    await upsertPrimaryRecord(ctx.cli, { hostedZoneId: records.hostedZoneId, hostname, setIdentifier: records.primary.setIdentifier, healthCheckId: records.primary.healthCheckId, target });
    ctx.note(`PRIMARY ${hostname} now aliases ${target.DNSName}; fail-back puts ${ctx.primary.name}'s load balancer back. The pipeline refuses to apply ${ctx.namesOf(ctx.primary).stack} until then`);
    // Only now do users reach the standby: from here on the fence may stop a returning primary.
    const marker = await writePromotedMarker(ctx, 'serves');
    ctx.note(`${marker}: ${ctx.standby.name} serves`);
    // From now on the standby's check guards the users: its failure must page.
    await pageAlarm(ctx, true);
  }
}

/**
 * Fail-back, once the primary's restored app is verified: the PRIMARY record leads to the
 * primary's own load balancer again (as Terraform wrote it: target health evaluated), its check
 * probes the app again and the standby's check is closed.
 */
export class CloseStandby implements Step {
  readonly name = 'close-standby';
  readonly verifies = `the PRIMARY record aliases the primary's ingress NLB and its check probes ${APP_HEALTH_CHECK_PATH}; the SECONDARY's alarm is silent and its check probes ${UNPROMOTED_HEALTH_CHECK_PATH}`;

  async run(ctx: StepContext): Promise<void> {
    const records = found(ctx);
    const target = await loadBalancerAlias(ctx.cli, ctx.primary.region, ctx.namesOf(ctx.primary).ingressLoadBalancer, true);
    await upsertPrimaryRecord(ctx.cli, {
      hostedZoneId: records.hostedZoneId,
      hostname: ctx.platform.names.appHostname!,
      setIdentifier: records.primary.setIdentifier,
      healthCheckId: records.primary.healthCheckId,
      target,
    });
    await setPath(ctx, records.primary.healthCheckId, APP_HEALTH_CHECK_PATH);
    // Silenced before its check is closed: the closing failure is by design, not a page.
    await pageAlarm(ctx, false);
    await setPath(ctx, records.secondary.healthCheckId, UNPROMOTED_HEALTH_CHECK_PATH);
  }
}
