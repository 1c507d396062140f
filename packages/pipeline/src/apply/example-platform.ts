import type { Platform } from '@platform/platform-config';

/**
 * Why an example platform is never applied: its values are placeholders (documentation address
 * ranges on the API, a made-up hosted zone), so a real apply would stop half-way at the first
 * Route 53 record, after the VPCs and control planes exist, or expose an API nobody can reach.
 */
export const EXAMPLE_PLATFORM_REFUSAL =
  'settings.example is true: the platform holds placeholder values (documentation address ranges, a made-up hosted zone), so none of its stacks is applied; ' +
  'set real values in packages/platform-config/src/clusters/ and remove example (README, "Making the platform real")';

/** Throws EXAMPLE_PLATFORM_REFUSAL for an example platform; a real one passes. */
export function assertAppliable(platform: Pick<Platform, 'settings'>): void {
  if (platform.settings.example) throw new Error(EXAMPLE_PLATFORM_REFUSAL);
}
