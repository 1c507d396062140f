import { ETCD_METRICS_PORT, instanceTypeKubeletReserves, KUBELET_EVICTION_HARD, KUBERNETES_PORTS, type ClusterDefinition, type ServiceAccountIdentity, type ServiceAccountIssuerNames, type WorkerPool } from '@platform/platform-config';
import { failoverTimings } from '../timings';
import { yamlDocuments } from './yaml-text';

/*
 * kubeadm v1beta4 configuration templates. What only the node knows at boot (its name,
 * address, instance id, the join material) is left as @@NAME@@ and filled in by the
 * scripts' render_template; everything else comes from the cluster definition here.
 * A control-plane node advertises ETCD_IP, its slot's lasting member address (etcd peer and
 * client URLs, the API server's advertise address); the kubelet keeps the primary NODE_IP
 * (docs/decisions/etcd-volumes.md).
 */

const KUBEADM_API = 'kubeadm.k8s.io/v1beta4';
const CRI_SOCKET = 'unix:///run/containerd/containerd.sock';
const CONTROL_PLANE_TAINT = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

/**
 * Node-local kubeadm patches (`patches.directory` of the Init/JoinConfiguration; `kubeadm upgrade
 * node --patches`). The `kubeletconfiguration` target is merged into the KubeletConfiguration
 * kubeadm writes to this node's /var/lib/kubelet/config.yaml, not into the cluster-wide
 * kubelet-config ConfigMap, so each node gets its own instance type's reserves; the
 * `kube-apiserver` target gives this node's API server its stage's service-account flags.
 */
export const NODE_BOOTSTRAP_ETC = '/etc/node-bootstrap';
export const KUBEADM_PATCHES_DIR = `${NODE_BOOTSTRAP_ETC}/kubeadm-patches`;
export const KUBELET_RESERVES_PATCH = 'kubeletconfiguration+merge.yaml';

const args = (entries: Record<string, string | number>) => Object.entries(entries).map(([name, value]) => ({ name, value: String(value) }));

function nodeRegistration(taints: readonly object[], labels: Readonly<Record<string, string>>) {
  const kubeletArgs: Record<string, string> = {
    'cloud-provider': 'external',
    'node-ip': '@@NODE_IP@@',
    'provider-id': 'aws:///@@AVAILABILITY_ZONE@@/@@INSTANCE_ID@@',
  };
  const labelText = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  if (labelText) kubeletArgs['node-labels'] = labelText;
  return { name: '@@NODE_NAME@@', criSocket: CRI_SOCKET, kubeletExtraArgs: args(kubeletArgs), taints: [...taints] };
}

/**
 * kube-apiserver's issuer (and API audience) when none is set: what every cluster signed with before
 * IRSA. kubeadm puts it on the command line itself (`--service-account-issuer=https://kubernetes.default.svc.<dnsDomain>`)
 * unless the ClusterConfiguration names the flag, which ours never does (see `kubeApiServerIssuerPatch`).
 */
export const LEGACY_SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** kubeadm's file name for an RFC 6902 patch (`+json`) of the kube-apiserver static pod (target `kube-apiserver`). */
export const KUBE_APISERVER_PATCH_FILE = 'kube-apiserver+json.yaml';

/** kubeadm's file name for an RFC 6902 patch of the etcd static pod (target `etcd`). */
export const ETCD_PATCH_FILE = 'etcd+json.yaml';

/** One RFC 6902 operation, as kubeadm applies it to the static pod (converted to JSON). */
export interface JsonPatchOperation {
  readonly op: 'add' | 'replace' | 'test';
  readonly path: string;
  readonly value: string;
}

const COMMAND = '/spec/containers/0/command';

/**
 * The API server's service-account flags, as a JSON patch of its static pod, so each control-plane
 * node takes them from ITS user data in the order its stage needs. The ClusterConfiguration cannot
 * carry them: kubeadm writes extraArgs sorted by name and then value (the order of two
 * `--service-account-issuer` flags, of which the first signs, is not ours to choose), and a node
 * that joins, or runs `kubeadm upgrade node`, takes the ClusterConfiguration from the
 * `kube-system/kubeadm-config` ConfigMap written at `kubeadm init`, not from its user data. kubeadm
 * applies the patch at init, join and upgrade, after generating the manifest, whose command is
 * `kube-apiserver` followed by its sorted flags, including its own default legacy issuer:
 *
 * - signing with the cluster's issuer: it goes at index 1, before every flag, so before the legacy
 *   one, which stays accepted;
 * - signing with the legacy issuer (stage accept-issuer): the cluster's issuer goes last, accepted only.
 *
 * Every stage accepts both issuers, so during a rolling replacement each API server accepts what
 * any other signs. `--api-audiences` stays the legacy value: left unset, kube-apiserver defaults it
 * to every issuer, so removing the legacy issuer later would refuse every token already in a pod
 * (audience = the legacy issuer). The `test` fails the patch, and so the kubeadm run, when the
 * first container's command is not kube-apiserver's: never a flag patched into the wrong place.
 */
export function kubeApiServerIssuerPatch(issuer: Pick<ServiceAccountIssuerNames, 'url' | 'jwksUrl'>, identity: ServiceAccountIdentity): JsonPatchOperation[] {
  const flag = (name: string, value: string) => `--${name}=${value}`;
  const add = (index: '1' | '-', value: string): JsonPatchOperation => ({ op: 'add', path: `${COMMAND}/${index}`, value });
  const signsCluster = identity.apiServer.signs === 'cluster';
  return [
    { op: 'test', path: `${COMMAND}/0`, value: 'kube-apiserver' },
    add(signsCluster ? '1' : '-', flag('service-account-issuer', issuer.url)),
    // The API server's own discovery document names the published JWKS once its tokens carry that issuer.
    ...(signsCluster ? [add('-', flag('service-account-jwks-uri', issuer.jwksUrl))] : []),
    add('-', flag('api-audiences', LEGACY_SERVICE_ACCOUNT_ISSUER)),
    // Appended to kubeadm's own `--service-account-key-file=…/sa.pub` (the flag repeats; every file's keys verify).
    add('-', flag('service-account-key-file', `/etc/kubernetes/${SERVICE_ACCOUNT_KEY_BUNDLE}`)),
  ];
}

/**
 * The verification key bundle, relative to /etc/kubernetes: every public key kube-apiserver
 * accepts service-account tokens from (a file may hold several PEM keys). The node's kubeadm patch
 * appends `--service-account-key-file=/etc/kubernetes/pki/sa-bundle.pub` after kubeadm's default
 * `…/pki/sa.pub` (kube-apiserver verifies with the keys of every such flag); never the
 * ClusterConfiguration, which a joining or upgrading node reads from the kubeadm-config ConfigMap
 * of the cluster's `kubeadm init`, so a cluster initialised before the bundle would never get it.
 * sa.pub is always the public half of sa.key, which the bundle holds in every rotation phase, so
 * the extra file adds no key. service-account-issuer.sh key-set writes the bundle from the
 * rotation state before the API server starts. The signing keys stay kubeadm's sa.key for both
 * kube-apiserver and kube-controller-manager.
 */
export const SERVICE_ACCOUNT_KEY_BUNDLE = 'pki/sa-bundle.pub';

const endpoint = (apiEndpoint: string) => `${apiEndpoint}:${KUBERNETES_PORTS.apiServer}`;

/**
 * ClusterConfiguration + InitConfiguration + KubeletConfiguration for the initialiser.
 * `apiEndpoint` (the private name) becomes controlPlaneEndpoint, so kubeadm writes it into every
 * kubelet, kube-proxy and admin kubeconfig. The API server certificate names it and every
 * `alternateNames` entry (the public name, the load balancers' own DNS names), so clients using
 * any of them verify it.
 */
export function kubeadmInitTemplate(cluster: ClusterDefinition, apiEndpoint: string, alternateNames: readonly string[] = []): string {
  const t = failoverTimings(cluster);
  const init = {
    apiVersion: KUBEADM_API,
    kind: 'InitConfiguration',
    certificateKey: '@@CERTIFICATE_KEY@@',
    localAPIEndpoint: { advertiseAddress: '@@ETCD_IP@@', bindPort: KUBERNETES_PORTS.apiServer },
    nodeRegistration: nodeRegistration([CONTROL_PLANE_TAINT], {}),
    patches: { directory: KUBEADM_PATCHES_DIR },
  };
  const clusterConfiguration = {
    apiVersion: KUBEADM_API,
    kind: 'ClusterConfiguration',
    clusterName: cluster.name,
    kubernetesVersion: `v${cluster.kubernetesVersion}`,
    controlPlaneEndpoint: endpoint(apiEndpoint),
    networking: { podSubnet: cluster.clusterNetwork.podCidr, serviceSubnet: cluster.clusterNetwork.serviceCidr },
    apiServer: {
      certSANs: [...new Set([apiEndpoint, ...alternateNames])],
      // Every service-account flag (issuers, key bundle) comes from the node's kubeadm patch
      // (kubeApiServerIssuerPatch), never from here: the ConfigMap keeps what `kubeadm init` was given.
      extraArgs: args({
        'default-not-ready-toleration-seconds': t.notReadyTolerationSeconds,
        'default-unreachable-toleration-seconds': t.unreachableTolerationSeconds,
      }),
    },
    controllerManager: {
      extraArgs: args({
        'cloud-provider': 'external',
        'node-monitor-period': `${t.nodeMonitorPeriodSeconds}s`,
        'node-monitor-grace-period': `${t.nodeMonitorGracePeriodSeconds}s`,
      }),
    },
    // kubeadm binds etcd's metrics to 127.0.0.1: Prometheus could not scrape them and the
    // etcd quorum alerts would never fire. Plain /metrics only; the client port keeps mTLS.
    etcd: { local: { dataDir: '/var/lib/etcd', extraArgs: args({ 'listen-metrics-urls': `http://0.0.0.0:${ETCD_METRICS_PORT}` }) } },
  };
  // Stored by kubeadm in the kubelet-config ConfigMap, so every joining node gets it too.
  const kubelet = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'systemd',
    nodeStatusUpdateFrequency: `${t.nodeStatusUpdateFrequencySeconds}s`,
    nodeStatusReportFrequency: `${t.nodeStatusReportFrequencySeconds}s`,
    nodeLeaseDurationSeconds: t.nodeLeaseDurationSeconds,
    shutdownGracePeriod: '30s',
    shutdownGracePeriodCriticalPods: '10s',
    // Serving certificate from the cluster CA (a kubernetes.io/kubelet-serving CSR naming the
    // node's addresses) instead of a self-signed one, so metrics-server and `kubectl logs/exec`
    // verify the kubelet. kube-controller-manager never approves these CSRs:
    // kubelet-serving-approver.sh does, after checking them against the Node and EC2.
    serverTLSBootstrap: true,
    // The kubelet's defaults written out whole (a partial map would drop the rest); the memory
    // threshold is what platform-config's allocatable model subtracts. Reserves are per node: kubeletReservesPatch.
    evictionHard: { ...KUBELET_EVICTION_HARD },
  };
  return yamlDocuments([init, clusterConfiguration, kubelet]);
}

/**
 * The kubelet reserves of a node of these instance types (one size: platform-config validates a
 * pool's types share vCPUs and memory), from platform-config's kubeletReservesOf, the function
 * ha-check's allocatable model uses: a kubeadm `kubeletconfiguration` merge patch.
 */
export function kubeletReservesPatch(instanceTypes: readonly string[]): string {
  const all = instanceTypes.map((type) => {
    const r = instanceTypeKubeletReserves(type);
    if (!r) throw new Error(`kubeletReservesPatch: unknown instance type ${type}; expected one of platform-config's INSTANCE_TYPES`);
    return r;
  });
  const quantities = (r: { cpuMilli: number; memoryMiB: number }) => ({ cpu: `${r.cpuMilli}m`, memory: `${r.memoryMiB}Mi` });
  const patches = [...new Set(all.map((r) => JSON.stringify({ kubeReserved: quantities(r.kubeReserved), systemReserved: quantities(r.systemReserved) })))];
  if (patches.length !== 1) throw new Error(`kubeletReservesPatch: instance types ${instanceTypes.join(', ')} have different reserves; expected one size per pool`);
  return yamlDocuments([{ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', ...(JSON.parse(patches[0]!) as object) }]);
}

/** Where every node's user data puts `kubeadmUpgradeConfiguration`: `kubeadm upgrade node --config` reads it. */
export const KUBEADM_UPGRADE_CONFIG = `${NODE_BOOTSTRAP_ETC}/kubeadm-upgrade.yaml`;

/**
 * UpgradeConfiguration (v1beta4) naming this node's patches directory for `kubeadm upgrade apply` and
 * `kubeadm upgrade node`: without it kubeadm regenerates the static pods and the kubelet configuration
 * from the ConfigMaps alone, dropping the node's service-account flags (issuers, key bundle) and its
 * kubelet reserves. Nothing else: the ConfigMaps stay the source of the rest.
 */
export function kubeadmUpgradeConfiguration(): string {
  const patches = { directory: KUBEADM_PATCHES_DIR };
  return yamlDocuments([{ apiVersion: KUBEADM_API, kind: 'UpgradeConfiguration', apply: { patches }, node: { patches } }]);
}

/** JoinConfiguration for a control-plane node, or for a worker of `pool`. */
export function kubeadmJoinTemplate(apiEndpoint: string, pool: WorkerPool | undefined): string {
  const join: Record<string, unknown> = {
    apiVersion: KUBEADM_API,
    kind: 'JoinConfiguration',
    discovery: {
      bootstrapToken: { apiServerEndpoint: endpoint(apiEndpoint), token: '@@JOIN_TOKEN@@', caCertHashes: ['@@CA_CERT_HASH@@'] },
    },
    nodeRegistration: pool ? nodeRegistration(pool.taints, pool.labels) : nodeRegistration([CONTROL_PLANE_TAINT], {}),
    patches: { directory: KUBEADM_PATCHES_DIR },
  };
  if (!pool) {
    join.controlPlane = { certificateKey: '@@CERTIFICATE_KEY@@', localAPIEndpoint: { advertiseAddress: '@@ETCD_IP@@', bindPort: KUBERNETES_PORTS.apiServer } };
  }
  return yamlDocuments([join]);
}

/**
 * etcd's data volume as hostPath `Directory` instead of kubeadm's `DirectoryOrCreate`: a data dir
 * that is not there fails the pod instead of becoming a new, empty one (docs/decisions/etcd-volumes.md).
 * kubeadm lists the pod's volumes sorted by name (`etcd-certs`, `etcd-data`); the `test` makes any
 * other order fail the patch rather than change another volume.
 */
export function etcdDataDirPatch(): JsonPatchOperation[] {
  return [
    { op: 'test', path: '/spec/volumes/1/name', value: 'etcd-data' },
    { op: 'replace', path: '/spec/volumes/1/hostPath/type', value: 'Directory' },
  ];
}
