import { CLOUD_CONTROLLER_CONFIG, WEB_IDENTITY_TOKEN, workloadIdentity, type ClusterDefinition, type ClusterNames, type PlatformSettings } from '@platform/platform-config';
import { CONTROL_PLANE_LABEL, FIRST_NODE_TOLERATIONS } from './tolerations';
import { versionsFor } from './versions';
import { webIdentityEnv, webIdentityTokenSource } from './web-identity-env';

export const CLOUD_CONTROLLER_IMAGE_REPOSITORY = 'registry.k8s.io/provider-aws/cloud-controller-manager';
/** A fixed non-root uid: the controller needs no root, and reads only its token and the provider config (0644). */
export const CLOUD_CONTROLLER_UID = 64_512;

/**
 * The AWS cloud controller on the control-plane nodes, leader-elected, no cloud routes
 * (Cilium tunnels). It must start on the first node before anything else can: it sets the
 * zone labels and removes the uninitialized taint, so it tolerates NotReady (the DaemonSet
 * controller adds only NoExecute not-ready tolerations, not the NoSchedule one) and uses the
 * host network (no pod IP needed before the CNI runs).
 * `hostNetworking` is read by chart 0.0.10's daemonset template though its values.yaml does
 * not list it (see the chart values test's TEMPLATE_ONLY_KEYS).
 *
 * Credentials follow the cluster's identity stage (`podCredentials`). Before `web-identity` it
 * uses the control-plane instance role through IMDS, as it always did. From `web-identity` on it
 * is the workload identity `cloud-controller`, wired here rather than by a webhook (none could
 * run before this controller initialises the first node): the projected token, AWS_ROLE_ARN and
 * the regional STS endpoint, and `AWS_EC2_METADATA_DISABLED` so neither the SDK's credential chain
 * nor the provider's metadata client waits on the fenced IMDS. The provider reads
 * `CLOUD_CONTROLLER_CONFIG` (region, VPC, subnet, cluster id, written by control-plane.sh) so it
 * never needs its own instance id or region from IMDS (cloud-provider-aws newAWSCloud).
 */
export function cloudControllerValues(
  cluster: Pick<ClusterDefinition, 'name' | 'kubernetesVersion' | 'region' | 'serviceAccountIdentity'>,
  settings: Pick<PlatformSettings, 'accountId'>,
  names: Pick<ClusterNames, 'serviceAccountIssuer'>,
) {
  const base = {
    image: { repository: CLOUD_CONTROLLER_IMAGE_REPOSITORY, tag: versionsFor(cluster).cloudController },
    args: ['--v=2', '--cloud-provider=aws', `--cluster-name=${cluster.name}`, '--configure-cloud-routes=false', '--leader-elect=true'],
    hostNetworking: true,
    podSecurityContext: { runAsUser: CLOUD_CONTROLLER_UID, runAsGroup: CLOUD_CONTROLLER_UID, runAsNonRoot: true },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    nodeSelector: { [CONTROL_PLANE_LABEL]: '' },
    tolerations: FIRST_NODE_TOLERATIONS.map((t) => ({ ...t })),
  };
  if (cluster.serviceAccountIdentity.podCredentials !== 'web-identity') return base;
  if (!settings.accountId) throw new Error(`cluster ${cluster.name}: the cloud controller's web identity needs platform-config settings.accountId (its role ARN names the account)`);
  const identity = workloadIdentity(names, 'cloud-controller');
  return {
    ...base,
    // The chart's default, named here because the role trusts exactly this account (platform-config).
    serviceAccountName: identity.serviceAccount,
    args: [...base.args, `--cloud-config=${CLOUD_CONTROLLER_CONFIG.path}`],
    env: [...webIdentityEnv(identity.roleArn(settings.accountId), WEB_IDENTITY_TOKEN.mountPath, cluster.region), { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' }],
    extraVolumes: [
      { name: WEB_IDENTITY_TOKEN.volume, projected: { sources: [webIdentityTokenSource(names.serviceAccountIssuer.audience)] } },
      // type File: a node without the config fails the mount visibly instead of starting a controller that asks IMDS.
      { name: CLOUD_CONTROLLER_CONFIG.volume, hostPath: { path: CLOUD_CONTROLLER_CONFIG.path, type: 'File' } },
    ],
    extraVolumeMounts: [
      { name: WEB_IDENTITY_TOKEN.volume, mountPath: WEB_IDENTITY_TOKEN.mountPath, readOnly: true },
      { name: CLOUD_CONTROLLER_CONFIG.volume, mountPath: CLOUD_CONTROLLER_CONFIG.path, readOnly: true },
    ],
  };
}
