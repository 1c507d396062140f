import type { ClusterDefinition } from '@platform/platform-config';

/**
 * Where each private subnet's internet egress goes. A strategy, not a flag, so a new
 * layout (e.g. NAT instances) is one more subclass rather than branches in the network.
 */
export abstract class NatProvider {
  /** A NAT gateway in every AZ; each private subnet routes to its own AZ's gateway. */
  static perAz(): NatProvider {
    return new PerAzNatProvider();
  }

  /** One NAT gateway in the first AZ for every private subnet: cheaper, lost with that AZ. */
  static single(): NatProvider {
    return new SingleNatProvider();
  }

  /** The strategy a cluster definition's `nat` field names. */
  static fromDefinition(nat: ClusterDefinition['nat']): NatProvider {
    return nat === 'single' ? NatProvider.single() : NatProvider.perAz();
  }

  abstract readonly strategy: ClusterDefinition['nat'];

  /** Index of the AZ whose NAT gateway serves the private subnet of AZ `zoneIndex`. */
  abstract egressZone(zoneIndex: number): number;
}

class PerAzNatProvider extends NatProvider {
  readonly strategy = 'per-az' as const;
  egressZone(zoneIndex: number): number {
    return zoneIndex;
  }
}

class SingleNatProvider extends NatProvider {
  readonly strategy = 'single' as const;
  egressZone(): number {
    return 0;
  }
}
