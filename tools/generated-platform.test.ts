import { loadPlatform } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { generatedPlatform } from './generated-platform';

// The benchmark's synthetic workload must stay a valid platform as validation grows,
// or `npm run bench` breaks with nothing else noticing.
describe('generatedPlatform', () => {
  it.each([1, 10, 50])('gives %i valid clusters with distinct names and VPCs', (count) => {
    const platform = loadPlatform(generatedPlatform(count));
    expect(platform.clusters).toHaveLength(count);
    expect(new Set(platform.clusters.map((c) => c.name)).size).toBe(count);
    expect(new Set(platform.clusters.map((c) => c.vpcCidr)).size).toBe(count);
  });
});
