import type { ClusterNames } from './names';

/**
 * Names only the node bootstrap and its runbooks use, derived from the cluster's names so
 * the IAM policies (scoped to `ssmPrefix` and the backup bucket) already cover them.
 */
export interface BootstrapNames {
  /** SSM parameter an operator sets to the snapshot key to restore on the next `kubeadm init`. */
  readonly restoreFrom: string;
  /** Key prefix of etcd snapshots in `etcdBackupBucket` (no trailing slash). */
  readonly etcdSnapshotPrefix: string;
  /**
   * Create-only SSM parameter a control-plane node holds while it rewrites the join material,
   * so two nodes' refreshes never interleave (`<instance id> <expiry epoch>`).
   */
  readonly joinRefreshLock: string;
}

export function bootstrapNames(names: Pick<ClusterNames, 'cluster' | 'ssmPrefix'>): BootstrapNames {
  return {
    restoreFrom: `${names.ssmPrefix}/kubeadm/restore-from`,
    etcdSnapshotPrefix: `etcd-snapshots/${names.cluster}`,
    joinRefreshLock: `${names.ssmPrefix}/kubeadm/join-refresh-lock`,
  };
}

/** A Helm chart at a pinned version, installed under a fixed release name. */
export interface PinnedChart {
  /** Helm repository URL, or an `oci://` reference without the chart name. */
  readonly repository: string;
  readonly chart: string;
  readonly version: string;
  readonly releaseName: string;
  readonly namespace: string;
}

/**
 * What the first control-plane node installs before Flux runs (Flux cannot install its own
 * network, cloud controller or itself). The Flux manifests adopt these releases, so they
 * must use the same release names, namespaces and versions: both read them from here.
 */
export const CORE_ADDONS = {
  cilium: { repository: 'https://helm.cilium.io', chart: 'cilium', version: '1.18.2', releaseName: 'cilium', namespace: 'kube-system' },
  awsCloudController: {
    repository: 'https://kubernetes.github.io/cloud-provider-aws',
    chart: 'aws-cloud-controller-manager',
    version: '0.0.10',
    releaseName: 'aws-cloud-controller-manager',
    namespace: 'kube-system',
  },
  fluxOperator: {
    repository: 'oci://ghcr.io/controlplaneio-fluxcd/charts',
    chart: 'flux-operator',
    // The FluxInstance CRD in packages/k8s-addons/crds (the schema the manifests are validated against) is v0.58.1.
    version: '0.58.1',
    releaseName: 'flux-operator',
    namespace: 'flux-system',
  },
  /** Flux distribution the FluxInstance asks the operator for (semver range). */
  fluxDistribution: { version: '2.7.x', registry: 'ghcr.io/fluxcd' },
} as const satisfies Record<string, PinnedChart | { version: string; registry: string }>;
