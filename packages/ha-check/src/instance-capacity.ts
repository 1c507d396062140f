import { allocatableOf, INSTANCE_TYPES, memTotalMiB, nodeCapacityOf, type InstanceTypeInfo, type NodeCapacity } from '@platform/platform-config';
import type { Resources } from './model';

/**
 * Instance types ha-check knows besides the ones a cluster definition may use: a plan
 * written by hand or an older stack may name others. Figures from the EC2 instance type pages;
 * memoryOverheadMiB (nominal − MemTotal) from the same measurements as platform-config's
 * (memTotalMiB), 7th-generation Intel types taking their 6th-generation sibling's.
 */
const MORE_INSTANCE_TYPES: Readonly<Record<string, Pick<InstanceTypeInfo, 'vcpu' | 'memoryMiB' | 'memoryOverheadMiB'>>> = {
  't3.small': { vcpu: 2, memoryMiB: 2048, memoryOverheadMiB: 131 },
  't3.2xlarge': { vcpu: 8, memoryMiB: 32768, memoryOverheadMiB: 1039 },
  'm5.2xlarge': { vcpu: 8, memoryMiB: 32768, memoryOverheadMiB: 1149 },
  'm5.4xlarge': { vcpu: 16, memoryMiB: 65536, memoryOverheadMiB: 2718 },
  'm6i.4xlarge': { vcpu: 16, memoryMiB: 65536, memoryOverheadMiB: 2270 },
  'm7i.4xlarge': { vcpu: 16, memoryMiB: 65536, memoryOverheadMiB: 2270 },
  'c6i.2xlarge': { vcpu: 8, memoryMiB: 16384, memoryOverheadMiB: 673 },
  'c7i.2xlarge': { vcpu: 8, memoryMiB: 16384, memoryOverheadMiB: 673 },
  'r6i.xlarge': { vcpu: 4, memoryMiB: 32768, memoryOverheadMiB: 1204 },
  'r7i.xlarge': { vcpu: 4, memoryMiB: 32768, memoryOverheadMiB: 1204 },
  'm7g.2xlarge': { vcpu: 8, memoryMiB: 32768, memoryOverheadMiB: 1266 },
  'c7g.xlarge': { vcpu: 4, memoryMiB: 8192, memoryOverheadMiB: 420 },
};

/** vCPU and memory (MemTotal, as the kubelet reports it: platform-config nodeCapacityOf) of an instance type, or undefined when ha-check does not know it. */
export function instanceCapacity(instanceType: string): Resources | undefined {
  const info = INSTANCE_TYPES[instanceType] ?? MORE_INSTANCE_TYPES[instanceType];
  return info ? nodeCapacityOf(info) : undefined;
}

const KNOWN = [...Object.values(INSTANCE_TYPES), ...Object.values(MORE_INSTANCE_TYPES)];

/**
 * The nominal size the kubelet reserves are sized on. A pool's smallest capacity (infra-model)
 * is one of its types' nodeCapacityOf, or a copy with the same MemTotal: the known type with that
 * MemTotal gives it. Unknown: MemTotal itself (reserves a little smaller, allocatable a little larger).
 */
function nominalMemoryOf(capacity: Resources): number {
  const c = capacity as Partial<NodeCapacity>;
  return c.nominalMemoryMiB ?? KNOWN.find((t) => memTotalMiB(t) === capacity.memoryMiB)?.memoryMiB ?? capacity.memoryMiB;
}

/** What pods can request on a node: platform-config's allocatableOf (MemTotal minus the kubelet reserves and the eviction threshold), shared with the app catalog's checks. */
export function allocatable(capacity: Resources): Resources {
  return allocatableOf({ ...capacity, nominalMemoryMiB: nominalMemoryOf(capacity) });
}
