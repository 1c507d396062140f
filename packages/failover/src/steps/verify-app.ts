import type { ClusterDefinition } from '@platform/platform-config';
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
 * The sample app runs at least one replica per zone and answers through the target's own
 * ingress load balancer, with the public host name, before DNS is trusted to send users.
 */
export class VerifyApp implements Step {
  readonly name = 'verify-app';
  readonly verifies = 'the app Deployment is rolled out with ≥ 1 replica per AZ and answers HTTP 2xx/3xx through the ingress NLB';

  constructor(private readonly props: { readonly side: Side; readonly workload: Workload }) {}

  async run(ctx: StepContext): Promise<void> {
    const target = ctx[this.props.side];
    const { appNamespace: ns, deployment } = this.props.workload;
    const live = await ctx.cli.readJson<{ spec?: { replicas?: number } }>('kubectl', kube(target, 'get', 'deployment', deployment, '-n', ns, '-o', 'json'));
    const zones = target.availabilityZones.length;
    if ((live.spec?.replicas ?? 0) < zones) {
      ctx.note(`${ns}/${deployment}: ${live.spec?.replicas ?? 0} replicas → ${zones} (one per AZ; the HPA takes over from there)`);
      await ctx.cli.mutate('kubectl', kube(target, 'scale', 'deployment', deployment, '-n', ns, `--replicas=${zones}`));
    }
    if (!ctx.cli.dryRun) {
      await ctx.cli.read('kubectl', kube(target, 'rollout', 'status', `deployment/${deployment}`, '-n', ns, `--timeout=${ctx.options.timeouts.appSeconds}s`)).catch((error: Error) => {
        throw new StepError(`${ns}/${deployment} on ${target.name} did not roll out: ${error.message}`);
      });
    }
    const endpoint = await ingressEndpoint(ctx, target);
    const host = ctx.platform.names.appHostname;
    const attempts = ctx.cli.dryRun ? 1 : ctx.options.probeAttempts;
    let last = '';
    for (let i = 1; i <= attempts; i++) {
      const result = await probeOnce(endpoint, ctx.options.probePath, host);
      last = result.detail;
      if (result.ok) return ctx.note(`http://${endpoint}${ctx.options.probePath} (Host: ${host}) answered ${result.detail} on attempt ${i}`);
      if (i < attempts) await ctx.sleep(ctx.options.pollSeconds);
    }
    if (ctx.cli.dryRun) return ctx.note(`dry run: the ingress does not answer yet (${last})`);
    throw new StepError(`http://${endpoint}${ctx.options.probePath} (Host: ${host}) did not answer 2xx/3xx in ${attempts} attempts; last: ${last}`);
  }
}
