/** What the platform needs to know of an EC2 instance type (capacity planning, ha-check). */
export interface InstanceTypeInfo {
  readonly vcpu: number;
  readonly memoryMiB: number;
  readonly architecture: 'x86_64' | 'arm64';
}

/**
 * Instance types a cluster definition may use. Kept small on purpose: node bootstrap
 * installs x86_64 or arm64 packages, and capacity math needs exact figures.
 */
export const INSTANCE_TYPES: Readonly<Record<string, InstanceTypeInfo>> = {
  't3.medium': { vcpu: 2, memoryMiB: 4096, architecture: 'x86_64' },
  't3.large': { vcpu: 2, memoryMiB: 8192, architecture: 'x86_64' },
  't3.xlarge': { vcpu: 4, memoryMiB: 16384, architecture: 'x86_64' },
  'm5.large': { vcpu: 2, memoryMiB: 8192, architecture: 'x86_64' },
  'm5.xlarge': { vcpu: 4, memoryMiB: 16384, architecture: 'x86_64' },
  'm6i.large': { vcpu: 2, memoryMiB: 8192, architecture: 'x86_64' },
  'm6i.xlarge': { vcpu: 4, memoryMiB: 16384, architecture: 'x86_64' },
  'm6i.2xlarge': { vcpu: 8, memoryMiB: 32768, architecture: 'x86_64' },
  'm7i.large': { vcpu: 2, memoryMiB: 8192, architecture: 'x86_64' },
  'm7i.xlarge': { vcpu: 4, memoryMiB: 16384, architecture: 'x86_64' },
  'm7i.2xlarge': { vcpu: 8, memoryMiB: 32768, architecture: 'x86_64' },
  'c6i.large': { vcpu: 2, memoryMiB: 4096, architecture: 'x86_64' },
  'c6i.xlarge': { vcpu: 4, memoryMiB: 8192, architecture: 'x86_64' },
  'c7i.large': { vcpu: 2, memoryMiB: 4096, architecture: 'x86_64' },
  'c7i.xlarge': { vcpu: 4, memoryMiB: 8192, architecture: 'x86_64' },
  'r6i.large': { vcpu: 2, memoryMiB: 16384, architecture: 'x86_64' },
  'r7i.large': { vcpu: 2, memoryMiB: 16384, architecture: 'x86_64' },
  'm7g.large': { vcpu: 2, memoryMiB: 8192, architecture: 'arm64' },
  'm7g.xlarge': { vcpu: 4, memoryMiB: 16384, architecture: 'arm64' },
  'c7g.large': { vcpu: 2, memoryMiB: 4096, architecture: 'arm64' },
};

export const KNOWN_INSTANCE_TYPES: readonly string[] = Object.keys(INSTANCE_TYPES).sort();
