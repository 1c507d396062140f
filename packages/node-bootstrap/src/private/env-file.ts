import { CORE_ADDONS, FLUX_INSTANCE_NAMES, fluxGitSync } from '@platform/core-addons';
import { bootstrapNames, CLOUD_CONTROLLER_CONFIG, ETCD_SNAPSHOT_METRIC, FAILOVER_ACCESS, IMDS_FENCE, imdsFenced, failoverKubeconfigNames, KUBERNETES_PORTS, kubernetesMinor, largestZoneShare, type ClusterNames } from '@platform/platform-config';
import { joinMaterialTimings, snapshotSchedule } from '../timings';
import { posix } from 'node:path';
import { KUBE_APISERVER_PATCH_FILE, KUBEADM_PATCHES_DIR, NODE_BOOTSTRAP_ETC, SERVICE_ACCOUNT_KEY_BUNDLE } from './kubeadm-config';
import type { UserDataInput } from '../user-data-input';
import { toolVersions } from '../versions';

/**
 * Every control-plane ASG name: one per AZ, and a second or third per AZ when there are
 * more nodes than AZs (a name that matches no ASG only widens the EC2 filter, harmlessly).
 */
export function controlPlaneAsgNames(input: Pick<UserDataInput, 'cluster' | 'names'>): string[] {
  const { availabilityZones: zones, controlPlane } = input.cluster;
  const asg = input.names.controlPlaneAsg as (az: string, ordinal?: number) => string;
  const perZone = largestZoneShare(controlPlane.count, zones.length);
  return zones.flatMap((az) => Array.from({ length: perZone }, (_, ordinal) => (ordinal === 0 ? asg(az) : asg(az, ordinal))));
}

/**
 * What node-prep.sh installs, for every role and for the baked image alike (its marker names all
 * of them, so a node booted from the image matches the bake whatever its role).
 */
export function toolEnvEntries(cluster: Pick<UserDataInput['cluster'], 'name' | 'kubernetesVersion'>): [string, string][] {
  const tools = toolVersions(cluster);
  return [
    ['K8S_VERSION', cluster.kubernetesVersion],
    ['K8S_MINOR', kubernetesMinor(cluster.kubernetesVersion)],
    ['AWSCLI_VERSION', tools.awsCli],
    ['CONTAINERD_VERSION', tools.containerd],
    ['RUNC_VERSION', tools.runc],
    ['ETCD_VERSION', tools.etcd],
    ['HELM_VERSION', tools.helm],
  ];
}

/** The parameters the scripts read from /etc/node-bootstrap/env, in file order. */
export function envEntries(input: UserDataInput): [string, string][] {
  const { cluster, settings, role } = input;
  const names: ClusterNames = input.names;
  const join = joinMaterialTimings();
  const snapshots = snapshotSchedule(cluster);
  const extra = bootstrapNames(names);
  const sync = fluxGitSync(cluster, settings, names);
  const kubeconfigNames = failoverKubeconfigNames(cluster.name);
  const ciNames = [kubeconfigNames.cluster, kubeconfigNames.user, kubeconfigNames.context];
  const entries: [string, string | number][] = [
    ['CLUSTER_NAME', cluster.name],
    ['ROLE', role],
    ['REGION', cluster.region],
    ...toolEnvEntries(cluster),
    ['API_ENDPOINT', input.apiEndpoint],
    // The one key identifier of every SecureString and SSE-KMS object the nodes write: the alias
    // (platform-config, no Terraform token in user-data) resolves to the cluster key Terraform creates.
    ['KMS_KEY', names.kmsAlias],
    ['SSM_INIT_LOCK', names.ssm.initLock],
    ['SSM_JOIN_TOKEN', names.ssm.joinToken],
    ['SSM_CA_CERT_HASH', names.ssm.caCertHash],
    ['SSM_CERTIFICATE_KEY', names.ssm.certificateKey],
  ];
  if (imdsFenced(cluster)) {
    // node-prep.sh: no pod socket reaches IMDS (platform-config IMDS_FENCE); the cloud controller has its own identity.
    entries.push(
      ['IMDS_FENCE_CGROUP', IMDS_FENCE.podCgroup],
      ['IMDS_FENCE_CHAIN', IMDS_FENCE.chain],
      ['IMDS_FENCE_V4', IMDS_FENCE.addresses.ipv4],
      ['IMDS_FENCE_V6', IMDS_FENCE.addresses.ipv6],
    );
  }
  if (role === 'control-plane') {
    entries.push(
      ['CONTROL_PLANE_ASGS', controlPlaneAsgNames(input).join(' ')],
      // control-plane.sh writes the cloud controller's provider config as $KUBE_DIR/<this> (/etc/kubernetes), which its DaemonSet mounts (core-addons).
      ['CLOUD_PROVIDER_CONFIG', cloudProviderConfigName()],
      // control-plane.sh completes its own launching hook before kubeadm init (no handler runs yet).
      ['LAUNCH_HOOK', names.nodeTermination.launchingHook],
      // kubelet-serving-approver.sh: only instances carrying it as `owned` get serving certificates.
      ['CLUSTER_TAG', names.clusterTagKey],
      // etcd-slot.sh: how the node finds its ASG's etcd volume and member address.
      ['ETCD_SLOT_TAG', names.etcdSlot.slotTagKey],
      // etcd-slot.sh: replies from the member address to pods stay on the main table (the kubernetes Service's endpoints are member addresses).
      ['POD_CIDR', input.cluster.clusterNetwork.podCidr],
      ['ETCD_CLUSTER_TAG', names.etcdSlot.clusterTagKey],
      ['SSM_RESTORE_FROM', extra.restoreFrom],
      ['SSM_ETCD_GENERATION', extra.etcdGeneration],
      ['SSM_RESTORE_URL', extra.restoreUrl],
      ['SSM_GIT_CREDENTIALS', names.ssm.gitCredentials],
      ['JOIN_TOKEN_TTL', `${join.tokenTtlSeconds}s`],
      ['JOIN_REFRESH_AFTER_SECONDS', join.refreshAfterSeconds],
      ['SSM_JOIN_REFRESH_LOCK', extra.joinRefreshLock],
      ['JOIN_REFRESH_LOCK_SECONDS', join.refreshLockSeconds],
      ['BACKUP_BUCKET', names.etcdBackupBucket],
      ['SNAPSHOT_PREFIX', extra.etcdSnapshotPrefix],
      ['SNAPSHOT_RETENTION_DAYS', snapshots.retentionDays],
      ['SNAPSHOT_KEEP_MIN', snapshots.keepAtLeast],
      // node-exporter textfile of the last successful upload (k8s-addons' EtcdSnapshotStale).
      ['SNAPSHOT_METRIC', ETCD_SNAPSHOT_METRIC.name],
      ['SNAPSHOT_METRIC_FILE', ETCD_SNAPSHOT_METRIC.file],
      ['CILIUM_REPO', CORE_ADDONS.cilium.repository],
      ['CILIUM_VERSION', CORE_ADDONS.cilium.version],
      ['CCM_REPO', CORE_ADDONS.awsCloudController.repository],
      ['CCM_VERSION', CORE_ADDONS.awsCloudController.version],
      ['FLUX_OPERATOR_REPO', CORE_ADDONS.fluxOperator.repository],
      ['FLUX_OPERATOR_VERSION', CORE_ADDONS.fluxOperator.version],
      ['FLUX_NAMESPACE', FLUX_INSTANCE_NAMES.namespace],
      // Empty for a public repository (gitops.auth none): no Secret, and flux-instance.yaml names none.
      ['GIT_SECRET', sync.pullSecret ?? ''],
      ['GIT_URL', sync.url],
      ['GIT_BRANCH', cluster.gitops.branch],
      ['GITOPS_PATH', sync.path],
      // ci-kubeconfig.sh: the region-failover workflow's kubeconfig (names from platform-config).
      ['CI_KUBECONFIG', names.ssm.ciKubeconfig],
      ['CI_TOKEN_SECRET', `${FAILOVER_ACCESS.namespace}/${FAILOVER_ACCESS.tokenSecret}`],
      ['CI_KUBECONFIG_NAMES', ciNames.join(' ')],
      // CI runs outside the VPC: the public name (the private zone resolves only inside it).
      ['CI_KUBECONFIG_SERVER', `https://${input.apiExternalEndpoint ?? input.apiEndpoint}:${KUBERNETES_PORTS.apiServer}`],
      // service-account-issuer.sh: the discovery document and JWKS STS reads (platform-config names).
      ['SA_ISSUER_URL', names.serviceAccountIssuer.url],
      ['SA_JWKS_URL', names.serviceAccountIssuer.jwksUrl],
      ['SA_ISSUER_BUCKET', names.serviceAccountIssuer.bucket],
      ['SA_DISCOVERY_KEY', names.serviceAccountIssuer.discoveryKey],
      ['SA_JWKS_KEY', names.serviceAccountIssuer.jwksKey],
      ['SSM_SA_PREVIOUS_KEY', extra.serviceAccountPreviousKey],
      // service-account-key-rotation.sh: the rotation state every control-plane node applies at boot.
      ['SSM_SA_NEXT_KEY', extra.serviceAccountNextKey],
      ['SSM_SA_ROTATION', extra.serviceAccountRotation],
      ['SSM_SA_KEY_ACKS', extra.serviceAccountKeyAcks],
      ['SSM_SA_RESTART_LOCK', extra.serviceAccountRestartLock],
      // control-plane.sh records the stage this node booted with; the apply's identity-roll gate reads it.
      ['IDENTITY_STAGE', cluster.serviceAccountIdentity.stage],
      ['SSM_IDENTITY_STAGE', extra.identityStageRecords],
      // What the stage renders on this node (the kube-apiserver patch), under $BOOTSTRAP_ETC: its SHA-256 goes into the record.
      ['IDENTITY_CONFIG', posix.relative(NODE_BOOTSTRAP_ETC, `${KUBEADM_PATCHES_DIR}/${KUBE_APISERVER_PATCH_FILE}`)],
      // The verification key bundle kube-apiserver's --service-account-key-file names (kubeadm-config.ts).
      ['SA_KEY_BUNDLE', SERVICE_ACCOUNT_KEY_BUNDLE],
    );
  }
  return entries.map(([key, value]) => [key, String(value)]);
}

/** KEY='value' lines: sourced by bash, so values are single-quoted and may not contain one. */
export function envFile(entries: readonly [string, string][]): string {
  return entries
    .map(([key, value]) => {
      if (/['\n]/.test(value)) throw new Error(`node-bootstrap env ${key}: value ${JSON.stringify(value)} may not contain a single quote or newline`);
      return `${key}='${value}'\n`;
    })
    .join('');
}

/** CLOUD_CONTROLLER_CONFIG's file name in kubeadm's directory (KUBE_DIR), where control-plane.sh writes it. */
function cloudProviderConfigName(): string {
  const name = /^\/etc\/kubernetes\/([^/]+)$/.exec(CLOUD_CONTROLLER_CONFIG.path)?.[1];
  if (!name) throw new Error(`CLOUD_CONTROLLER_CONFIG.path: got ${CLOUD_CONTROLLER_CONFIG.path}; expected a file directly in /etc/kubernetes (control-plane.sh writes it into KUBE_DIR)`);
  return name;
}
