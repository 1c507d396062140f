import { allocatableOf, INSTANCE_TYPES, type InstanceTypeInfo } from '@platform/platform-config';
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

/** What pods can request on a node: platform-config's allocatableOf (capacity minus kubelet/system reserves), shared with the app catalog's checks. */
export function allocatable(capacity: Resources): Resources {
  return allocatableOf(capacity);
}
