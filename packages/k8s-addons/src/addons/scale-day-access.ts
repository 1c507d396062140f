import { SCALE_DAY_ACCESS, type ScaleDayGrant } from '@platform/platform-config';
import type { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { AddOnBase } from '../addon';

/** No props: what scale day does is fixed by packages/pipeline's scale-day operation (SCALE_DAY_ACCESS). */
export type ScaleDayAccessProps = Record<string, never>;

/**
 * Scale day's own identity: a ServiceAccount in its namespace (restricted Pod Security), bound
 * to exactly platform-config SCALE_DAY_ACCESS.grants (a ClusterRole for the cluster-wide reads,
 * a Role per namespace for the rest), and the one right the published CI identity (the
 * region-failover ServiceAccount) gets for it: creating that ServiceAccount's short-lived token.
 * No Secrets, no exec, no cluster-wide writes, no namespace creation: the worst a leaked scale-day
 * token does is run a restricted pod in `scale-day` until it expires. In the `apps` layer beside
 * the app it loads.
 */
export class ScaleDayAccess extends AddOnBase<ScaleDayAccessProps> {
  readonly id = 'scale-day-access';
  readonly layer = 'apps' as const;

  protected defaults(): ScaleDayAccessProps {
    return {};
  }

  protected render(chart: Chart): void {
    const { namespace, serviceAccount, grants, clusterRole, roleIn, tokenMinter, tokenMinterRole } = SCALE_DAY_ACCESS;
    const subjects = [{ kind: 'ServiceAccount', name: serviceAccount, namespace }];
    new k8s.KubeNamespace(chart, 'Namespace', { metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
    // Its token is minted per run (TokenRequest), never mounted: the load pod runs with no token.
    new k8s.KubeServiceAccount(chart, 'ServiceAccount', { metadata: { name: serviceAccount, namespace }, automountServiceAccountToken: false });
    new k8s.KubeClusterRole(chart, 'ClusterRole', { metadata: { name: clusterRole }, rules: grants.filter((g) => g.namespace === undefined).map(rule) });
    new k8s.KubeClusterRoleBinding(chart, 'ClusterRoleBinding', {
      metadata: { name: clusterRole },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects,
    });
    const namespaces = [...new Set(grants.flatMap((g) => (g.namespace === undefined ? [] : [g.namespace])))];
    for (const ns of namespaces) {
      // The run's own namespace keeps its construct ids ('Role', 'RoleBinding').
      const id = ns === namespace ? 'Role' : `Role-${ns}`;
      this.roleWithBinding(chart, id, ns, roleIn(ns), grants.filter((g) => g.namespace === ns).map(rule), subjects);
    }
    const minter = tokenMinter.subject;
    this.roleWithBinding(chart, 'TokenMinterRole', namespace, tokenMinterRole, [rule(tokenMinter.grant)], [{ kind: 'ServiceAccount', name: minter.serviceAccount, namespace: minter.namespace }]);
  }

  private roleWithBinding(chart: Chart, id: string, namespace: string, name: string, rules: k8s.PolicyRule[], subjects: k8s.Subject[]): void {
    new k8s.KubeRole(chart, id, { metadata: { name, namespace }, rules });
    new k8s.KubeRoleBinding(chart, id.replace(/^Role/, 'RoleBinding').replace(/Role$/, 'RoleBinding'), {
      metadata: { name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects,
    });
  }
}

function rule(grant: ScaleDayGrant): k8s.PolicyRule {
  return { apiGroups: [grant.group], resources: [...grant.resources], verbs: [...grant.verbs], ...(grant.resourceNames ? { resourceNames: [...grant.resourceNames] } : {}) };
}
