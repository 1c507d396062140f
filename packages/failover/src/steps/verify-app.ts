import { ORDERS_API, type ClusterDefinition } from '@platform/platform-config';
import type { Workload } from '../database';
import { probeOnce } from '../private/http-probe';
import { kube, type Side } from '../private/kube';
import { StepError, type Step, type StepContext } from '../step';

/** DNS name of a cluster's Terraform-owned ingress NLB. */
export async function ingressEndpoint(ctx: StepContext, cluster: ClusterDefinition): Promise<string> {
  const name = ctx.namesOf(cluster).ingressLoadBalancer;
  const dns = (await ctx.cli.read('aws', ['elbv2', 'describe-load-balancers', '--region', cluster.region, '--names', name, '--query', 'LoadBalancers[0].DNSName', '--output', 'text'])).trim();
  if (!dns || dns === 'None') throw new StepError(`ingress load balancer ${name} not found in ${cluster.region}`);
  return dns;
}

/**
 * Every app Deployment runs at least one replica per zone; the app answers through the target's
 * own ingress load balancer with the public host name; and the orders API writes an order and
 * reads it back (the restored database is writable and the app reaches it), before DNS is
 * trusted to send users.
 */
export class VerifyApp implements Step {
  readonly name = 'verify-app';
  readonly verifies = `every app Deployment is rolled out with ≥ 1 replica per AZ; the app answers 2xx/3xx through the ingress NLB; ${ORDERS_API.path} inserts an order and reads it back`;

  constructor(private readonly props: { readonly side: Side; readonly workload: Workload }) {}

  async run(ctx: StepContext): Promise<void> {
    const target = ctx[this.props.side];
    const zones = target.availabilityZones.length;
    for (const { namespace: ns, name } of this.props.workload.apps) {
      const live = await ctx.cli.readJson<{ spec?: { replicas?: number } }>('kubectl', kube(target, 'get', 'deployment', name, '-n', ns, '-o', 'json'));
      if ((live.spec?.replicas ?? 0) < zones) {
        ctx.note(`${ns}/${name}: ${live.spec?.replicas ?? 0} replicas → ${zones} (one per AZ; the HPA takes over from there)`);
        await ctx.cli.mutate('kubectl', kube(target, 'scale', 'deployment', name, '-n', ns, `--replicas=${zones}`));
      }
      if (!ctx.cli.dryRun) {
        await ctx.cli.read('kubectl', kube(target, 'rollout', 'status', `deployment/${name}`, '-n', ns, `--timeout=${ctx.options.timeouts.appSeconds}s`)).catch((error: Error) => {
          throw new StepError(`${ns}/${name} on ${target.name} did not roll out: ${error.message}`);
        });
      }
    }
    const endpoint = await ingressEndpoint(ctx, target);
    const host = ctx.platform.names.appHostname;
    const attempts = ctx.cli.dryRun ? 1 : ctx.options.probeAttempts;
    let last = '';
    for (let i = 1; i <= attempts; i++) {
      const result = await probeOnce(endpoint, ctx.options.probePath, host);
      last = result.detail;
      if (result.ok) {
        ctx.note(`http://${endpoint}${ctx.options.probePath} (Host: ${host}) answered ${result.detail} on attempt ${i}`);
        return this.ordersReadWrite(ctx, endpoint, host);
      }
      if (i < attempts) await ctx.sleep(ctx.options.pollSeconds);
    }
    if (ctx.cli.dryRun) return ctx.note(`dry run: the ingress does not answer yet (${last})`);
    throw new StepError(`http://${endpoint}${ctx.options.probePath} (Host: ${host}) did not answer 2xx/3xx in ${attempts} attempts; last: ${last}`);
  }

  /** POST one order, then GET it by its item: the database behind the app takes writes. */
  private async ordersReadWrite(ctx: StepContext, endpoint: string, host: string | undefined): Promise<void> {
    const item = `failover-check-${ctx.options.runId}-${ctx.options.action}`;
    const url = `http://${endpoint}${ORDERS_API.path} (Host: ${host})`;
    if (ctx.cli.dryRun) return ctx.note(`dry run: not writing order ${item} to ${url}`);
    const written = await probeOnce(endpoint, ORDERS_API.path, host, { method: 'POST', body: JSON.stringify({ item }), headers: { prefer: 'return=minimal' } });
    if (written.status !== 201) throw new StepError(`POST ${url} did not create order ${item}: ${written.detail} ${written.body?.slice(0, 200) ?? ''}`.trim());
    const read = await probeOnce(endpoint, `${ORDERS_API.path}?item=eq.${encodeURIComponent(item)}`, host);
    let rows: { item?: string }[] = [];
    try {
      rows = JSON.parse(read.body ?? '[]') as { item?: string }[];
    } catch {
      rows = [];
    }
    if (!read.ok || !Array.isArray(rows) || !rows.some((r) => r.item === item)) {
      throw new StepError(`GET ${url}?item=eq.${item} did not return the order just written: ${read.detail} ${read.body?.slice(0, 200) ?? ''}`.trim());
    }
    ctx.note(`${url}: order ${item} written (HTTP 201) and read back`);
  }
}
