import { versionsFor } from '@platform/core-addons';
import type { ClusterDefinition } from '@platform/platform-config';

/** Versions of the node-side tools; etcd follows the Kubernetes minor (core-addons' table). */
export interface ToolVersions {
  /** etcdctl/etcdutl: the etcd release kubeadm runs for that minor (restores must match its data format). */
  readonly etcd: string;
  readonly helm: string;
  readonly awsCli: string;
}

export function toolVersions(cluster: Pick<ClusterDefinition, 'name' | 'kubernetesVersion'>): ToolVersions {
  return { etcd: versionsFor(cluster).etcd, helm: '3.19.0', awsCli: '2.27.0' };
}
