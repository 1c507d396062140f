import { defaultPlatform, FAILOVER_ACCESS, SCALE_DAY_ACCESS } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synthClusterTree } from '../src';
import { rbacAllows, type RbacObject, type Request } from './support/rbac';

const platform = defaultPlatform();

type Obj = RbacObject;

const objects = (cluster: string): Obj[] =>
  Object.entries(synthClusterTree(platform, cluster))
    .filter(([file]) => file.endsWith('.yaml'))
    .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as Obj))
    .filter((o) => o && typeof o === 'object');

const allowed = rbacAllows;

/** The API calls packages/pipeline's scale day makes with kubectl (get/apply/logs/delete). */
const { namespace, app } = SCALE_DAY_ACCESS;
const SCALE_DAY_CALLS: readonly Request[] = [
  { verb: 'get', group: 'autoscaling', resource: 'horizontalpodautoscalers', namespace: app.namespace, name: app.hpa },
  { verb: 'get', group: 'apps', resource: 'deployments', namespace: app.namespace, name: app.deployment },
  { verb: 'list', group: '', resource: 'pods' },
  // The app's own Pending pods (its Deployment's selector), judged apart from the cluster-wide count.
  { verb: 'list', group: '', resource: 'pods', namespace: app.namespace },
  { verb: 'list', group: '', resource: 'nodes' },
  ...['get', 'create', 'patch', 'delete'].flatMap((verb) => [
    { verb, group: '', resource: 'configmaps', namespace, name: 'load-1' },
    { verb, group: 'batch', resource: 'jobs', namespace, name: 'load-1' },
  ]),
  { verb: 'list', group: '', resource: 'pods', namespace },
  { verb: 'get', group: '', resource: 'pods/log', namespace, name: 'load-1-abcde' },
];

describe('scale day access', () => {
  const sa = { name: SCALE_DAY_ACCESS.subject.serviceAccount, namespace: SCALE_DAY_ACCESS.subject.namespace };

  it('is granted to the identity whose kubeconfig the control plane publishes (the CI kubeconfig scale day reads)', () => {
    expect(sa).toEqual({ name: FAILOVER_ACCESS.serviceAccount, namespace: FAILOVER_ACCESS.namespace });
  });

  it.each(platform.clusters.map((c) => c.name))('%s: every call scale day makes is allowed, in a namespace GitOps owns under the restricted standard', (cluster) => {
    const objs = objects(cluster);
    for (const call of SCALE_DAY_CALLS) expect(allowed(objs, sa, call), JSON.stringify(call)).toBe(true);
    expect(objs.find((o) => o.kind === 'Namespace' && o.metadata.name === namespace)?.metadata.labels).toEqual({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  it.each(platform.clusters.map((c) => c.name))('%s: and nothing a leaked token could use beyond it: no Job elsewhere, no exec, no Secrets, no other HPA, no namespace deleted', (cluster) => {
    const objs = objects(cluster);
    const denied: Request[] = [
      { verb: 'create', group: 'batch', resource: 'jobs', namespace: 'kube-system', name: 'x' },
      { verb: 'create', group: 'batch', resource: 'jobs', namespace: app.namespace, name: 'x' },
      { verb: 'create', group: '', resource: 'pods', namespace, name: 'x' },
      { verb: 'create', group: '', resource: 'pods/exec', namespace, name: 'x' },
      { verb: 'get', group: '', resource: 'secrets', namespace, name: 'x' },
      { verb: 'list', group: '', resource: 'secrets' },
      { verb: 'get', group: 'autoscaling', resource: 'horizontalpodautoscalers', namespace: 'monitoring', name: 'other' },
      { verb: 'delete', group: '', resource: 'namespaces', name: namespace },
      { verb: 'delete', group: '', resource: 'configmaps', namespace: app.namespace, name: 'x' },
    ];
    for (const call of denied) expect(allowed(objs, sa, call), JSON.stringify(call)).toBe(false);
  });
});
