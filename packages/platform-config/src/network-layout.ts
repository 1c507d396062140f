import { cidrSubnet, formatCidr, parseCidr } from './cidr';

/** How a cluster's VPC is cut: 16 equal blocks, public subnets first, private from block 8. */
export const SUBNET_NEW_BITS = 4;
const PRIVATE_BLOCK_OFFSET = 8;
/** Each AZ takes one public and one private block, so at most 8 AZs fit; the region table has at most 6. */
export const MAX_AVAILABILITY_ZONES = PRIVATE_BLOCK_OFFSET;

export interface ZoneSubnets {
  readonly availabilityZone: string;
  readonly publicCidr: string;
  readonly privateCidr: string;
}

/**
 * The subnets of every AZ, in the order of `availabilityZones`. Indexes are stable: adding
 * an AZ at the end never renumbers the subnets of existing AZs (which would replace them).
 */
export function subnetLayout(vpcCidr: string, availabilityZones: readonly string[]): ZoneSubnets[] {
  const vpc = parseCidr(vpcCidr);
  if (!vpc) throw new Error(`subnetLayout: ${JSON.stringify(vpcCidr)} is not a CIDR block`);
  return availabilityZones.map((availabilityZone, index) => ({
    availabilityZone,
    publicCidr: formatCidr(cidrSubnet(vpc, SUBNET_NEW_BITS, index)),
    privateCidr: formatCidr(cidrSubnet(vpc, SUBNET_NEW_BITS, PRIVATE_BLOCK_OFFSET + index)),
  }));
}
