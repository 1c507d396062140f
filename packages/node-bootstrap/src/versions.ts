import { versionsFor } from '@platform/core-addons';
import type { ClusterDefinition } from '@platform/platform-config';

/** Versions of the node-side tools; etcd follows the Kubernetes minor (core-addons' table). */
export interface ToolVersions {
  /** etcdctl/etcdutl: the etcd release kubeadm runs for that minor (restores must match its data format). */
  readonly etcd: string;
  readonly helm: string;
  /** Also pinned by SHA-256 per architecture in download-lock.json (etcd and helm too). */
  readonly awsCli: string;
  /**
   * Upstream versions of Ubuntu 24.04's `containerd` and `runc` packages (sources containerd-app and
   * runc-app, `<upstream>-0ubuntu…`): node-prep.sh installs `containerd=<this>-*`, holds the packages
   * (unattended-upgrades would otherwise restart containerd under running pods, and Ubuntu's SRU
   * policy moves these packages to new upstream releases) and checks what got installed.
   */
  readonly containerd: string;
  readonly runc: string;
}

/**
 * The container runtime every node runs, whatever its Kubernetes minor (containerd 1.7 supports
 * Kubernetes 1.32 to 1.34). The Ubuntu archive keeps only the newest version of a package per pocket:
 * when noble-updates moves on, node-prep fails naming this pin, and the pin moves with it (or the
 * node image is baked with these versions installed).
 */
const CONTAINER_RUNTIME = { containerd: '1.7.28', runc: '1.3.3' } as const;

export function toolVersions(cluster: Pick<ClusterDefinition, 'name' | 'kubernetesVersion'>): ToolVersions {
  return { etcd: versionsFor(cluster).etcd, helm: '3.19.0', awsCli: '2.27.49', ...CONTAINER_RUNTIME };
}
