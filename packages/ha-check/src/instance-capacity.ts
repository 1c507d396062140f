import { INSTANCE_TYPES, type InstanceTypeInfo } from '@platform/platform-config';
import type { Resources } from './model';

/**
 * Instance types ha-check knows besides the ones a cluster definition may use: a plan
 * written by hand or an older stack may name others. Figures from the EC2 instance type pages.
 */
const MORE_INSTANCE_TYPES: Readonly<Record<string, Pick<InstanceTypeInfo, 'vcpu' | 'memoryMiB'>>> = {
  't3.small': { vcpu: 2, memoryMiB: 2048 },
  't3.2xlarge': { vcpu: 8, memoryMiB: 32768 },
  'm5.2xlarge': { vcpu: 8, memoryMiB: 32768 },
  'm5.4xlarge': { vcpu: 16, memoryMiB: 65536 },
  'm6i.4xlarge': { vcpu: 16, memoryMiB: 65536 },
  'm7i.4xlarge': { vcpu: 16, memoryMiB: 65536 },
  'c6i.2xlarge': { vcpu: 8, memoryMiB: 16384 },
  'c7i.2xlarge': { vcpu: 8, memoryMiB: 16384 },
  'r6i.xlarge': { vcpu: 4, memoryMiB: 32768 },
  'r7i.xlarge': { vcpu: 4, memoryMiB: 32768 },
  'm7g.2xlarge': { vcpu: 8, memoryMiB: 32768 },
  'c7g.xlarge': { vcpu: 4, memoryMiB: 8192 },
};

/** vCPU and memory of an instance type, or undefined when ha-check does not know it. */
export function instanceCapacity(instanceType: string): Resources | undefined {
  const info = INSTANCE_TYPES[instanceType] ?? MORE_INSTANCE_TYPES[instanceType];
  return info ? { cpuMilli: info.vcpu * 1000, memoryMiB: info.memoryMiB } : undefined;
}

function tiered(total: number, tiers: ReadonlyArray<readonly [number, number]>): number {
  let left = total;
  let reserved = 0;
  for (const [size, share] of tiers) {
    const part = Math.min(left, size);
    reserved += part * share;
    left -= part;
    if (left <= 0) break;
  }
  return reserved;
}

/**
 * What pods can request on a node: capacity minus kubelet/system reserves. The tiers are the
 * widely used GKE/EKS reservation formula (6 % of the first core, 25 % of the first 4 GiB, ...)
 * plus the 100 MiB hard-eviction threshold, so the maths does not promise capacity kubelet keeps.
 */
export function allocatable(capacity: Resources): Resources {
  const cpuReserve = tiered(capacity.cpuMilli, [[1000, 0.06], [1000, 0.01], [2000, 0.005], [Infinity, 0.0025]]);
  const memReserve = tiered(capacity.memoryMiB, [[4096, 0.25], [4096, 0.2], [8192, 0.1], [114688, 0.06], [Infinity, 0.02]]) + 100;
  return { cpuMilli: Math.floor(capacity.cpuMilli - cpuReserve), memoryMiB: Math.floor(capacity.memoryMiB - memReserve) };
}
