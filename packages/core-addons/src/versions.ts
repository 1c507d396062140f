import { kubernetesMinor, type ClusterDefinition } from '@platform/platform-config';

/** Everything the platform pins per Kubernetes minor: images that follow the minor, and etcd. */
export interface MinorVersions {
  /** AWS cloud controller image tag (registry.k8s.io/provider-aws/cloud-controller-manager). */
  readonly cloudController: string;
  /** cluster-autoscaler image tag. */
  readonly clusterAutoscaler: string;
  /** CoreDNS image tag (the release kubeadm ships for that minor). */
  readonly coredns: string;
  /** etcdctl/etcdutl: the etcd release kubeadm runs for that minor (restores must match its data format). */
  readonly etcd: string;
}

/** The one version table per Kubernetes minor; tests check it covers SUPPORTED_KUBERNETES_MINORS. */
export const VERSIONS_BY_KUBERNETES_MINOR: Readonly<Record<string, MinorVersions>> = {
  '1.32': { cloudController: 'v1.32.1', clusterAutoscaler: 'v1.32.3', coredns: 'v1.11.3', etcd: '3.5.16' },
  '1.33': { cloudController: 'v1.33.0', clusterAutoscaler: 'v1.33.1', coredns: 'v1.12.0', etcd: '3.5.21' },
  '1.34': { cloudController: 'v1.34.0', clusterAutoscaler: 'v1.34.0', coredns: 'v1.12.1', etcd: '3.6.5' },
};

/** The pins for the cluster's Kubernetes minor; throws naming the cluster and the version when none exist. */
export function versionsFor(cluster: Pick<ClusterDefinition, 'name' | 'kubernetesVersion'>): MinorVersions {
  const versions = VERSIONS_BY_KUBERNETES_MINOR[kubernetesMinor(cluster.kubernetesVersion)];
  if (!versions) {
    throw new Error(`cluster ${cluster.name}: kubernetesVersion ${cluster.kubernetesVersion} has no pinned versions; expected a minor in ${Object.keys(VERSIONS_BY_KUBERNETES_MINOR).join(', ')}`);
  }
  return versions;
}
