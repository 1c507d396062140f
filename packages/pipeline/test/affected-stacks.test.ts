import { describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { affectedStacks, preferredStackOrder, stacksInDependencyOrder } from '../src/pull-request/affected-stacks';
import { sourceRootsOf } from '../src/io/workspace';
import { join } from 'node:path';

const platform = defaultPlatform();
const stacks = ['ci-identity', 'dr-cluster', 'staging-cluster', 'production-cluster'];
const infraSourceRoots = ['apps/infra', 'packages/aws-cluster', 'packages/node-bootstrap', 'packages/platform-config', 'packages/synth-kit'];
const map = (...changedFiles: string[]) => affectedStacks({ changedFiles, platform, stacks, infraSourceRoots }).map((a) => a.stack);

describe('changed files -> affected stacks', () => {
  it('maps a cluster definition to its stack', () => {
    expect(map('packages/platform-config/src/clusters/staging.ts')).toEqual(['staging-cluster']);
  });

  it('maps a cluster with a failover pair to both clusters (DNS failover records name each other)', () => {
    expect(map('packages/platform-config/src/clusters/production.ts')).toEqual(['dr-cluster', 'production-cluster']);
    expect(map('packages/platform-config/src/clusters/dr.ts')).toEqual(['dr-cluster', 'production-cluster']);
  });

  it('maps platform settings, constructs, bootstrap scripts and the lock file to every stack', () => {
    for (const file of ['packages/platform-config/src/clusters/settings.ts', 'packages/aws-cluster/src/network/vpc.ts', 'packages/node-bootstrap/src/x.ts', 'apps/infra/src/main.ts', 'package-lock.json']) {
      expect(map(file)).toEqual(stacks);
    }
  });

  it('ignores manifests, add-ons, docs, tests and workflows', () => {
    expect(map('clusters/production/apps/web.yaml', 'packages/k8s-addons/src/cni.ts', 'apps/gitops/src/main.ts', 'README.md', 'packages/aws-cluster/test/vpc.test.ts', 'packages/aws-cluster/src/vpc.test.ts', '.github/workflows/apply.yml')).toEqual([]);
  });

  it('says which file selected each stack', () => {
    expect(affectedStacks({ changedFiles: ['packages/platform-config/src/clusters/staging.ts'], platform, stacks, infraSourceRoots })).toEqual([
      { stack: 'staging-cluster', cluster: 'staging', because: 'packages/platform-config/src/clusters/staging.ts' },
    ]);
  });

  it('reads the infra source roots from the workspace package graph', () => {
    const roots = sourceRootsOf(join(__dirname, '..', '..', '..'), 'apps/infra');
    expect(roots).toEqual(expect.arrayContaining(['apps/infra', 'packages/platform-config', 'packages/synth-kit']));
    expect(roots).not.toContain('packages/k8s-addons');
    expect(roots).not.toContain('packages/pipeline');
  });
});

describe('stack order', () => {
  it('puts the account stack first and the standby before the cluster that fails over to it', () => {
    expect(preferredStackOrder(platform)).toEqual(['ci-identity', 'dr-cluster', 'staging-cluster', 'production-cluster']);
  });

  it('respects cdktf stack dependencies over the preferred order', () => {
    const manifest = { stacks: { 'ci-identity': {}, 'staging-cluster': { dependencies: ['production-cluster'] }, 'production-cluster': { dependencies: [] }, 'dr-cluster': {} } };
    expect(stacksInDependencyOrder(manifest, preferredStackOrder(platform))).toEqual(['ci-identity', 'dr-cluster', 'production-cluster', 'staging-cluster']);
  });

  it('names the stacks of a dependency cycle', () => {
    expect(() => stacksInDependencyOrder({ stacks: { a: { dependencies: ['b'] }, b: { dependencies: ['a'] } } }, [])).toThrow('stack dependencies form a cycle among a, b');
  });
});
