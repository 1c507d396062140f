import { FAILOVER_ACCESS } from './failover-access';

/**
 * What scale day (packages/pipeline `scale-day`) may do in a cluster, and as whom. It runs
 * with the cluster's CI kubeconfig (`names.ssm.ciKubeconfig`, the identity of FAILOVER_ACCESS,
 * the only one the control plane publishes), so k8s-addons `ScaleDayAccess` grants that
 * ServiceAccount exactly the calls below and no more: read the app's HPA and Deployment,
 * list Pods and Nodes, and run its load Job in its own namespace, which GitOps owns (Pod
 * Security `restricted`), so the tool never creates namespaces.
 */
export const SCALE_DAY_ACCESS = {
  namespace: 'scale-day',
  /** Role in `namespace`: ConfigMap and Job of a run, its pods and their log. */
  role: 'scale-day-load',
  /** ClusterRole: the app's HPA and Deployment by name, Pods and Nodes listed. */
  clusterRole: 'scale-day-observer',
  subject: { namespace: FAILOVER_ACCESS.namespace, serviceAccount: FAILOVER_ACCESS.serviceAccount },
  /** The app under load: the sample web app. */
  app: { namespace: 'web', deployment: 'web', hpa: 'web' },
} as const;
