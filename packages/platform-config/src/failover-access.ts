/**
 * The region-failover automation's identity inside every cluster: a ServiceAccount in its own
 * namespace, bound to a ClusterRole holding only what packages/failover's kubectl calls need,
 * and a long-lived token Secret. k8s-addons declares them (Flux owns them); the initialiser's
 * node-bootstrap `ci-kubeconfig.sh` waits for the token and publishes a kubeconfig to
 * `names.ssm.ciKubeconfig`.
 */
export const FAILOVER_ACCESS = {
  namespace: 'region-failover',
  serviceAccount: 'region-failover',
  /** Secret of type kubernetes.io/service-account-token; the token controller fills it. */
  tokenSecret: 'region-failover-token',
  clusterRole: 'region-failover',
} as const;

/**
 * Names inside the published kubeconfig. The workflow merges two (primary and standby), so
 * every entry is unique per cluster (kubeadm's `kubernetes` / `kubernetes-admin` would
 * collide and send both contexts to one API server); the context is the cluster name, what
 * packages/failover passes to `kubectl --context`.
 */
export function failoverKubeconfigNames(cluster: string): { readonly cluster: string; readonly user: string; readonly context: string } {
  return { cluster, user: `${cluster}-${FAILOVER_ACCESS.serviceAccount}`, context: cluster };
}
