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

/** Cilium in VXLAN tunnel mode with cluster-pool IPAM over the cluster's pod CIDR; kube-proxy stays. */
export function ciliumValues(cluster: Pick<ClusterDefinition, 'name' | 'clusterNetwork'>, options: CiliumValueOptions = {}) {
  const vxlan = CNI.nodePorts.find((p) => p.purpose === 'VXLAN overlay');
  return {
    cluster: { name: cluster.name },
    routingMode: 'tunnel',
    tunnelProtocol: CNI.tunnelProtocol,
    tunnelPort: vxlan?.port,
    ipam: { mode: 'cluster-pool', operator: { clusterPoolIPv4PodCIDRList: [cluster.clusterNetwork.podCidr], clusterPoolIPv4MaskSize: 24 } },
    kubeProxyReplacement: false,
    operator: { replicas: options.operatorReplicas ?? 2 },
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
