import { describe, expect, it } from 'vitest';
import { INSTANCE_TYPES, instanceTypeAllocatable, instanceTypeKubeletReserves, memTotalMiB, nodeCapacityOf } from '../src';

/**
 * The kubelet's memory capacity is the kernel's MemTotal, below the nominal size EC2 lists
 * (memTotalMiB documents the measurements). Allocatable starts from it; the reserves stay sized
 * on the nominal size, so every type of one size renders one kubelet patch.
 */
describe('node capacity: MemTotal below nominal memory', () => {
  it('deducts 3–7 % on every type we allow, more on small sizes than on large ones', () => {
    for (const [type, info] of Object.entries(INSTANCE_TYPES)) {
      const share = info.memoryOverheadMiB / info.memoryMiB;
      expect(share, type).toBeGreaterThan(0.03);
      expect(share, type).toBeLessThan(0.075);
    }
    const m6i = ['m6i.large', 'm6i.xlarge', 'm6i.2xlarge'].map((t) => INSTANCE_TYPES[t]!).map((i) => i.memoryOverheadMiB / i.memoryMiB);
    expect(m6i).toEqual([...m6i].sort((a, b) => b - a));
  });

  it('t3.large: 8192 MiB nominal, 7827 MiB MemTotal, 5883 MiB allocatable (6248 when it started from the nominal size)', () => {
    const info = INSTANCE_TYPES['t3.large']!;
    expect(memTotalMiB(info)).toBe(7827);
    expect(nodeCapacityOf(info)).toEqual({ cpuMilli: 2000, memoryMiB: 7827, nominalMemoryMiB: 8192 });
    // Reserves on the nominal size: 25 % of 4 GiB + 20 % of the next 4 GiB; the eviction threshold 100 MiB.
    expect(instanceTypeKubeletReserves('t3.large')!.kubeReserved.memoryMiB).toBe(1844);
    expect(instanceTypeAllocatable('t3.large')).toEqual({ cpuMilli: 1930, memoryMiB: 7827 - 1844 - 100 });
  });

  it('types of one size share their reserves (one kubelet patch per pool) but not their allocatable', () => {
    expect(instanceTypeKubeletReserves('m6i.large')).toEqual(instanceTypeKubeletReserves('t3.large'));
    expect(instanceTypeAllocatable('m5.large')!.memoryMiB).toBeLessThan(instanceTypeAllocatable('m6i.large')!.memoryMiB);
  });
});
