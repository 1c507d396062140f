/**
 * The CNI every cluster runs and the node-to-node ports it needs: the security groups in
 * aws-cluster and the CNI chart in k8s-addons both read this, so they cannot disagree.
 * Cilium in VXLAN tunnel mode: no dependency on VPC routing for pod addresses.
 */
export const CNI = {
  name: 'cilium',
  tunnelProtocol: 'vxlan',
  nodePorts: [
    { protocol: 'udp', port: 8472, purpose: 'VXLAN overlay' },
    { protocol: 'tcp', port: 4240, purpose: 'Cilium health checks' },
    { protocol: 'tcp', port: 4244, purpose: 'Hubble server' },
  ],
} as const;

/** Kubernetes ports the AWS side opens (security groups) and the manifests rely on. */
export const KUBERNETES_PORTS = {
  apiServer: 6443,
  etcdClient: 2379,
  etcdPeer: 2380,
  kubelet: 10250,
  nodePortRange: { from: 30000, to: 32767 },
} as const;

/**
 * The ingress controller's Service uses fixed NodePorts so the Terraform-owned ingress NLB
 * (one per cluster, every AZ) can target the worker ASGs directly.
 */
export const INGRESS_NODE_PORTS = { http: 30080, https: 30443, healthCheck: 30254 } as const;

/**
 * Path the ingress controller answers on its HTTP NodePort without any app (Traefik's ping on
 * the `web` entrypoint): the ingress NLB's target health check and the Route 53 regional
 * health check both request it.
 */
export const INGRESS_HEALTH_CHECK_PATH = '/ping';

/**
 * etcd's plain-HTTP metrics listener (`--listen-metrics-urls=http://0.0.0.0:<port>`, set by
 * node-bootstrap; kubeadm's default binds it to 127.0.0.1, where Prometheus cannot scrape it): the control-plane security group admits it from the nodes Prometheus runs
 * on, and kube-prometheus-stack's kubeEtcd Service targets it. The client port stays mTLS-only.
 */
export const ETCD_METRICS_PORT = 2381;

/**
 * Port of kube-prometheus-stack's node-exporter (host network on every node): the node
 * security groups admit it from the workers, where Prometheus runs.
 */
export const NODE_EXPORTER_PORT = 9100;
