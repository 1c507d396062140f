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
 * What the kubelet keeps from pods on a node (node-bootstrap renders these into each node's
 * KubeletConfiguration, so the allocatable below is what the API server really reports):
 * - kubeReserved: the widely used GKE/EKS reservation formula (6 % of the first core, 1 % of the
 *   next, ...; 25 % of the first 4 GiB of memory, 20 % of the next 4 GiB, ...), which covers the
 *   kubelet, containerd and the OS daemons as EKS does;
 * - systemReserved: none on top. With `enforceNodeAllocatable: [pods]` (the kubelet default) the
 *   split between the two only moves a number: allocatable is capacity less both;
 * - evictionHardMemoryMiB: the kubelet's `memory.available` hard-eviction threshold (its default).
 */
export interface KubeletReserves {
  readonly kubeReserved: NodeResources;
  readonly systemReserved: NodeResources;
  readonly evictionHardMemoryMiB: number;
}

/** The kubelet's hard-eviction thresholds: its defaults, written out whole (a partial `evictionHard` drops the others). */
export const KUBELET_EVICTION_HARD = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
  'imagefs.inodesFree': '5%',
} as const;

export function kubeletReservesOf(capacity: NodeResources): KubeletReserves {
  const cpu = tiered(capacity.cpuMilli, [[1000, 0.06], [1000, 0.01], [2000, 0.005], [Infinity, 0.0025]]);
  const memory = tiered(capacity.memoryMiB, [[4096, 0.25], [4096, 0.2], [8192, 0.1], [114688, 0.06], [Infinity, 0.02]]);
  // Whole millicores and MiB, rounded up: the kubelet is given at least what the model subtracts.
  return { kubeReserved: { cpuMilli: Math.ceil(cpu), memoryMiB: Math.ceil(memory) }, systemReserved: { cpuMilli: 0, memoryMiB: 0 }, evictionHardMemoryMiB: 100 };
}

/** What pods can request on a node: capacity minus the kubelet reserves and the memory hard-eviction threshold (kubeletReservesOf). */
export function allocatableOf(capacity: NodeResources): NodeResources {
  const r = kubeletReservesOf(capacity);
  return {
    cpuMilli: capacity.cpuMilli - r.kubeReserved.cpuMilli - r.systemReserved.cpuMilli,
    memoryMiB: capacity.memoryMiB - r.kubeReserved.memoryMiB - r.systemReserved.memoryMiB - r.evictionHardMemoryMiB,
  };
}

/** The kubelet reserves of a known instance type (INSTANCE_TYPES), or undefined for an unknown one. */
export function instanceTypeKubeletReserves(instanceType: string): KubeletReserves | undefined {
  const info = INSTANCE_TYPES[instanceType];
  return info ? kubeletReservesOf({ cpuMilli: info.vcpu * 1000, memoryMiB: info.memoryMiB }) : undefined;
}

/** Allocatable of a known instance type (INSTANCE_TYPES), or undefined for an unknown one. */
export function instanceTypeAllocatable(instanceType: string): NodeResources | undefined {
  const info = INSTANCE_TYPES[instanceType];
  return info ? allocatableOf({ cpuMilli: info.vcpu * 1000, memoryMiB: info.memoryMiB }) : undefined;
}
