import { defaultPlatform, FAILOVER_ACCESS, SCALE_DAY_ACCESS } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synthClusterTree } from '../src';

const platform = defaultPlatform();

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] };
type Obj = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; rules?: Rule[]; roleRef?: { kind: string; name: string }; subjects?: { kind: string; name: string; namespace?: string }[] };

const objects = (cluster: string): Obj[] =>
  Object.entries(synthClusterTree(platform, cluster))
    .filter(([file]) => file.endsWith('.yaml'))
    .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as Obj))
    .filter((o) => o && typeof o === 'object');

interface Request {
  readonly verb: string;
  readonly group: string;
  /** `<resource>` or `<resource>/<subresource>`: a subresource is its own resource to RBAC. */
  readonly resource: string;
  /** Undefined: a cluster-wide request (list across namespaces, or a cluster-scoped object). */
  readonly namespace?: string;
  readonly name?: string;
}

/**
 * RBAC as the API server decides (additive, no deny): a ClusterRoleBinding's rules hold in every
 * namespace and for cluster-wide requests, a RoleBinding's only inside its namespace; a rule with
 * resourceNames matches only requests naming one of them (so never a list or a create).
 */
function allowed(objs: readonly Obj[], sa: { name: string; namespace: string }, request: Request): boolean {
  const bound = objs.filter(
    (b) =>
      (b.kind === 'ClusterRoleBinding' || (b.kind === 'RoleBinding' && request.namespace !== undefined && b.metadata.namespace === request.namespace)) &&
      b.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === sa.name && s.namespace === sa.namespace),
  );
  const rules = bound.flatMap((b) => objs.filter((r) => r.kind === b.roleRef!.kind && r.metadata.name === b.roleRef!.name && (r.kind === 'ClusterRole' || r.metadata.namespace === b.metadata.namespace)).flatMap((r) => r.rules ?? []));
  return rules.some(
    (r) =>
      (r.apiGroups ?? []).includes(request.group) &&
      (r.resources ?? []).includes(request.resource) &&
      r.verbs.includes(request.verb) &&
      (!r.resourceNames || (request.name !== undefined && r.resourceNames.includes(request.name))),
  );
}

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
