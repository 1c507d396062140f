import { ETCD_METRICS_PORT, KUBERNETES_PORTS, type ClusterDefinition, type ServiceAccountIssuerNames, type WorkerPool } from '@platform/platform-config';
import { failoverTimings } from '../timings';
import { yamlDocuments } from './yaml-text';

/*
 * kubeadm v1beta4 configuration templates. What only the node knows at boot (its name,
 * address, instance id, the join material) is left as @@NAME@@ and filled in by the
 * scripts' render_template; everything else comes from the cluster definition here.
 */

const KUBEADM_API = 'kubeadm.k8s.io/v1beta4';
const CRI_SOCKET = 'unix:///run/containerd/containerd.sock';
const CONTROL_PLANE_TAINT = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

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

/** kube-apiserver's issuer (and API audience) when none is set: what every cluster signed with before IRSA. */
export const LEGACY_SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/**
 * The API server's service-account flags. The first `--service-account-issuer` signs, every
 * one is accepted: the legacy issuer stays accepted so tokens signed before a control plane
 * rolled onto these flags stay valid (docs/runbooks/service-account-issuer.md says when it may
 * go). kubeadm v1beta4's extraArgs are a list precisely so a flag may repeat, but kubeadm writes
 * the static pod's flags sorted by name and then by value: the new issuer signs only because its
 * URL sorts before the legacy one, which renderUserData checks (`issuerSignsFirst`). `--api-audiences`
 * stays the legacy value: left unset, kube-apiserver defaults it to every `--service-account-issuer`
 * value, so dropping the legacy issuer later would silently refuse every token already in a pod
 * (audience = the legacy issuer); pinned, the audience never depends on the issuer list.
 */
export function serviceAccountIssuerArgs(issuer: Pick<ServiceAccountIssuerNames, 'url' | 'jwksUrl'>): { name: string; value: string }[] {
  return [
    { name: 'service-account-issuer', value: issuer.url },
    { name: 'service-account-issuer', value: LEGACY_SERVICE_ACCOUNT_ISSUER },
    { name: 'service-account-jwks-uri', value: issuer.jwksUrl },
    { name: 'api-audiences', value: LEGACY_SERVICE_ACCOUNT_ISSUER },
  ];
}

/** Whether kubeadm's value sort puts `url` before the legacy issuer (so `url` signs). */
export const issuerSignsFirst = (url: string): boolean => url < LEGACY_SERVICE_ACCOUNT_ISSUER;

/**
 * The verification key bundle, relative to /etc/kubernetes: every public key kube-apiserver
 * accepts service-account tokens from (a file may hold several PEM keys). Replaces kubeadm's
 * default `--service-account-key-file=/etc/kubernetes/pki/sa.pub` (v1beta4 extraArgs override a
 * default of the same name); service-account-issuer.sh key-set writes it from the rotation state
 * before the API server starts. The signing keys stay kubeadm's sa.key for both kube-apiserver
 * and kube-controller-manager.
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
export function kubeadmInitTemplate(cluster: ClusterDefinition, issuer: Pick<ServiceAccountIssuerNames, 'url' | 'jwksUrl'>, apiEndpoint: string, alternateNames: readonly string[] = []): string {
  const t = failoverTimings(cluster);
  const init = {
    apiVersion: KUBEADM_API,
    kind: 'InitConfiguration',
    certificateKey: '@@CERTIFICATE_KEY@@',
    localAPIEndpoint: { advertiseAddress: '@@NODE_IP@@', bindPort: KUBERNETES_PORTS.apiServer },
    nodeRegistration: nodeRegistration([CONTROL_PLANE_TAINT], {}),
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
      extraArgs: [
        ...args({
          'default-not-ready-toleration-seconds': t.notReadyTolerationSeconds,
          'default-unreachable-toleration-seconds': t.unreachableTolerationSeconds,
        }),
        { name: 'service-account-key-file', value: `/etc/kubernetes/${SERVICE_ACCOUNT_KEY_BUNDLE}` },
        ...serviceAccountIssuerArgs(issuer),
      ],
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
  };
  return yamlDocuments([init, clusterConfiguration, kubelet]);
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
  };
  if (!pool) {
    join.controlPlane = { certificateKey: '@@CERTIFICATE_KEY@@', localAPIEndpoint: { advertiseAddress: '@@NODE_IP@@', bindPort: KUBERNETES_PORTS.apiServer } };
  }
  return yamlDocuments([join]);
}
