/** What the platform needs to know of an EC2 instance type (capacity planning, ha-check). */
export interface InstanceTypeInfo {
  readonly vcpu: number;
  /** Nominal memory, as EC2 lists it. */
  readonly memoryMiB: number;
  /**
   * Nominal memory the kernel never reports in MemTotal (firmware and hypervisor share, kernel
   * image, struct page array, crashkernel), so the kubelet's capacity is memoryMiB minus this:
   * see memTotalMiB (node-allocatable.ts) for the source of the figures.
   */
  readonly memoryOverheadMiB: number;
  readonly architecture: 'x86_64' | 'arm64';
}

/**
 * Instance types a cluster definition may use. memoryOverheadMiB: measured nominal − MemTotal of
 * the type (7th-generation Intel types, unmeasured, take their 6th-generation sibling's: same Nitro
 * platform and memory size). Karpenter itself does not use that table for capacity: it subtracts a
 * flat 7.5 % (`vmMemoryOverheadPercent` 0.075) from every type, so its own allocatable differs from
 * ours. And the table has rows that are measurement failures, never to be copied blindly: some
 * list the whole memory as overhead (r6g.4xlarge 128 GiB while r6gd.4xlarge, the same machine, has
 * ~3.7 GiB; t4g.nano 512 MiB; g4ad.xlarge 16 GiB): a new row is checked against its siblings and
 * its share (3–7 % here) before it lands. Kept small on purpose: node bootstrap
 * installs x86_64 or arm64 packages, and capacity math needs exact figures.
 */
export const INSTANCE_TYPES: Readonly<Record<string, InstanceTypeInfo>> = {
  't3.medium': { vcpu: 2, memoryMiB: 4096, memoryOverheadMiB: 253, architecture: 'x86_64' },
  't3.large': { vcpu: 2, memoryMiB: 8192, memoryOverheadMiB: 365, architecture: 'x86_64' },
  't3.xlarge': { vcpu: 4, memoryMiB: 16384, memoryOverheadMiB: 590, architecture: 'x86_64' },
  'm5.large': { vcpu: 2, memoryMiB: 8192, memoryOverheadMiB: 559, architecture: 'x86_64' },
  'm5.xlarge': { vcpu: 4, memoryMiB: 16384, memoryOverheadMiB: 868, architecture: 'x86_64' },
  'm6i.large': { vcpu: 2, memoryMiB: 8192, memoryOverheadMiB: 405, architecture: 'x86_64' },
  'm6i.xlarge': { vcpu: 4, memoryMiB: 16384, memoryOverheadMiB: 672, architecture: 'x86_64' },
  'm6i.2xlarge': { vcpu: 8, memoryMiB: 32768, memoryOverheadMiB: 1205, architecture: 'x86_64' },
  'm7i.large': { vcpu: 2, memoryMiB: 8192, memoryOverheadMiB: 405, architecture: 'x86_64' },
  'm7i.xlarge': { vcpu: 4, memoryMiB: 16384, memoryOverheadMiB: 672, architecture: 'x86_64' },
  'm7i.2xlarge': { vcpu: 8, memoryMiB: 32768, memoryOverheadMiB: 1205, architecture: 'x86_64' },
  'c6i.large': { vcpu: 2, memoryMiB: 4096, memoryOverheadMiB: 273, architecture: 'x86_64' },
  'c6i.xlarge': { vcpu: 4, memoryMiB: 8192, memoryOverheadMiB: 406, architecture: 'x86_64' },
  'c7i.large': { vcpu: 2, memoryMiB: 4096, memoryOverheadMiB: 273, architecture: 'x86_64' },
  'c7i.xlarge': { vcpu: 4, memoryMiB: 8192, memoryOverheadMiB: 406, architecture: 'x86_64' },
  'r6i.large': { vcpu: 2, memoryMiB: 16384, memoryOverheadMiB: 671, architecture: 'x86_64' },
  'r7i.large': { vcpu: 2, memoryMiB: 16384, memoryOverheadMiB: 671, architecture: 'x86_64' },
  'm7g.large': { vcpu: 2, memoryMiB: 8192, memoryOverheadMiB: 420, architecture: 'arm64' },
  'm7g.xlarge': { vcpu: 4, memoryMiB: 16384, memoryOverheadMiB: 702, architecture: 'arm64' },
  'c7g.large': { vcpu: 2, memoryMiB: 4096, memoryOverheadMiB: 280, architecture: 'arm64' },
};

export const KNOWN_INSTANCE_TYPES: readonly string[] = Object.keys(INSTANCE_TYPES).sort();
