import { kubernetesMinor } from '@platform/platform-config';

/** Versions of the node-side tools, pinned per Kubernetes minor version. */
export interface ToolVersions {
  /** etcdctl/etcdutl: the etcd release kubeadm runs for that minor (restores must match its data format). */
  readonly etcd: string;
  readonly helm: string;
  readonly awsCli: string;
}

const ETCD_BY_MINOR: Readonly<Record<string, string>> = { '1.32': '3.5.16', '1.33': '3.5.21', '1.34': '3.6.5' };

export function toolVersions(kubernetesVersion: string): ToolVersions {
  const minor = kubernetesMinor(kubernetesVersion);
  const etcd = ETCD_BY_MINOR[minor];
  if (!etcd) {
    throw new Error(`kubernetesVersion ${kubernetesVersion}: no pinned etcd version for ${minor}; expected one of ${Object.keys(ETCD_BY_MINOR).join(', ')}`);
  }
  return { etcd, helm: '3.19.0', awsCli: '2.27.0' };
}
