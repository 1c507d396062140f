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
 * network, cloud controller or itself). Flux's HelmReleases adopt these releases, so they
 * must keep these release names, namespaces and versions.
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
