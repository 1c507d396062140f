import { CNI } from './cluster-network';
import type { ClusterDefinition } from './cluster-definition';
import { kubernetesMinor } from './kubernetes-versions';

/**
 * Helm values of the releases the first control-plane node installs (CORE_ADDONS) and Flux
 * then adopts from Git. node-bootstrap and k8s-addons both build them here: when Flux takes
 * a release over it must find the values it was installed with, or its first reconcile
 * becomes an upgrade of the network or the cloud controller on a live cluster.
 */

export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

/** Lets a pod onto control-plane nodes (their NoSchedule taint). */
export const CONTROL_PLANE_TOLERATION = { key: CONTROL_PLANE_LABEL, operator: 'Exists', effect: 'NoSchedule' } as const;

/** Nodes carry this taint until the cloud controller initialises them; the CNI and the cloud controller must tolerate it. */
export const UNINITIALIZED_TOLERATION = { key: 'node.cloudprovider.kubernetes.io/uninitialized', operator: 'Exists', effect: 'NoSchedule' } as const;

/**
 * Seconds a pod stays on a not-ready or unreachable node (Kubernetes' default is 300): the
 * toleration every add-on and workload uses by default, flux-operator and the Cilium operator
 * included. With a whole zone gone, this bounds how long its replicas count as running.
 */
export const FAST_EVICTION_SECONDS = 30;

/** AWS cloud controller image per Kubernetes minor (the controller follows the minor). */
export const CLOUD_CONTROLLER_IMAGE = {
  repository: 'registry.k8s.io/provider-aws/cloud-controller-manager',
  tagByMinor: { '1.32': 'v1.32.1', '1.33': 'v1.33.0', '1.34': 'v1.34.0' } as Readonly<Record<string, string>>,
} as const;

/** The cloud controller image tag for the cluster's Kubernetes minor; throws naming the version when none is pinned. */
export function cloudControllerImageTag(cluster: Pick<ClusterDefinition, 'name' | 'kubernetesVersion'>): string {
  const minor = kubernetesMinor(cluster.kubernetesVersion);
  const tag = CLOUD_CONTROLLER_IMAGE.tagByMinor[minor];
  if (!tag) {
    throw new Error(`cluster ${cluster.name}: kubernetesVersion ${cluster.kubernetesVersion} has no pinned cloud controller image; expected a minor in ${Object.keys(CLOUD_CONTROLLER_IMAGE.tagByMinor).join(', ')}`);
  }
  return tag;
}

export interface CiliumValueOptions {
  /** @default 2 (IPAM survives losing a node) */
  readonly operatorReplicas?: number;
  /** @default true */
  readonly hubble?: boolean;
}

/** Pod labels of the Cilium chart's operator Deployment (its spread and PDB select them). */
export const CILIUM_OPERATOR_LABELS = { 'io.cilium/app': 'operator', name: 'cilium-operator' } as const;

/**
 * Tolerations of the Cilium operator: the chart's defaults (control plane, not-ready and
 * uninitialized nodes, without a time limit: at first boot it must run on the NotReady node
 * whose CNI it brings up; it uses the host network) plus a short `unreachable` one, so after a
 * zone loss its pods leave the dead nodes within FAST_EVICTION_SECONDS and new nodes get pod
 * CIDRs again. A node that is not-ready but reachable still runs it fine, so not-ready keeps
 * the chart's unlimited toleration.
 */
export const CILIUM_OPERATOR_TOLERATIONS = [
  { key: CONTROL_PLANE_LABEL, operator: 'Exists' },
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists' },
  { key: UNINITIALIZED_TOLERATION.key, operator: 'Exists' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: FAST_EVICTION_SECONDS },
] as const;

/** Cilium in VXLAN tunnel mode with cluster-pool IPAM over the cluster's pod CIDR; kube-proxy stays. */
export function ciliumValues(cluster: Pick<ClusterDefinition, 'name' | 'clusterNetwork'>, options: CiliumValueOptions = {}) {
  const vxlan = CNI.nodePorts.find((p) => p.purpose === 'VXLAN overlay');
  const operatorSpread = { maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { ...CILIUM_OPERATOR_LABELS } } };
  return {
    cluster: { name: cluster.name },
    routingMode: 'tunnel',
    tunnelProtocol: CNI.tunnelProtocol,
    tunnelPort: vxlan?.port,
    ipam: { mode: 'cluster-pool', operator: { clusterPoolIPv4PodCIDRList: [cluster.clusterNetwork.podCidr], clusterPoolIPv4MaskSize: 24 } },
    kubeProxyReplacement: false,
    operator: {
      // Leader-elected: one replica per zone (at most one per node, the chart's required
      // anti-affinity), so losing a zone leaves a running standby that takes the lease.
      replicas: options.operatorReplicas ?? 2,
      topologySpreadConstraints: [{ ...operatorSpread, topologyKey: 'topology.kubernetes.io/zone' }],
      tolerations: CILIUM_OPERATOR_TOLERATIONS.map((t) => ({ ...t })),
      podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
    },
    hubble: { enabled: options.hubble ?? true, relay: { enabled: false }, ui: { enabled: false } },
  };
}

/**
 * The AWS cloud controller on the control-plane nodes (host network: it reaches IMDS and uses
 * the control-plane instance role), leader-elected, no cloud routes (Cilium tunnels).
 */
export function cloudControllerValues(cluster: Pick<ClusterDefinition, 'name' | 'kubernetesVersion'>) {
  return {
    image: { repository: CLOUD_CONTROLLER_IMAGE.repository, tag: cloudControllerImageTag(cluster) },
    args: ['--v=2', '--cloud-provider=aws', `--cluster-name=${cluster.name}`, '--configure-cloud-routes=false', '--leader-elect=true'],
    hostNetworking: true,
    nodeSelector: { [CONTROL_PLANE_LABEL]: '' },
    tolerations: [UNINITIALIZED_TOLERATION, CONTROL_PLANE_TOLERATION],
  };
}
