import { describe, expect, it } from 'vitest';
import { diffManifests, forCluster, isEmptyDiff } from '../src/pull-request/manifest-diff';
import { changedFilesSince, treeAtCommit, treeOnDisk } from '../src/io/git';
import { git, tempRepo, writeFiles } from './support/git';

const deployment = (replicas: number) => `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  replicas: ${replicas}\n`;
const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: apps\ndata:\n  a: "1"\n`;

describe('diffManifests', () => {
  it('reports objects added, changed (with the fields) and removed, by cluster, kind, namespace and name', () => {
    const base = new Map([
      ['clusters/production/apps/web.yaml', deployment(3)],
      ['clusters/production/apps/config.yaml', `${configMap('old')}---\n${configMap('kept')}`],
    ]);
    const head = new Map([
      ['clusters/production/apps/web.yaml', deployment(6)],
      ['clusters/production/apps/config.yaml', configMap('kept')],
      ['clusters/production/apps/new.yaml', configMap('new')],
      ['clusters/staging/apps/new.yaml', configMap('new')],
    ]);
    const diff = diffManifests(base, head);
    expect(diff.added.map((c) => `${c.cluster}/${c.kind}/${c.namespace}/${c.name}`)).toEqual(['production/ConfigMap/apps/new', 'staging/ConfigMap/apps/new']);
    expect(diff.changed).toEqual([{ cluster: 'production', kind: 'Deployment', namespace: 'apps', name: 'web', change: 'changed', fields: ['spec'], file: 'clusters/production/apps/web.yaml' }]);
    expect(diff.removed.map((c) => c.name)).toEqual(['old']);
    expect(forCluster(diff, 'staging').added).toHaveLength(1);
    expect(forCluster(diff, 'staging').removed).toHaveLength(0);
  });

  it('does not report an object moved to another file, nor key order or formatting', () => {
    const base = new Map([['clusters/p/a.yaml', configMap('x')]]);
    const head = new Map([['clusters/p/b.yaml', 'kind: ConfigMap\napiVersion: v1\ndata: { a: "1" }\nmetadata: { namespace: apps, name: x }\n']]);
    expect(isEmptyDiff(diffManifests(base, head))).toBe(true);
  });

  it('rejects the same object defined twice, naming both files', () => {
    expect(() => diffManifests(new Map(), new Map([['clusters/p/a.yaml', configMap('x')], ['clusters/p/b.yaml', configMap('x')]]))).toThrow(
      'clusters/p/b.yaml: ConfigMap apps/x is also defined in clusters/p/a.yaml',
    );
  });

  it('reads the base tree from git and the new one from disk', () => {
    const repo = tempRepo({ 'clusters/production/apps/web.yaml': deployment(3), 'clusters/production/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n' });
    const base = git(repo, 'rev-parse', 'HEAD').trim();
    writeFiles(repo, { 'clusters/production/apps/web.yaml': deployment(4), 'packages/platform-config/src/clusters/staging.ts': 'x' });
    const diff = diffManifests(treeAtCommit(repo, base, 'clusters'), treeOnDisk(repo, 'clusters'));
    expect(diff.changed.map((c) => c.name)).toEqual(['web']);
    expect(diff.added).toEqual([]);
    expect(treeAtCommit(repo, base, 'clusters').get('clusters/production/apps/web.yaml')).toBe(deployment(3));
    expect(changedFilesSince(repo, base)).toEqual(['clusters/production/apps/web.yaml', 'packages/platform-config/src/clusters/staging.ts']);
  });
});
