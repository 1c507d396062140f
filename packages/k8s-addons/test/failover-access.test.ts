import { defaultPlatform, FAILOVER_ACCESS } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synthClusterTree } from '../src';

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
