import { APP_DATA_NAMESPACE, FAILOVER_ACCESS } from '@platform/platform-config';
import type { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { AddOnBase } from '../addon';

export interface FailoverDatabaseAccessProps {
  /** Namespace of the app database whose instances the failover tool queries. @default APP_DATA_NAMESPACE */
  readonly databaseNamespace: string;
}

/**
 * FailoverAccess's grant inside the database namespace: the failover tool reads the replica's
 * replay point and `pg_is_in_recovery()` with `kubectl exec` into the instance's postgres
 * container (`get` the pod, `create` pods/exec). A Role there, not a ClusterRole rule: exec is
 * a shell in any pod, so only the database's. In the `apps` layer, whose Kustomization also
 * creates that namespace (PostgresCluster): a RoleBinding in the flux-system layer would fail
 * the root sync before the namespace exists.
 */
export class FailoverDatabaseAccess extends AddOnBase<FailoverDatabaseAccessProps> {
  readonly id = 'region-failover-database-access';
  readonly layer = 'apps' as const;

  protected defaults(): FailoverDatabaseAccessProps {
    return { databaseNamespace: APP_DATA_NAMESPACE };
  }

  protected render(chart: Chart, props: FailoverDatabaseAccessProps): void {
    const { namespace, serviceAccount, clusterRole } = FAILOVER_ACCESS;
    const metadata = { name: clusterRole, namespace: props.databaseNamespace };
    new k8s.KubeRole(chart, 'Role', {
      metadata,
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] }, // kubectl exec reads the pod first
        { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }, // psql: replay point, pg_is_in_recovery()
      ],
    });
    new k8s.KubeRoleBinding(chart, 'RoleBinding', {
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: clusterRole },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
    });
  }
}
