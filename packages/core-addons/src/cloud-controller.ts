import { IMDS_FENCE, type ClusterDefinition } from '@platform/platform-config';
import { CONTROL_PLANE_LABEL, FIRST_NODE_TOLERATIONS } from './tolerations';
import { versionsFor } from './versions';

export const CLOUD_CONTROLLER_IMAGE_REPOSITORY = 'registry.k8s.io/provider-aws/cloud-controller-manager';

/**
 * The AWS cloud controller on the control-plane nodes, leader-elected, no cloud routes
 * (Cilium tunnels). It must start on the first node before anything else can: it sets the
 * zone labels and removes the uninitialized taint, so it tolerates NotReady (the DaemonSet
 * controller adds only NoExecute not-ready tolerations, not the NoSchedule one) and uses the
 * host network (no pod IP needed before the CNI runs; IMDS answers only one hop away).
 * `hostNetworking` is read by chart 0.0.10's daemonset template though its values.yaml does
 * not list it (see the chart values test's TEMPLATE_ONLY_KEYS).
 * It runs as `IMDS_FENCE.allowedUid`: the control-plane nodes drop IMDS traffic from every other
 * pod socket (node-bootstrap node-prep.sh), so it is the one pod there that acts as the node role.
 */
export function cloudControllerValues(cluster: Pick<ClusterDefinition, 'name' | 'kubernetesVersion'>) {
  return {
    image: { repository: CLOUD_CONTROLLER_IMAGE_REPOSITORY, tag: versionsFor(cluster).cloudController },
    args: ['--v=2', '--cloud-provider=aws', `--cluster-name=${cluster.name}`, '--configure-cloud-routes=false', '--leader-elect=true'],
    hostNetworking: true,
    podSecurityContext: { runAsUser: IMDS_FENCE.allowedUid, runAsGroup: IMDS_FENCE.allowedUid, runAsNonRoot: true },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    nodeSelector: { [CONTROL_PLANE_LABEL]: '' },
    tolerations: FIRST_NODE_TOLERATIONS.map((t) => ({ ...t })),
  };
}
