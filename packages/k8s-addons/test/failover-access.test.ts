import { APP_DATA_NAMESPACE, defaultPlatform, FAILOVER_ACCESS } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synthClusterTree } from '../src';
import { rbacAllows, type RbacObject } from './support/rbac';

const platform = defaultPlatform();
type Obj = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; [k: string]: unknown };
const objects = (cluster: string) =>
  parseAllDocuments(synthClusterTree(platform, cluster)['flux-system/region-failover-access.yaml']!).map((d) => d.toJS() as Obj);

describe('region-failover access', () => {
  it.each(platform.clusters.map((c) => c.name))('%s: a ServiceAccount in its own namespace, its token Secret and one ClusterRole bound to it', (cluster) => {
    const objs = objects(cluster);
    const { namespace, serviceAccount, tokenSecret, clusterRole } = FAILOVER_ACCESS;
    expect(objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      `Namespace//${namespace}`,
      `ServiceAccount/${namespace}/${serviceAccount}`,
      `Secret/${namespace}/${tokenSecret}`,
      `ClusterRole//${clusterRole}`,
      `ClusterRoleBinding//${clusterRole}`,
    ]);
    const secret = objs.find((o) => o.kind === 'Secret')!;
    expect(secret).toMatchObject({ type: 'kubernetes.io/service-account-token', metadata: { annotations: { 'kubernetes.io/service-account.name': serviceAccount } } });
    expect(secret.data).toBeUndefined();
    expect(objs.find((o) => o.kind === 'ClusterRoleBinding')).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: clusterRole },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
    });
  });

  it('grants no wildcard, no Secret access and no escalation verbs', () => {
    const role = objects('dr').find((o) => o.kind === 'ClusterRole') as unknown as { rules: { apiGroups?: string[]; resources?: string[]; verbs: string[] }[] };
    const flat = role.rules.flatMap((r) => [...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs]);
    expect(flat).not.toContain('*');
    expect(role.rules.flatMap((r) => r.resources ?? [])).not.toContain('secrets');
    expect(role.rules.flatMap((r) => r.verbs).filter((v) => ['escalate', 'bind', 'impersonate'].includes(v))).toEqual([]);
  });
});

describe('region-failover access covers the fence', () => {
  it('may patch Deployments (replicas to 0), annotate CNPG Clusters (hibernation) and list Backups (fail-back looks for the fenced one)', () => {
    const role = parseAllDocuments(synthClusterTree(platform, 'production')['flux-system/region-failover-access.yaml']!)
      .map((d) => d.toJS() as { kind: string; rules?: { apiGroups?: string[]; resources?: string[]; verbs: string[] }[] })
      .find((o) => o.kind === 'ClusterRole')!;
    const verbs = (group: string, resource: string) => role.rules!.filter((r) => r.apiGroups?.includes(group) && r.resources?.includes(resource)).flatMap((r) => r.verbs);
    expect(verbs('apps', 'deployments')).toContain('patch');
    expect(verbs('postgresql.cnpg.io', 'clusters')).toContain('patch');
    expect(verbs('postgresql.cnpg.io', 'backups')).toEqual(expect.arrayContaining(['list', 'create']));
  });
});

/** The core-group request `verb resource` in `namespace`, judged by the shared RBAC model. */
type RbacObj = Obj & RbacObject;
const allowed = (objs: readonly RbacObj[], subject: { name: string; namespace: string }, verb: string, resource: string, namespace: string): boolean =>
  rbacAllows(objs, subject, { verb, group: '', resource, namespace, name: 'any' });

describe('region-failover access covers the database queries (kubectl exec psql)', () => {
  const { namespace, serviceAccount } = FAILOVER_ACCESS;
  const tree = (cluster: string) => synthClusterTree(platform, cluster);
  const all = (cluster: string) =>
    Object.entries(tree(cluster))
      .filter(([file]) => file.endsWith('.yaml'))
      .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as RbacObj))
      .filter((o) => o && typeof o === 'object');

  it.each(platform.clusters.map((c) => c.name))('%s: get pods and create pods/exec in the database namespace only, nowhere else', (cluster) => {
    const objs = all(cluster);
    const sa = { name: serviceAccount, namespace };
    expect(allowed(objs, sa, 'get', 'pods', APP_DATA_NAMESPACE)).toBe(true);
    expect(allowed(objs, sa, 'create', 'pods/exec', APP_DATA_NAMESPACE)).toBe(true);
    for (const other of ['kube-system', 'flux-system', namespace, 'web']) {
      expect(allowed(objs, sa, 'create', 'pods/exec', other), other).toBe(false);
      expect(allowed(objs, sa, 'get', 'pods', other), other).toBe(false);
    }
    // Another ServiceAccount gains nothing.
    expect(allowed(objs, { name: 'default', namespace: APP_DATA_NAMESPACE }, 'create', 'pods/exec', APP_DATA_NAMESPACE)).toBe(false);
  });

  it('the Role sits in the layer whose Kustomization creates its namespace (the flux-system layer would fail the root sync before it exists)', () => {
    const files = tree('production');
    const access = parseAllDocuments(files['apps/region-failover-database-access.yaml']!).map((d) => d.toJS() as RbacObj);
    expect(access.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([`Role/${APP_DATA_NAMESPACE}/${FAILOVER_ACCESS.clusterRole}`, `RoleBinding/${APP_DATA_NAMESPACE}/${FAILOVER_ACCESS.clusterRole}`]);
    const layerNamespaces = Object.entries(files)
      .filter(([file]) => file.startsWith('apps/') && file.endsWith('.yaml'))
      .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as Obj))
      .filter((o) => o?.kind === 'Namespace')
      .map((o) => o.metadata.name);
    expect(layerNamespaces).toContain(APP_DATA_NAMESPACE);
    expect(parseAllDocuments(files['apps/kustomization.yaml']!)[0]!.toJS().resources).toContain('region-failover-database-access.yaml');
  });

  it('the access the exec path needs is missing without the Role (the evaluator can fail)', () => {
    const objs = all('dr').filter((o) => !(o.kind === 'RoleBinding' && o.metadata.name === FAILOVER_ACCESS.clusterRole));
    expect(allowed(objs, { name: serviceAccount, namespace }, 'create', 'pods/exec', APP_DATA_NAMESPACE)).toBe(false);
  });
});
