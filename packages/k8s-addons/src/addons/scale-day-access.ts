import { SCALE_DAY_ACCESS } from '@platform/platform-config';
import type { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { AddOnBase } from '../addon';

/** No props: what scale day does is fixed by packages/pipeline's scale-day operation (SCALE_DAY_ACCESS). */
export type ScaleDayAccessProps = Record<string, never>;

/**
 * Scale day's grant to the CI identity (the region-failover ServiceAccount, whose kubeconfig
 * the control plane publishes): its own namespace under the restricted Pod Security standard,
 * where it may run a load Job from a ConfigMap and read that Job's pods and log, and, across
 * the cluster, read the app's HPA and Deployment by name and list Pods and Nodes (samples of
 * Pending pods and Ready workers per zone). No Secrets, no exec, no namespace creation: the
 * worst a leaked token does with this is run a restricted pod in `scale-day`. In the `apps`
 * layer beside the app it loads.
 */
export class ScaleDayAccess extends AddOnBase<ScaleDayAccessProps> {
  readonly id = 'scale-day-access';
  readonly layer = 'apps' as const;

  protected defaults(): ScaleDayAccessProps {
    return {};
  }

  protected render(chart: Chart): void {
    const { namespace, role, clusterRole, subject, app } = SCALE_DAY_ACCESS;
    const subjects = [{ kind: 'ServiceAccount', name: subject.serviceAccount, namespace: subject.namespace }];
    new k8s.KubeNamespace(chart, 'Namespace', { metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
    new k8s.KubeClusterRole(chart, 'ClusterRole', {
      metadata: { name: clusterRole },
      rules: [
        { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get'], resourceNames: [app.hpa] },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'], resourceNames: [app.deployment] },
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['list'] },
      ],
    });
    new k8s.KubeClusterRoleBinding(chart, 'ClusterRoleBinding', {
      metadata: { name: clusterRole },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects,
    });
    const manage = ['get', 'create', 'patch', 'delete'];
    new k8s.KubeRole(chart, 'Role', {
      metadata: { name: role, namespace },
      rules: [
        // kubectl apply (get, then create or patch) and the clean-up after the run.
        { apiGroups: [''], resources: ['configmaps'], verbs: manage },
        { apiGroups: ['batch'], resources: ['jobs'], verbs: manage },
        // kubectl logs job/<name>: the Job's pods by selector, then their log.
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      ],
    });
    new k8s.KubeRoleBinding(chart, 'RoleBinding', {
      metadata: { name: role, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
      subjects,
    });
  }
}
