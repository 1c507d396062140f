import { describe, expect, it } from 'vitest';
import { benchmarkHaCheck } from '../src';

// Timing is `npm run bench`'s job (the goal is ≤ 1 s); this only pins down what it measures.
describe('benchmarkHaCheck', () => {
  it('runs the whole check on a generated cluster of 10,000 objects that meets its objectives', () => {
    const result = benchmarkHaCheck(10_000);
    expect(result.objects).toBeGreaterThanOrEqual(10_000);
    expect(result.objects).toBeLessThan(10_004);
    expect(result.kubernetesObjects).toBeGreaterThan(9_900);
    expect(result.findings).toBe(0);
    expect(result.wallMs).toBeGreaterThan(0);
    expect(result.cpuMs).toBeGreaterThan(0);
  });
});
