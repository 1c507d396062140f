import { defaultPlatform, FAILOVER_ACCESS, SCALE_DAY_ACCESS, scaleDayGrantCovers, type ScaleDayGrant } from '@platform/platform-config';
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

const { namespace, serviceAccount, grants, tokenMinter } = SCALE_DAY_ACCESS;
const sa = { name: serviceAccount, namespace };
const minter = { name: tokenMinter.subject.serviceAccount, namespace: tokenMinter.subject.namespace };

/** Every request a grant allows (a named grant with each of its names, an unnamed one with a name and without). */
const requestsOf = (grant: ScaleDayGrant): Request[] =>
  grant.verbs.flatMap((verb) =>
    grant.resources.flatMap((resource) =>
      (grant.resourceNames ?? [undefined, 'load-1']).map((name) => ({ verb, group: grant.group, resource, ...(grant.namespace ? { namespace: grant.namespace } : {}), ...(name ? { name } : {}) })),
    ),
  );

// Every verb on what matters (secrets, exec, workloads, RBAC, tokens) in the namespaces that matter, cluster-wide too.
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const RESOURCES: [string, string][] = [
  ['', 'pods'], ['', 'pods/log'], ['', 'pods/exec'], ['', 'pods/eviction'], ['', 'secrets'], ['', 'configmaps'], ['', 'nodes'], ['', 'namespaces'],
  ['', 'serviceaccounts'], ['', 'serviceaccounts/token'], ['', 'services'], ['batch', 'jobs'], ['batch', 'cronjobs'], ['apps', 'deployments'], ['apps', 'deployments/scale'],
  ['autoscaling', 'horizontalpodautoscalers'], ['rbac.authorization.k8s.io', 'roles'], ['rbac.authorization.k8s.io', 'rolebindings'], ['rbac.authorization.k8s.io', 'clusterrolebindings'],
];
const NAMESPACES = [undefined, namespace, SCALE_DAY_ACCESS.app.namespace, 'kube-system', 'flux-system', FAILOVER_ACCESS.namespace];
const NAMES = [undefined, 'load-1', SCALE_DAY_ACCESS.app.hpa, serviceAccount, 'default'];
const EVERY_REQUEST: Request[] = VERBS.flatMap((verb) =>
  RESOURCES.flatMap(([group, resource]) => NAMESPACES.flatMap((ns) => NAMES.map((name) => ({ verb, group, resource, ...(ns ? { namespace: ns } : {}), ...(name ? { name } : {}) })))),
);

describe('scale day access', () => {
  it('is its own ServiceAccount, not the failover identity whose kubeconfig the control plane publishes', () => {
    expect(sa).not.toEqual({ name: FAILOVER_ACCESS.serviceAccount, namespace: FAILOVER_ACCESS.namespace });
  });

  it.each(platform.clusters.map((c) => c.name))('%s: every grant in SCALE_DAY_ACCESS (what the pipeline checks its calls against) is allowed, in a namespace GitOps owns under the restricted standard', (cluster) => {
    const objs = objects(cluster);
    for (const call of grants.flatMap(requestsOf)) expect(allowed(objs, sa, call), JSON.stringify(call)).toBe(true);
    expect(objs.find((o) => o.kind === 'Namespace' && o.metadata.name === namespace)?.metadata.labels).toEqual({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    expect(objs.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === serviceAccount)).toMatchObject({ metadata: { namespace }, automountServiceAccountToken: false });
  });

  it.each(platform.clusters.map((c) => c.name))('%s: and nothing more: of %i requests (every verb on pods, exec, secrets, workloads, RBAC, tokens, in each namespace and cluster-wide) exactly the granted ones are allowed', (cluster) => {
    const objs = objects(cluster);
    const wrong = EVERY_REQUEST.filter((r) => allowed(objs, sa, r) !== grants.some((g) => scaleDayGrantCovers(g, r)));
    expect(wrong).toEqual([]);
    // What a leaked token could have used under the failover identity is out of reach.
    for (const r of [
      { verb: 'get', group: '', resource: 'secrets', namespace, name: 'x' },
      { verb: 'list', group: '', resource: 'secrets' },
      { verb: 'create', group: '', resource: 'pods/exec', namespace, name: 'x' },
      { verb: 'create', group: 'batch', resource: 'jobs', namespace: 'kube-system', name: 'x' },
      { verb: 'delete', group: '', resource: 'pods', namespace: 'web', name: 'x' },
      { verb: 'patch', group: '', resource: 'nodes', name: 'x' },
    ]) expect(allowed(objs, sa, r), JSON.stringify(r)).toBe(false);
  });

  it.each(platform.clusters.map((c) => c.name))('%s: the published CI identity may mint scale day\'s token and no other, and gains nothing else of scale day\'s', (cluster) => {
    const objs = objects(cluster);
    const mint = (ns: string, name: string): Request => ({ verb: 'create', group: '', resource: 'serviceaccounts/token', namespace: ns, name });
    expect(allowed(objs, minter, mint(namespace, serviceAccount))).toBe(true);
    expect(allowed(objs, minter, mint(namespace, 'default'))).toBe(false);
    expect(allowed(objs, minter, mint('kube-system', serviceAccount))).toBe(false);
    expect(allowed(objs, minter, { verb: 'create', group: 'batch', resource: 'jobs', namespace, name: 'x' })).toBe(false);
  });
});
