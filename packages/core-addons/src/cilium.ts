import { CNI, type ClusterDefinition } from '@platform/platform-config';
import { CONTROL_PLANE_LABEL, FAST_EVICTION_SECONDS, NOT_READY_TAINT_KEY, UNINITIALIZED_TAINT_KEY, UNREACHABLE_TAINT_KEY } from './tolerations';

/** Pod labels of the Cilium chart's operator Deployment (its spread and PDB select them). */
export const CILIUM_OPERATOR_LABELS = { 'io.cilium/app': 'operator', name: 'cilium-operator' } as const;

/** Cilium operator replicas: leader-elected, so IPAM survives losing a node or a zone. */
export const CILIUM_OPERATOR_REPLICAS = 2;

/**
 * Tolerations of the Cilium operator: the chart's defaults (control plane, not-ready and
 * uninitialized nodes, without a time limit: at first boot it must run on the NotReady,
 * uninitialized node whose CNI it brings up; it uses the host network) plus a short
 * `unreachable` one, so after a zone loss its pods leave the dead nodes within
 * FAST_EVICTION_SECONDS and new nodes get pod CIDRs again.
 */
export const CILIUM_OPERATOR_TOLERATIONS = [
  { key: CONTROL_PLANE_LABEL, operator: 'Exists' },
  { key: NOT_READY_TAINT_KEY, operator: 'Exists' },
  { key: UNINITIALIZED_TAINT_KEY, operator: 'Exists' },
  { key: UNREACHABLE_TAINT_KEY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: FAST_EVICTION_SECONDS },
] as const;

/**
 * Cilium in VXLAN tunnel mode with cluster-pool IPAM over the cluster's pod CIDR; kube-proxy
 * stays. The operator's zone spread is `ScheduleAnyway`: the scheduler filters out a node
 * without the zone label for any `DoNotSchedule` zone constraint, and zone labels come only
 * from the cloud controller, which cannot start before the operator has brought the network up.
 * The chart's required hostname anti-affinity keeps the two replicas on different nodes; the
 * spread score puts them in different zones once the labels exist.
 */
export function ciliumValues(cluster: Pick<ClusterDefinition, 'name' | 'clusterNetwork'>) {
  const vxlan = CNI.nodePorts.find((p) => p.purpose === 'VXLAN overlay');
  return {
    cluster: { name: cluster.name },
    routingMode: 'tunnel',
    tunnelProtocol: CNI.tunnelProtocol,
    tunnelPort: vxlan?.port,
    ipam: { mode: 'cluster-pool', operator: { clusterPoolIPv4PodCIDRList: [cluster.clusterNetwork.podCidr], clusterPoolIPv4MaskSize: 24 } },
    kubeProxyReplacement: false,
    operator: {
      replicas: CILIUM_OPERATOR_REPLICAS,
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { ...CILIUM_OPERATOR_LABELS } } },
      ],
      tolerations: CILIUM_OPERATOR_TOLERATIONS.map((t) => ({ ...t })),
      podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
    },
    hubble: { enabled: true, relay: { enabled: false }, ui: { enabled: false } },
  };
}
