import { APP_DATA_NAMESPACE, FAILOVER_ACCESS } from '@platform/platform-config';
import type { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { AddOnBase } from '../addon';
import { ownNamespace } from '../private/namespace';

export interface FailoverAccessProps {
  /** Namespace of the restored database, which the promotion re-applies (get/patch only there). @default APP_DATA_NAMESPACE */
  readonly databaseNamespace: string;
}

/**
 * The region-failover workflow's identity (FAILOVER_ACCESS): a ServiceAccount, a long-lived
 * token Secret and a ClusterRole with exactly the verbs packages/failover's kubectl calls use.
 * In the flux-system layer so the first sync of the root creates it, without waiting for
 * workers: node-bootstrap's ci-kubeconfig.sh waits for the token and publishes the kubeconfig.
 * Cluster-wide binding: the namespaces it acts in (data, web, flux-system) come from later
 * layers or the operator, and a RoleBinding in a namespace that does not exist yet would fail
 * the root sync. `kubectl exec` into the database is granted in its namespace only, by
 * FailoverDatabaseAccess (apps layer).
 */
export class FailoverAccess extends AddOnBase<FailoverAccessProps> {
  readonly id = 'region-failover-access';
  readonly layer = 'flux-system' as const;

  protected defaults(): FailoverAccessProps {
    return { databaseNamespace: APP_DATA_NAMESPACE };
  }

  protected render(chart: Chart, props: FailoverAccessProps): void {
    const { namespace, serviceAccount, tokenSecret, clusterRole } = FAILOVER_ACCESS;
    ownNamespace(chart, namespace);
    new k8s.KubeServiceAccount(chart, 'ServiceAccount', { metadata: { name: serviceAccount, namespace }, automountServiceAccountToken: false });
    // The token controller fills data.token and data.ca.crt; Flux declares no data, so it never fights it.
    new k8s.KubeSecret(chart, 'Token', { metadata: { name: tokenSecret, namespace, annotations: { 'kubernetes.io/service-account.name': serviceAccount } }, type: 'kubernetes.io/service-account-token' });
    const read = ['get', 'list', 'watch'];
    new k8s.KubeClusterRole(chart, 'ClusterRole', {
      metadata: { name: clusterRole },
      rules: [
        { nonResourceUrLs: ['/readyz'], verbs: ['get'] }, // preflight
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }, // nodes-ready
        // The recovery manifest carries its Namespace: apply reads it and creates it when missing.
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'patch'], resourceNames: [props.databaseNamespace] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['create'] },
        // verify-app: get, rollout status; fencing: patch spec.replicas to 0 under the platform-failover field manager
        { apiGroups: ['apps'], resources: ['deployments'], verbs: [...read, 'patch'] },
        { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'patch', 'update'] }, // kubectl scale
        { apiGroups: ['postgresql.cnpg.io'], resources: ['clusters'], verbs: [...read, 'create', 'patch', 'delete'] }, // restore, retire, hibernate (annotate)
        { apiGroups: ['postgresql.cnpg.io'], resources: ['backups'], verbs: [...read, 'create', 'patch'] }, // final and fenced backups + wait; fail-back lists fenced ones
        { apiGroups: ['kustomize.toolkit.fluxcd.io'], resources: ['kustomizations'], verbs: ['get', 'patch'] }, // suspend / resume
      ],
    });
    new k8s.KubeClusterRoleBinding(chart, 'ClusterRoleBinding', {
      metadata: { name: clusterRole },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
    });
  }
}
