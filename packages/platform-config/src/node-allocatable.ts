import { INSTANCE_TYPES, type InstanceTypeInfo } from './instance-types';

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
 * The memory the kernel reports in /proc/meminfo MemTotal, which cAdvisor hands the kubelet as the
 * node's memory capacity: the nominal size less what never reaches the kernel's page allocator
 * (the hypervisor's and the firmware's share, the kernel image, the struct page array, ~1.6 % of
 * RAM, a crashkernel reservation). 3–7 % on the types we allow, more on small sizes.
 * Source of memoryOverheadMiB (INSTANCE_TYPES): the per-type nominal − capacity measurements
 * Karpenter's AWS provider generated from launched instances
 * (github.com/aws/karpenter-provider-aws, pkg/providers/instancetype/zz_generated.memory_overhead.go,
 * rounded up to whole MiB); Karpenter itself falls back to a flat `vmMemoryOverheadPercent` 0.075
 * for types it has not measured. Those were EKS AMIs: an Ubuntu node's kernel and crashkernel
 * setting differ slightly; `kubectl get node -o jsonpath='{.status.capacity.memory}'` on a real
 * node is the figure to replace them with.
 */
export function memTotalMiB(info: Pick<InstanceTypeInfo, 'memoryMiB' | 'memoryOverheadMiB'>): number {
  return info.memoryMiB - info.memoryOverheadMiB;
}

/** A node's capacity as the kubelet reports it (memoryMiB: MemTotal), with the nominal size the reserves are sized on. */
export interface NodeCapacity extends NodeResources {
  readonly nominalMemoryMiB: number;
}

/**
 * The one place instance-type figures become node capacity: vCPUs and MemTotal, as the kubelet
 * reports them, and the nominal memory. The kubelet reserves (node-bootstrap renders them per
 * pool) are sized on the nominal size, the same for every type of a pool (one size per pool);
 * allocatable (the app catalog's checks, ha-check) starts from MemTotal.
 */
export function nodeCapacityOf(info: Pick<InstanceTypeInfo, 'vcpu' | 'memoryMiB' | 'memoryOverheadMiB'>): NodeCapacity {
  return { cpuMilli: info.vcpu * 1000, memoryMiB: memTotalMiB(info), nominalMemoryMiB: info.memoryMiB };
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

/**
 * The reserves of a node of `size`: its vCPUs and its nominal memory (the size the GKE/EKS tiers
 * are defined on; the same for every type of a pool, so one patch per pool holds).
 */
export function kubeletReservesOf(size: NodeResources): KubeletReserves {
  const cpu = tiered(size.cpuMilli, [[1000, 0.06], [1000, 0.01], [2000, 0.005], [Infinity, 0.0025]]);
  const memory = tiered(size.memoryMiB, [[4096, 0.25], [4096, 0.2], [8192, 0.1], [114688, 0.06], [Infinity, 0.02]]);
  // Whole millicores and MiB, rounded up: the kubelet is given at least what the model subtracts.
  return { kubeReserved: { cpuMilli: Math.ceil(cpu), memoryMiB: Math.ceil(memory) }, systemReserved: { cpuMilli: 0, memoryMiB: 0 }, evictionHardMemoryMiB: 100 };
}

/** What pods can request on a node: its MemTotal (nodeCapacityOf, not the nominal size) minus the kubelet reserves (sized on the nominal size) and the memory hard-eviction threshold. */
export function allocatableOf(capacity: NodeCapacity): NodeResources {
  const r = kubeletReservesOf({ cpuMilli: capacity.cpuMilli, memoryMiB: capacity.nominalMemoryMiB });
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
  return info ? allocatableOf(nodeCapacityOf(info)) : undefined;
}
