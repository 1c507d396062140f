import { pollUntil } from '../private/poll';
import type { Side } from '../private/kube';
import { describeHealth, healthCheckStatus } from '../route53';
import { StepError, type Step, type StepContext } from '../step';

/**
 * DNS moves by itself (Route 53 failover records on health checks); this step only checks
 * that Route 53 now answers with the expected cluster's ingress NLB addresses.
 */
export class DnsReport implements Step {
  readonly name = 'dns-report';
  readonly verifies = "Route 53 answers the app record with the expected cluster's ingress NLB addresses (test-dns-answer)";

  constructor(private readonly props: { readonly expect: Side }) {}

  async run(ctx: StepContext): Promise<void> {
    const { hostedZoneId, primaryHealthCheckId, secondaryHealthCheckId } = ctx.facts;
    const hostname = ctx.platform.names.appHostname;
    if (!hostedZoneId || !hostname) throw new StepError('no hosted zone known; the preflight step must run first');
    for (const [label, id] of [['primary', primaryHealthCheckId], ['secondary', secondaryHealthCheckId]] as const) {
      if (id) ctx.note(`${label} health check ${id}: ${describeHealth(await healthCheckStatus(ctx.cli, id))}`);
    }
    const expected = ctx[this.props.expect];
    const nlb = ctx.namesOf(expected).ingressLoadBalancer;
    const ips = await ctx.cli.readJson<string[] | null>('aws', [
      'ec2',
      'describe-network-interfaces',
      '--region',
      expected.region,
      '--filters',
      `Name=description,Values=ELB net/${nlb}/*`,
      '--query',
      'NetworkInterfaces[].Association.PublicIp',
      '--output',
      'json',
    ]);
    const want = new Set((ips ?? []).filter(Boolean));
    const check = async () => {
      const answer = await ctx.cli.readJson<{ RecordData?: string[]; ResponseCode?: string }>('aws', [
        'route53',
        'test-dns-answer',
        '--hosted-zone-id',
        hostedZoneId,
        '--record-name',
        hostname,
        '--record-type',
        'A',
        '--output',
        'json',
      ]);
      const data = answer.RecordData ?? [];
      return { done: data.length > 0 && data.every((ip) => want.has(ip)), status: `${answer.ResponseCode ?? '?'} ${data.join(', ') || '(empty)'} (${nlb}: ${[...want].join(', ') || 'no addresses'})` };
    };
    const ttl = ctx.platform.settings.dns?.ttlSeconds ?? 60;
    if (ctx.cli.dryRun || (this.props.expect === 'standby' && ctx.options.drill)) {
      const seen = await check();
      return ctx.note(`Route 53 answers ${seen.status}${seen.done ? '' : ` — not yet ${expected.name}`} (no wait: ${ctx.cli.dryRun ? 'dry run' : '--drill'})`);
    }
    const status = await pollUntil(ctx, `Route 53 to answer with ${expected.name}`, ctx.options.timeouts.dnsSeconds, check);
    ctx.note(`Route 53 answers ${status}; resolvers that cached the old answer follow within the ${ttl} s TTL`);
  }
}
