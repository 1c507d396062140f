import { cpSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../src';
import { parseYamlObjects } from '../src/manifests';
import { runCli, tempDir, writeFixture } from './helpers';

/**
 * The common Flux layout: `clusters/<name>` holds only the Flux Kustomizations, which point at
 * folders elsewhere in the repository (`./apps/<name>`), resolved from the repository root.
 */
function fluxRepoLayout(withGit: boolean): string {
  const f = writeFixture();
  if (withGit) mkdirSync(join(f.root, '.git'));
  mkdirSync(join(f.root, 'apps'));
  renameSync(join(f.manifests, 'apps'), join(f.root, 'apps', 'fixture'));
  const flux = join(f.manifests, 'flux-system', 'resources.yaml');
  writeFileSync(flux, readFileSync(flux, 'utf8').replace('path: ./clusters/fixture/apps', 'path: ./apps/fixture'));
  return f.manifests;
}

const ids = (dir: string): string[] => loadManifests(dir, { builder: 'files' }).map((o) => `${o.kind}/${String(o.metadata?.name)}`);

describe('parseYamlObjects', () => {
  it('reads scalars as Kubernetes does: a timestamp-like value stays a string, booleans and numbers stay typed', () => {
    const [cm] = parseYamlObjects('kind: ConfigMap\ndata:\n  since: 2025-12-05T10:00:00Z\n  day: 2025-12-05\nbinaryData: {}\nimmutable: true\nreplicas: 3\n', 'cm.yaml');
    expect(cm).toMatchObject({ data: { since: '2025-12-05T10:00:00Z', day: '2025-12-05' }, immutable: true, replicas: 3 });
  });
});

describe('loadManifests', () => {
  it('follows the Flux Kustomizations of the cluster folder', () => {
    expect(ids(writeFixture().manifests)).toEqual(expect.arrayContaining(['Kustomization/infrastructure', 'Kustomization/apps', 'HelmRelease/aws-cloud-controller-manager', 'Deployment/web', 'PodDisruptionBudget/web']));
  });

  it('follows a Kustomization path outside the cluster folder but inside its Git repository', () => {
    expect(ids(fluxRepoLayout(true))).toEqual(expect.arrayContaining(['Deployment/web', 'HorizontalPodAutoscaler/web']));
  });

  it('a path that does not resolve inside the repository is bad input naming the Kustomization and the path, never a partial analysis', () => {
    expect(() => ids(fluxRepoLayout(false))).toThrow(/^Kustomization\/flux-system\/apps: spec\.path \.\/apps\/fixture does not resolve inside the repository of .* \(it is outside it\)/);
  });

  it('a cluster folder copied out of its repository: exit 2 naming the Kustomization and its path', async () => {
    const f = writeFixture();
    const copy = join(tempDir(), 'copied');
    cpSync(f.manifests, copy, { recursive: true });
    mkdirSync(join(copy, '.git'));
    const { code, stderr } = await runCli(['--terraform', f.terraform, '--manifests', copy]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^ha-check: Kustomization\/flux-system\/infrastructure: spec\.path \.\/clusters\/fixture\/infrastructure does not resolve from the Git repository root of /);
  });
});
