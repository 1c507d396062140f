import { CORE_ADDONS, FLUX_INSTANCE_NAMES, type PinnedChart } from '@platform/core-addons';

/**
 * Every Helm release the platform installs: name, namespace, chart and pinned version.
 * node-bootstrap installs CILIUM_RELEASE, AWS_CLOUD_CONTROLLER_RELEASE and
 * FLUX_OPERATOR_RELEASE at first boot; both read them from core-addons' CORE_ADDONS, so
 * Flux's HelmReleases upgrade the same Helm releases instead of installing second copies.
 */
export interface ChartRepository {
  /** Name of the Flux source object (in FLUX_NAMESPACE). */
  readonly name: string;
  /** `https://` for a Helm repository, `oci://` for an OCI registry. */
  readonly url: string;
}

export interface ChartRelease {
  /** Helm release name (and HelmRelease object name). */
  readonly name: string;
  readonly namespace: string;
  readonly chart: string;
  /** Exact chart version: never a range, so a synth is reproducible. */
  readonly version: string;
  readonly repository: ChartRepository;
}

export const FLUX_NAMESPACE = 'flux-system';

/** A bootstrap-installed chart pinned in core-addons (CORE_ADDONS), as a release here. */
function coreRelease(core: PinnedChart, sourceName: string): ChartRelease {
  const oci = core.repository.startsWith('oci://');
  return {
    name: core.releaseName,
    namespace: core.namespace,
    chart: core.chart,
    version: core.version,
    // An OCIRepository points at the chart itself; a HelmRepository at the index.
    repository: { name: sourceName, url: oci ? `${core.repository}/${core.chart}` : core.repository },
  };
}

export const CILIUM_RELEASE: ChartRelease = coreRelease(CORE_ADDONS.cilium, 'cilium');
export const AWS_CLOUD_CONTROLLER_RELEASE: ChartRelease = coreRelease(CORE_ADDONS.awsCloudController, 'aws-cloud-controller-manager');
export const FLUX_OPERATOR_RELEASE: ChartRelease = coreRelease(CORE_ADDONS.fluxOperator, 'flux-operator');

/** The FluxInstance node-bootstrap creates and Flux then keeps applying. */
export const FLUX_INSTANCE = {
  ...FLUX_INSTANCE_NAMES,
  /** Flux distribution (semver range the operator resolves to a patch release). */
  distributionVersion: CORE_ADDONS.fluxDistribution.version,
  registry: CORE_ADDONS.fluxDistribution.registry,
} as const;

export const EBS_CSI_RELEASE: ChartRelease = {
  name: 'aws-ebs-csi-driver',
  namespace: 'kube-system',
  chart: 'aws-ebs-csi-driver',
  version: '2.53.0',
  repository: { name: 'aws-ebs-csi-driver', url: 'https://kubernetes-sigs.github.io/aws-ebs-csi-driver' },
};

export const CLUSTER_AUTOSCALER_RELEASE: ChartRelease = {
  name: 'cluster-autoscaler',
  namespace: 'kube-system',
  chart: 'cluster-autoscaler',
  version: '9.52.1',
  repository: { name: 'autoscaler', url: 'https://kubernetes.github.io/autoscaler' },
};

export const METRICS_SERVER_RELEASE: ChartRelease = {
  name: 'metrics-server',
  namespace: 'kube-system',
  chart: 'metrics-server',
  version: '3.13.0',
  repository: { name: 'metrics-server', url: 'https://kubernetes-sigs.github.io/metrics-server/' },
};

/** 88.0.0 ships prometheus-operator v0.93.0, the CRD release in packages/k8s-addons/crds. */
export const KUBE_PROMETHEUS_STACK_RELEASE: ChartRelease = {
  name: 'kube-prometheus-stack',
  namespace: 'monitoring',
  chart: 'kube-prometheus-stack',
  version: '88.0.0',
  repository: { name: 'prometheus-community', url: 'https://prometheus-community.github.io/helm-charts' },
};

/**
 * 0.29.0 ships CloudNativePG 1.30.0, the CRD release in packages/k8s-addons/crds. Renovate holds
 * it below 0.30.0 (renovate.json): 1.31 drops the in-tree barmanObjectStore this platform archives
 * and replicates through; the Barman Cloud plugin migration comes first.
 */
export const CLOUDNATIVE_PG_RELEASE: ChartRelease = {
  name: 'cloudnative-pg',
  namespace: 'cnpg-system',
  chart: 'cloudnative-pg',
  version: '0.29.0',
  repository: { name: 'cloudnative-pg', url: 'https://cloudnative-pg.github.io/charts' },
};

/**
 * Traefik Proxy v3.6 (chart 37.3.0), the ingress controller (ingress-nginx was retired by
 * SIG Network). Not in core-addons' CORE_ADDONS: only Flux installs it, like every
 * add-on pinned here. Values used in addons/ingress-controller.ts follow this chart's values.yaml.
 */
export const TRAEFIK_RELEASE: ChartRelease = {
  name: 'traefik',
  namespace: 'traefik',
  chart: 'traefik',
  version: '37.3.0',
  repository: { name: 'traefik', url: 'https://traefik.github.io/charts' },
};

/**
 * AWS Node Termination Handler 1.25.6 (chart 0.27.6) in queue-processor mode. Not in
 * ../shared/charts: its values were checked against the chart's upstream values.yaml
 * (aws/aws-node-termination-handler, config/helm/aws-node-termination-handler).
 */
export const NODE_TERMINATION_HANDLER_RELEASE: ChartRelease = {
  name: 'aws-node-termination-handler',
  namespace: 'kube-system',
  chart: 'aws-node-termination-handler',
  version: '0.27.6',
  repository: { name: 'aws-node-termination-handler', url: 'oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler' },
};
