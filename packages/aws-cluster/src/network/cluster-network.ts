import { Eip } from '@cdktf/provider-aws/lib/eip';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { azSuffix, MAX_AVAILABILITY_ZONES, parseCidr, subnetLayout } from '@platform/platform-config';
import { Construct } from 'constructs';
import { invalidProp } from '../private/validation';
import { NatProvider } from './nat-provider';

export interface ClusterNetworkProps {
  /** Prefix of the Name tags. */
  readonly namePrefix: string;
  /** Tag key Kubernetes' cloud controller uses to find the cluster's subnets (`kubernetes.io/cluster/<name>`). */
  readonly clusterTagKey: string;
  readonly region: string;
  readonly vpcCidr: string;
  /** Order matters: subnet blocks are numbered by position, so append new AZs at the end. */
  readonly availabilityZones: readonly string[];
  /** @default NatProvider.perAz() */
  readonly natProvider?: NatProvider;
}

/** What other constructs need of one AZ; plain strings so no provider type leaks out. */
export interface ZoneNetwork {
  readonly availabilityZone: string;
  readonly publicSubnetId: string;
  readonly privateSubnetId: string;
  readonly privateRouteTableId: string;
  /** AZ whose NAT gateway carries this AZ's private egress. */
  readonly egressAvailabilityZone: string;
}

/**
 * One VPC with a public and a private subnet per AZ, private egress through NAT gateways
 * placed by the NatProvider, and an S3 gateway endpoint so backups and images from S3 do
 * not depend on NAT.
 */
export class ClusterNetwork extends Construct {
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly zones: readonly ZoneNetwork[];
  readonly natStrategy: NatProvider['strategy'];

  constructor(scope: Construct, id: string, props: ClusterNetworkProps) {
    super(scope, id);
    const zones = props.availabilityZones;
    if (zones.length === 0) throw invalidProp('ClusterNetwork', 'availabilityZones', zones, 'at least one Availability Zone');
    const duplicate = zones.find((az, i) => zones.indexOf(az) !== i);
    if (duplicate) throw invalidProp('ClusterNetwork', 'availabilityZones', zones, `each AZ once (${duplicate} repeats)`);
    if (zones.length > MAX_AVAILABILITY_ZONES) {
      throw invalidProp('ClusterNetwork', 'availabilityZones', zones, `at most ${MAX_AVAILABILITY_ZONES} AZs (subnet layout)`);
    }
    if (!parseCidr(props.vpcCidr)) throw invalidProp('ClusterNetwork', 'vpcCidr', props.vpcCidr, 'an IPv4 CIDR block such as 10.20.0.0/16');
    const natProvider = props.natProvider ?? NatProvider.perAz();
    this.natStrategy = natProvider.strategy;
    this.vpcCidr = props.vpcCidr;

    const name = (suffix: string) => ({ Name: `${props.namePrefix}-${suffix}` });
    const vpc = new Vpc(this, 'vpc', { cidrBlock: props.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: name('vpc') });
    this.vpcId = vpc.id;
    const igw = new InternetGateway(this, 'internet-gateway', { vpcId: vpc.id, tags: name('igw') });
    const publicRoutes = new RouteTable(this, 'public-routes', { vpcId: vpc.id, tags: name('public') });
    new Route(this, 'public-default-route', { routeTableId: publicRoutes.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id });

    const layout = subnetLayout(props.vpcCidr, zones);
    const built = layout.map((zone) => {
      const s = azSuffix(zone.availabilityZone);
      const publicSubnet = new Subnet(this, `public-${s}`, {
        vpcId: vpc.id,
        availabilityZone: zone.availabilityZone,
        cidrBlock: zone.publicCidr,
        mapPublicIpOnLaunch: false,
        tags: { ...name(`public-${s}`), [props.clusterTagKey]: 'owned', 'kubernetes.io/role/elb': '1' },
      });
      new RouteTableAssociation(this, `public-${s}-routes`, { subnetId: publicSubnet.id, routeTableId: publicRoutes.id });
      const privateSubnet = new Subnet(this, `private-${s}`, {
        vpcId: vpc.id,
        availabilityZone: zone.availabilityZone,
        cidrBlock: zone.privateCidr,
        mapPublicIpOnLaunch: false,
        tags: { ...name(`private-${s}`), [props.clusterTagKey]: 'owned', 'kubernetes.io/role/internal-elb': '1' },
      });
      const privateRoutes = new RouteTable(this, `private-${s}-routes`, { vpcId: vpc.id, tags: name(`private-${s}`) });
      new RouteTableAssociation(this, `private-${s}-routes-association`, { subnetId: privateSubnet.id, routeTableId: privateRoutes.id });
      return { zone: zone.availabilityZone, suffix: s, publicSubnet, privateSubnet, privateRoutes };
    });

    // Gateways only where the strategy sends traffic, then each private table to its gateway.
    const natZones = new Set(built.map((_, i) => natProvider.egressZone(i)));
    const gateways = new Map<number, NatGateway>();
    for (const index of [...natZones].sort((a, b) => a - b)) {
      const { suffix, publicSubnet } = built[index];
      const eip = new Eip(this, `nat-${suffix}-address`, { domain: 'vpc', tags: name(`nat-${suffix}`) });
      gateways.set(index, new NatGateway(this, `nat-${suffix}`, { allocationId: eip.id, subnetId: publicSubnet.id, tags: name(`nat-${suffix}`), dependsOn: [igw] }));
    }
    built.forEach((zone, i) => {
      const gateway = gateways.get(natProvider.egressZone(i)) as NatGateway;
      new Route(this, `private-${zone.suffix}-default-route`, { routeTableId: zone.privateRoutes.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: gateway.id });
    });

    new VpcEndpoint(this, 's3-endpoint', {
      vpcId: vpc.id,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: [publicRoutes.id, ...built.map((z) => z.privateRoutes.id)],
      tags: name('s3'),
    });

    this.zones = built.map((zone, i) => ({
      availabilityZone: zone.zone,
      publicSubnetId: zone.publicSubnet.id,
      privateSubnetId: zone.privateSubnet.id,
      privateRouteTableId: zone.privateRoutes.id,
      egressAvailabilityZone: built[natProvider.egressZone(i)].zone,
    }));
  }
}
