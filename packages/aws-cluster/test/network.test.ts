import { subnetLayout } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { ClusterNetwork, NatProvider } from '../src';
import { bareStack, clusterInput, platform, synthCluster, synthStack, type Synth } from './support';

const shipped = platform();

function privateRouteZones(synth: Synth) {
  // private route table → its subnet's AZ; its default route → NAT → NAT subnet's AZ
  const tableZone = new Map<string, string>();
  for (const association of synth.values('aws_route_table_association')) {
    const subnet = synth.deref(association.subnet_id);
    if (subnet.tags.Name.includes('private')) tableZone.set(association.route_table_id, subnet.availability_zone);
  }
  return synth
    .values('aws_route')
    .filter((r) => r.nat_gateway_id)
    .map((route) => {
      const nat = synth.deref(route.nat_gateway_id);
      return { subnetZone: tableZone.get(route.route_table_id), natZone: synth.deref(nat.subnet_id).availability_zone };
    });
}

describe('ClusterNetwork', () => {
  const production = synthCluster(shipped, 'production');
  const cluster = shipped.cluster('production');

  it('makes a public and a private subnet per AZ with the CIDRs of the layout, as literals', () => {
    const subnets = production.values('aws_subnet');
    expect(subnets).toHaveLength(6);
    const layout = subnetLayout(cluster.vpcCidr, cluster.availabilityZones);
    for (const zone of layout) {
      expect(subnets).toContainEqual(expect.objectContaining({ availability_zone: zone.availabilityZone, cidr_block: zone.publicCidr, map_public_ip_on_launch: false }));
      expect(subnets).toContainEqual(expect.objectContaining({ availability_zone: zone.availabilityZone, cidr_block: zone.privateCidr }));
    }
    expect(subnets.every((s) => s.tags['kubernetes.io/cluster/production'] === 'owned')).toBe(true);
  });

  it('routes each private subnet to the NAT gateway of its own AZ (per-az)', () => {
    expect(production.count('aws_nat_gateway')).toBe(3);
    expect(production.count('aws_eip')).toBe(3);
    const routes = privateRouteZones(production);
    expect(routes).toHaveLength(3);
    for (const route of routes) expect(route.natZone).toBe(route.subnetZone);
    expect(new Set(routes.map((r) => r.subnetZone))).toEqual(new Set(cluster.availabilityZones));
  });

  it('routes every private subnet to one NAT gateway when the definition says single', () => {
    const staging = synthCluster(shipped, 'staging');
    expect(staging.count('aws_nat_gateway')).toBe(1);
    const routes = privateRouteZones(staging);
    expect(routes).toHaveLength(3);
    expect(new Set(routes.map((r) => r.natZone))).toEqual(new Set(['ap-northeast-2a']));
  });

  it('adds an S3 gateway endpoint on every route table', () => {
    const [endpoint] = production.values('aws_vpc_endpoint');
    expect(endpoint).toMatchObject({ service_name: 'com.amazonaws.ap-northeast-2.s3', vpc_endpoint_type: 'Gateway' });
    expect(endpoint.route_table_ids).toHaveLength(4);
  });

  it('grows per-AZ resources with the AZ list (3 → 4 AZs)', () => {
    const four = platform((input) => {
      clusterInput(input, 'production').availabilityZones = ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c', 'ap-northeast-2d'];
    });
    const synth = synthCluster(four, 'production');
    expect(synth.count('aws_subnet')).toBe(8);
    expect(synth.count('aws_nat_gateway')).toBe(4);
    expect(privateRouteZones(synth).every((r) => r.natZone === r.subnetZone)).toBe(true);
    // existing AZs keep their subnets: adding one never renumbers (which would replace them)
    const before = production.values('aws_subnet').map((s) => s.cidr_block);
    const after = synth.values('aws_subnet').map((s) => s.cidr_block);
    expect(after).toEqual(expect.arrayContaining(before));
  });

  it('exposes per-AZ ids and the egress AZ of each private subnet', () => {
    const stack = bareStack();
    const network = new ClusterNetwork(stack, 'network', { namePrefix: 't', clusterTagKey: 'kubernetes.io/cluster/t', region: 'ap-northeast-2', vpcCidr: '10.0.0.0/16', availabilityZones: ['ap-northeast-2a', 'ap-northeast-2b'], natProvider: NatProvider.single() });
    expect(network.zones.map((z) => z.egressAvailabilityZone)).toEqual(['ap-northeast-2a', 'ap-northeast-2a']);
    expect(network.natStrategy).toBe('single');
    expect(synthStack(stack).count('aws_nat_gateway')).toBe(1);
  });

  describe('validation', () => {
    const props = { namePrefix: 't', clusterTagKey: 'k', region: 'ap-northeast-2', vpcCidr: '10.0.0.0/16', availabilityZones: ['ap-northeast-2a'] };
    const build = (change: object) => () => new ClusterNetwork(bareStack(), 'network', { ...props, ...change });
    it('rejects no AZ', () => {
      expect(build({ availabilityZones: [] })).toThrow('ClusterNetwork: props.availabilityZones = []; expected at least one Availability Zone');
    });
    it('rejects a repeated AZ', () => {
      expect(build({ availabilityZones: ['ap-northeast-2a', 'ap-northeast-2a'] })).toThrow('ClusterNetwork: props.availabilityZones = ["ap-northeast-2a","ap-northeast-2a"]; expected each AZ once (ap-northeast-2a repeats)');
    });
    it('rejects more AZs than the layout holds', () => {
      const zones = Array.from({ length: 9 }, (_, i) => `z-${i}`);
      expect(build({ availabilityZones: zones })).toThrow(`ClusterNetwork: props.availabilityZones = ${JSON.stringify(zones)}; expected at most 8 AZs (subnet layout)`);
    });
    it('rejects a malformed VPC CIDR', () => {
      expect(build({ vpcCidr: '10.0.0.1/16' })).toThrow('ClusterNetwork: props.vpcCidr = "10.0.0.1/16"; expected an IPv4 CIDR block such as 10.20.0.0/16');
    });
  });
});
