import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { affectedClusters, manifestOnlyClusters } from '../src/pull-request/affected-clusters';
import { affectedStacks } from '../src/pull-request/affected-stacks';
import { sourceRootsOf } from '../src/io/workspace';

const platform = defaultPlatform();
const all = platform.clusters.map((c) => c.name);
const repoRoot = join(__dirname, '..', '..', '..');
const gitopsSourceRoots = sourceRootsOf(repoRoot, 'apps/gitops');
const infraSourceRoots = sourceRootsOf(repoRoot, 'apps/infra');
const stacks = ['ci-identity', ...platform.clusters.map((c) => platform.namesOf(c).stack)];
const map = (...changedFiles: string[]) => affectedClusters({ changedFiles, platform, gitopsSourceRoots }).map((c) => c.cluster);
/** What the pull-request workflow's `clusters` job comments on: affected clusters no affected stack covers. */
const manifestOnly = (...changedFiles: string[]) =>
  manifestOnlyClusters(
    affectedClusters({ changedFiles, platform, gitopsSourceRoots }),
    affectedStacks({ changedFiles, platform, stacks, infraSourceRoots }).map((a) => a.cluster),
  ).map((c) => c.cluster);

describe('changed files -> clusters whose manifests change', () => {
  it('reads the gitops source roots from the package graph: the app, the add-ons, platform-config', () => {
    expect(gitopsSourceRoots).toEqual(expect.arrayContaining(['apps/gitops', 'packages/k8s-addons', 'packages/platform-config']));
    expect(gitopsSourceRoots).not.toContain('packages/aws-cluster');
  });

  it('maps a committed manifest to its cluster through names.gitopsPath', () => {
    for (const cluster of all) expect(map(`${platform.namesOf(cluster).gitopsPath}/apps/web.yaml`)).toEqual([cluster]);
    expect(map(`${platform.namesOf('staging').gitopsPath}/README.md`)).toEqual(['staging']);
  });

  it('maps the add-ons, the gitops app and workspace files to every cluster', () => {
    for (const file of ['packages/k8s-addons/src/traefik.ts', 'apps/gitops/src/main.ts', 'packages/platform-config/src/names.ts', 'package-lock.json']) expect(map(file), file).toEqual(all);
  });

  it('maps a cluster definition to the cluster and its failover pair', () => {
    expect(map('packages/platform-config/src/clusters/staging.ts')).toEqual(['staging']);
    expect(map('packages/platform-config/src/clusters/production.ts')).toEqual(['production', 'dr']);
  });

  it('ignores tests, docs, constructs and workflows', () => {
    expect(map('packages/k8s-addons/test/traefik.test.ts', 'packages/k8s-addons/README.md', 'packages/aws-cluster/src/network/vpc.ts', '.github/workflows/apply.yml', 'docs/runbooks/x.md', 'clusters-old/x.yaml')).toEqual([]);
  });

  it('says which file selected each cluster', () => {
    expect(affectedClusters({ changedFiles: ['clusters/staging/apps/a.yaml', 'packages/k8s-addons/src/cni.ts'], platform, gitopsSourceRoots })).toEqual([
      { cluster: 'staging', because: 'clusters/staging/apps/a.yaml' },
      { cluster: 'production', because: 'packages/k8s-addons/src/cni.ts' },
      { cluster: 'dr', because: 'packages/k8s-addons/src/cni.ts' },
    ]);
  });
});

describe('manifest-only clusters (no stack of theirs affected)', () => {
  it('an add-on change selects no stack and every cluster', () => {
    expect(affectedStacks({ changedFiles: ['packages/k8s-addons/src/cni.ts'], platform, stacks, infraSourceRoots })).toEqual([]);
    expect(manifestOnly('packages/k8s-addons/src/cni.ts')).toEqual(all);
  });

  it('a manifest of one cluster beside a definition of another: only the one without a plan comment', () => {
    expect(manifestOnly('clusters/production/apps/web.yaml', 'packages/platform-config/src/clusters/staging.ts')).toEqual(['production']);
    // production's definition plans production and dr: their plan comments carry the report.
    expect(manifestOnly('clusters/dr/apps/web.yaml', 'packages/platform-config/src/clusters/production.ts')).toEqual([]);
  });

  it('a change every stack plans leaves no cluster without a comment', () => {
    expect(manifestOnly('packages/platform-config/src/names.ts')).toEqual([]);
  });
});
