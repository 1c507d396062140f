import { cidrsOverlap, parseCidr, type Ipv4Cidr } from './cidr';

/*
 * Values that only ever appear in examples. A platform that is applied (settings.example false)
 * must not carry them: an API open to a documentation range admits nobody, and a made-up hosted
 * zone fails the apply half-way, after the VPCs and control planes exist.
 */

/** RFC 5737: TEST-NET-1, -2 and -3, reserved for documentation and never routed. */
export const DOCUMENTATION_RANGES: readonly string[] = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'];

const DOCUMENTATION_CIDRS = DOCUMENTATION_RANGES.map((text) => ({ text, cidr: parseCidr(text) as Ipv4Cidr }));

/** The documentation range `cidr` overlaps, if any. */
export function documentationRangeOverlapping(cidr: Ipv4Cidr): string | undefined {
  return DOCUMENTATION_CIDRS.find((range) => cidrsOverlap(range.cidr, cidr))?.text;
}

/** RFC 2606 / RFC 6761: names no one can register, so no hosted zone of them answers on the internet. */
export const RESERVED_DOMAINS: readonly string[] = ['example.com', 'example.net', 'example.org', 'example', 'test', 'invalid', 'localhost'];

export function isReservedDomain(name: string): boolean {
  return RESERVED_DOMAINS.some((reserved) => name === reserved || name.endsWith(`.${reserved}`));
}

/**
 * Route 53 zone ids are "Z" and at least 12 more characters (older zones 13 or 14 in all, newer
 * ones 21); shorter ones, and ids spelling EXAMPLE or the schema's own sample, are made up.
 */
export const MIN_HOSTED_ZONE_ID_LENGTH = 13;
const SAMPLE_HOSTED_ZONE_IDS = ['Z0123456789ABCDEFGHIJ'];

export function isPlaceholderHostedZoneId(id: string): boolean {
  return id.length < MIN_HOSTED_ZONE_ID_LENGTH || id.includes('EXAMPLE') || SAMPLE_HOSTED_ZONE_IDS.includes(id);
}

/** AWS's documentation account id (also the emulator's, moto's, default account). */
export const PLACEHOLDER_ACCOUNT_IDS: readonly string[] = ['123456789012'];

/**
 * Image ids from AWS's documentation (and this repository's example lock): no region has them, so a
 * launch template naming one fails at the first instance launch, after the network and load balancers exist.
 */
export const PLACEHOLDER_IMAGE_IDS: readonly string[] = ['ami-0123456789abcdef0', 'ami-0abcdef1234567890', 'ami-1234567890abcdef0', 'ami-12345678', 'ami-abcd1234'];

export function isPlaceholderImageId(id: string): boolean {
  return PLACEHOLDER_IMAGE_IDS.includes(id);
}
