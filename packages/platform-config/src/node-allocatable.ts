import { INSTANCE_TYPES } from './instance-types';

/** CPU (millicores) and memory (MiB) of a node, or what pods may request on it. */
export interface NodeResources {
  readonly cpuMilli: number;
  readonly memoryMiB: number;
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
export function allocatableOf(capacity: NodeResources): NodeResources {
  const cpuReserve = tiered(capacity.cpuMilli, [[1000, 0.06], [1000, 0.01], [2000, 0.005], [Infinity, 0.0025]]);
  const memReserve = tiered(capacity.memoryMiB, [[4096, 0.25], [4096, 0.2], [8192, 0.1], [114688, 0.06], [Infinity, 0.02]]) + 100;
  return { cpuMilli: Math.floor(capacity.cpuMilli - cpuReserve), memoryMiB: Math.floor(capacity.memoryMiB - memReserve) };
}

/** Allocatable of a known instance type (INSTANCE_TYPES), or undefined for an unknown one. */
export function instanceTypeAllocatable(instanceType: string): NodeResources | undefined {
  const info = INSTANCE_TYPES[instanceType];
  return info ? allocatableOf({ cpuMilli: info.vcpu * 1000, memoryMiB: info.memoryMiB }) : undefined;
}
