import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPlatform, platformInput, type ClusterDefinitionInput, type PlatformInput } from '@platform/platform-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthInfra } from '../src/main';
import { apiPath, StackNetwork, type Host, type PathVerdict } from './api-path';

/*
 * Node → API and operator → API, followed through the synthesized Terraform the way AWS
 * carries the packet (see api-path.ts): name in the user data → Route 53 → route (local or
 * NAT) → security groups → target group. Before the private endpoint, every node joined through
 * the internet-facing NLB's name, left through its AZ's NAT gateway with the NAT's Elastic IP as
 * source, and the API security group (VPC CIDR + allowedCidrs) dropped it: the old-shape
 * fixtures below rebuild that and must be reported as that drop.
 */

const platform = defaultPlatform();
const OPERATOR = '203.0.113.10'; // inside production's and staging's allowedCidrs
const STRANGER = '192.0.2.10'; // in nobody's allowedCidrs

const dirs: string[] = [];
const synthesize = async (input?: PlatformInput): Promise<(stack: string) => StackNetwork> => {
  const dir = mkdtempSync(join(tmpdir(), 'infra-api-path-'));
  dirs.push(dir);
  await synthInfra(join(dir, 'out'), input);
  return (stack) => new StackNetwork(JSON.parse(readFileSync(join(dir, 'out', 'stacks', stack, 'cdk.tf.json'), 'utf8')));
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const expectAllowed = (v: PathVerdict): Extract<PathVerdict, { allowed: true }> => {
  if (!v.allowed) throw new Error(`dropped at ${v.droppedAt}: ${v.reason}\n${v.hops.map((h) => `  ${h.step}: ${h.detail}`).join('\n')}`);
  return v;
};
const outputHost = (net: StackNetwork, output: string): Host => {
  const m = /^\$\{([a-z0-9_]+)\.([^.}]+)\.([a-z_]+)\}$/.exec(net.json.output[output].value);
  if (!m) throw new Error(`output ${output} is not a reference`);
  return { ref: { type: m[1], name: m[2], attr: m[3] } };
};
const lbByName = (net: StackNetwork, name: string) => net.all('aws_lb').find(([, lb]) => lb.name === name)?.[0];

/** The old shape: nodes configured with the internet-facing NLB's own name, its SG admitting the VPC CIDR too. */
function oldShape(net: StackNetwork, cluster: string): StackNetwork {
  const json = structuredClone(net.json);
  const old = new StackNetwork(json);
  const publicLb = lbByName(old, `${cluster}-api`) as string;
  const privateRecord = old.all('aws_route53_record').find(([, r]) => r.name === platform.namesOf(cluster).apiInternal.hostname)?.[0] as string;
  for (const [, lt] of old.all('aws_launch_template')) lt.user_data = String(lt.user_data).replaceAll(`aws_route53_record.${privateRecord}.fqdn`, `aws_lb.${publicLb}.dns_name`);
  const group = old.deref(old.get('aws_lb', publicLb).security_groups[0])?.[1];
  json.resource.aws_vpc_security_group_ingress_rule['old-api-from-vpc'] = {
    security_group_id: `\${aws_security_group.${group}.id}`,
    ip_protocol: 'tcp',
    from_port: 6443,
    to_port: 6443,
    cidr_ipv4: platform.cluster(cluster).vpcCidr,
  };
  return old;
}

describe('API packet path over the synthesized stacks', () => {
  let stackOf: (stack: string) => StackNetwork;
  beforeAll(async () => {
    stackOf = await synthesize();
  });

  for (const cluster of platform.clusters) {
    const names = platform.namesOf(cluster);
    describe(cluster.name, () => {
      it(`every node, in every AZ, reaches the API through the internal NLB by its private name, with no NAT gateway on the path (nat: ${cluster.nat})`, () => {
        const net = stackOf(names.stack);
        const nodes = net.nodes();
        const zones = new Set<string>();
        for (const { asg, client } of nodes) {
          const host = net.nodeApiHost(client.launchTemplate);
          const verdict = expectAllowed(apiPath(net, client, host));
          expect('ref' in host && net.get('aws_route53_record', host.ref.name).name, asg).toBe(names.apiInternal.hostname);
          expect(verdict.natGateway, asg).toBeUndefined();
          expect(net.get('aws_lb', verdict.loadBalancer)).toMatchObject({ name: names.apiInternal.loadBalancer, internal: true });
          zones.add(net.subnet(client.subnet).az);
        }
        expect([...zones].sort()).toEqual([...cluster.availabilityZones].sort());
        expect(nodes.some(({ asg }) => asg.includes('control-plane')) && nodes.some(({ asg }) => !asg.includes('control-plane'))).toBe(true);
      });

      it('the old shape (nodes on the internet-facing NLB name) is dropped at the API security group, naming the NAT Elastic IP as source', () => {
        const old = oldShape(stackOf(names.stack), cluster.name);
        for (const { asg, client } of old.nodes()) {
          const verdict = apiPath(old, client, old.nodeApiHost(client.launchTemplate));
          expect(verdict.allowed, asg).toBe(false);
          if (verdict.allowed) continue;
          expect(verdict.droppedAt).toBe('security-group');
          // The NAT the node's private subnet routes to: its own AZ's, or the single one.
          const table = old.subnet(client.subnet).routeTable;
          const route = old.all('aws_route').find(([, r]) => old.deref(r.route_table_id)?.[1] === table && r.destination_cidr_block === '0.0.0.0/0')?.[1];
          const nat = old.get('aws_nat_gateway', old.deref(route?.nat_gateway_id)?.[1] as string);
          const eip = old.deref(nat.allocation_id)?.[1];
          expect(verdict.reason).toContain(`${cluster.name}-api-lb of aws_lb.${lbByName(old, `${cluster.name}-api`)} admits no TCP 6443 from source aws_eip.${eip}`);
          const natAz = old.get('aws_subnet', old.deref(nat.subnet_id)?.[1] as string).availability_zone;
          expect(natAz).toBe(cluster.nat === 'single' ? cluster.availabilityZones[0] : old.subnet(client.subnet).az);
        }
      });

      it(`operators in allowedCidrs reach api_endpoint (the public name) from the internet; others are dropped; the private name does not resolve outside`, () => {
        const net = stackOf(names.stack);
        const host = outputHost(net, 'api_endpoint');
        expect(net.get('aws_route53_record', 'ref' in host ? host.ref.name : '').name).toBe(names.apiHostname);
        const operator = expectAllowed(apiPath(net, { kind: 'internet', address: cluster.apiEndpoint.allowedCidrs[0].replace(/0\/\d+$/, '10') }, host));
        expect(net.get('aws_lb', operator.loadBalancer)).toMatchObject({ name: names.apiLoadBalancer, internal: false });
        const stranger = apiPath(net, { kind: 'internet', address: STRANGER }, host);
        expect(stranger).toMatchObject({ allowed: false, droppedAt: 'security-group' });
        expect(apiPath(net, { kind: 'internet', address: OPERATOR }, outputHost(net, 'api_internal_endpoint'))).toMatchObject({ allowed: false, droppedAt: 'dns', reason: expect.stringContaining('not resolvable from the internet') });
      });
    });
  }

  it('follows the resolver: a private zone not associated with the VPC, or a VPC without DNS support, answers nothing', () => {
    const net = stackOf(platform.namesOf('production').stack);
    const [{ client }] = net.nodes();
    const host = net.nodeApiHost(client.launchTemplate);
    const unassociated = new StackNetwork(structuredClone(net.json));
    for (const [, zone] of unassociated.all('aws_route53_zone')) zone.vpc = [{ vpc_id: '${aws_vpc.elsewhere.id}' }];
    expect(apiPath(unassociated, client, host)).toMatchObject({ allowed: false, droppedAt: 'dns' });
    const noDns = new StackNetwork(structuredClone(net.json));
    for (const [, vpc] of noDns.all('aws_vpc')) vpc.enable_dns_support = false;
    expect(apiPath(noDns, client, host)).toMatchObject({ allowed: false, droppedAt: 'dns', reason: expect.stringContaining('DNS support off') });
  });

  it('drops at the layer that is missing: the VPC rule on the internal NLB, or the control-plane registration in its target group', () => {
    const net = stackOf(platform.namesOf('production').stack);
    const [{ client }] = net.nodes();
    const host = net.nodeApiHost(client.launchTemplate);
    const internalLb = lbByName(net, 'production-api-int') as string;
    const lbGroup = net.deref(net.get('aws_lb', internalLb).security_groups[0])?.[1];
    const noVpcRule = new StackNetwork(structuredClone(net.json));
    const rules = noVpcRule.json.resource.aws_vpc_security_group_ingress_rule as Record<string, { security_group_id: string }>;
    for (const [id, rule] of Object.entries(rules)) if (rule.security_group_id === `\${aws_security_group.${lbGroup}.id}`) delete rules[id];
    expect(apiPath(noVpcRule, client, host)).toMatchObject({ allowed: false, droppedAt: 'security-group', reason: expect.stringContaining('production-api-int-lb') });
    const unregistered = new StackNetwork(structuredClone(net.json));
    const listener = unregistered.all('aws_lb_listener').find(([, l]) => unregistered.deref(l.load_balancer_arn)?.[1] === internalLb)?.[1];
    const tg = String(listener?.default_action[0].target_group_arn);
    for (const [, asg] of unregistered.all('aws_autoscaling_group')) asg.target_group_arns = ((asg.target_group_arns ?? []) as string[]).filter((t) => t !== tg);
    expect(apiPath(unregistered, client, host)).toMatchObject({ allowed: false, droppedAt: 'target', reason: expect.stringContaining('no ASG registers') });
  });

  it('an internal-only cluster has no public NLB: its nodes reach the private name; from the internet nothing answers', async () => {
    const input = structuredClone(platformInput) as { settings: PlatformInput['settings']; clusters: ClusterDefinitionInput[] };
    const staging = input.clusters.find((c) => c.name === 'staging') as ClusterDefinitionInput;
    staging.apiEndpoint = { exposure: 'internal', allowedCidrs: [] };
    const net = (await synthesize(input))('staging-cluster');
    expect(net.all('aws_lb').filter(([, lb]) => lb.internal !== true).map(([, lb]) => lb.name)).toEqual(['staging-ingress']);
    for (const { asg, client } of net.nodes()) expect(expectAllowed(apiPath(net, client, net.nodeApiHost(client.launchTemplate))).natGateway, asg).toBeUndefined();
    expect(apiPath(net, { kind: 'internet', address: OPERATOR }, outputHost(net, 'api_endpoint'))).toMatchObject({ allowed: false, droppedAt: 'dns' });
  });
});
