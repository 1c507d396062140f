import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { main } from '../src/cli/main';
import { prCommand } from '../src/cli/commands/pr';
import { clusterMarker, planMarkerStack } from '../src/pull-request/comment';
import { pipelinePaths } from '../src/io/paths';
import { runPullRequestFlow, type PullRequestFlowResult } from '../src/pull-request/pr-flow';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github';
import { git, tempRepo, writeFiles } from './support/git';
import { envOverride } from './support/env';

/**
 * A pull request that only changes manifests: an add-on source file (every cluster) selects
 * no Terraform stack, yet each cluster gets a comment with its ha-check report and Flux diff,
 * and the job summary says so. No terraform runs, so no provider mirror is needed.
 */

const platform = defaultPlatform();
const cm = (name: string, level: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: apps\ndata:\n  LOG_LEVEL: "${level}"\n`;

function manifestOnlyRepo(): string {
  const gitops = (c: string) => platform.namesOf(c).gitopsPath;
  const repo = tempRepo(
    {
      '.gitignore': 'apps/infra/cdktf.out/\ndist/\n',
      'apps/infra/package.json': `${JSON.stringify({ name: '@platform/infra', private: true, dependencies: {} })}\n`,
      'apps/gitops/package.json': `${JSON.stringify({ name: '@platform/gitops', private: true, dependencies: { '@platform/k8s-addons': '*' } })}\n`,
      'packages/k8s-addons/package.json': `${JSON.stringify({ name: '@platform/k8s-addons', private: true })}\n`,
      'packages/k8s-addons/src/web.ts': 'export const level = "info";\n',
      [`${gitops('staging')}/apps/web.yaml`]: cm('web', 'info'),
      [`${gitops('production')}/apps/web.yaml`]: cm('web', 'info'),
    },
    'pipeline-manifest-only-',
  );
  git(repo, 'switch', '--quiet', '-c', 'feature');
  writeFiles(repo, {
    'packages/k8s-addons/src/web.ts': 'export const level = "debug";\n',
    [`${gitops('staging')}/apps/web.yaml`]: cm('web', 'debug'),
    [`${gitops('production')}/apps/web.yaml`]: `${cm('web', 'debug')}---\n${cm('extra', 'debug')}`,
  });
  git(repo, 'add', '--all');
  git(repo, 'commit', '--quiet', '-m', 'head');
  const paths = pipelinePaths(repo);
  mkdirSync(paths.infraOut, { recursive: true });
  const stacks = Object.fromEntries([platform.names.ciIdentityStack, ...platform.clusters.map((c) => platform.namesOf(c).stack)].map((s) => [s, { dependencies: [] }]));
  writeFileSync(join(paths.infraOut, 'manifest.json'), JSON.stringify({ stacks }));
  return repo;
}

describe('a manifest-only pull request', () => {
  let repo: string;
  let result: PullRequestFlowResult;
  const haCalls: string[] = [];

  beforeAll(() => {
    repo = manifestOnlyRepo();
    // A runner that fails the test if any terraform is run.
    result = runPullRequestFlow({
      paths: pipelinePaths(repo),
      platform,
      base: 'main',
      mode: 'offline',
      mirror: '/nonexistent-mirror',
      runner: () => {
        throw new Error('terraform must not run for a manifest-only change');
      },
      haCheck: (cluster) => {
        haCalls.push(cluster);
        return { exitCode: cluster === 'dr' ? 1 : 0, markdown: `### ha-check: \`${cluster}\`` };
      },
    });
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  it('plans no stack, and reports on every cluster the add-on change reaches', () => {
    expect(result.stacks).toEqual([]);
    expect(result.clusters.map((c) => c.cluster.cluster)).toEqual(platform.clusters.map((c) => c.name));
    // The first changed file that selected each (files in sorted order): its own manifest, else the add-on.
    expect(result.clusters.find((c) => c.cluster.cluster === 'dr')?.cluster.because).toBe('packages/k8s-addons/src/web.ts');
    expect(result.clusters.find((c) => c.cluster.cluster === 'staging')?.cluster.because).toBe(`${platform.namesOf('staging').gitopsPath}/apps/web.yaml`);
    expect(haCalls).toEqual(platform.clusters.map((c) => c.name));
  });

  it('writes one comment per cluster with its marker, its ha-check report and only its Flux objects', () => {
    const production = readFileSync(join(pipelinePaths(repo).commentsDir, 'cluster-production.md'), 'utf8');
    expect(production.split('\n')[0]).toBe(clusterMarker('production'));
    expect(production).toContain('#### HA check: ✅ objectives met');
    expect(production).toContain('### ha-check: `production`');
    expect(production).toContain('**1 added, 1 changed, 0 removed**');
    expect(production).toContain('| added | ConfigMap | apps | extra |  |');
    const staging = readFileSync(join(pipelinePaths(repo).commentsDir, 'cluster-staging.md'), 'utf8');
    expect(staging).toContain('**0 added, 1 changed, 0 removed**');
    expect(staging).not.toContain('extra');
    const dr = readFileSync(join(pipelinePaths(repo).commentsDir, 'cluster-dr.md'), 'utf8');
    expect(dr).toContain('#### HA check: ❌ objectives not met');
    expect(dr).toContain(`#### Flux changes under \`${platform.namesOf('dr').gitopsPath}/\`\n\nNo Kubernetes object changes.`);
  });

  it('writes a job summary that names the clusters instead of saying nothing', () => {
    const text = readFileSync(result.summaryFile, 'utf8');
    expect(text).toContain('No Terraform stack is affected by this change.');
    expect(text).toContain('| `production` | 1 | 1 | 0 | ✅ |');
    expect(text).toContain('| `dr` | 0 | 0 | 0 | ❌ |');
  });

  describe('pipeline:pr --cluster <name> --post (the clusters job)', () => {
    let gh: FakeGitHub;
    let dir: string;
    const saved = envOverride();
    const repository = `${platform.settings.github.owner}/${platform.settings.github.repository}`;

    beforeAll(async () => {
      gh = await startFakeGitHub(repository);
      dir = mkdtempSync(join(tmpdir(), 'pipeline-manifest-only-env-'));
      const env = { GITHUB_TOKEN: 't0ken', GITHUB_REPOSITORY: repository, GITHUB_API_URL: gh.url, GITHUB_EVENT_PATH: join(dir, 'event.json'), GITHUB_STEP_SUMMARY: join(dir, 'summary.md'), GITHUB_OUTPUT: join(dir, 'output'), PIPELINE_PROVIDER_MIRROR: '/nonexistent-mirror' };
      writeFileSync(env.GITHUB_EVENT_PATH, JSON.stringify({ pull_request: { number: 12 } }));
      saved.set(env);
    });
    afterAll(async () => {
      saved.restore();
      await gh.close();
    });

    it('posts the cluster comment, then updates the same comment on the next run; no mirror needed', async () => {
      const quiet = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        writeFileSync(process.env.GITHUB_STEP_SUMMARY as string, '');
        expect(await main(['pr', '--base', 'main', '--no-synth', '--cluster', 'staging', '--post'], repo)).toBe(0);
        expect(await main(['pr', '--base', 'main', '--no-synth', '--cluster', 'staging', '--post'], repo)).toBe(0);
      } finally {
        quiet.mockRestore();
      }
      const comments = gh.comments.get(12) ?? [];
      expect(comments).toHaveLength(1);
      expect(comments[0].body.startsWith(clusterMarker('staging'))).toBe(true);
      expect(planMarkerStack(comments[0].body)).toBeUndefined();
      expect(comments[0].body).toContain('**0 added, 1 changed, 0 removed**');
      expect(gh.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
      expect(readFileSync(process.env.GITHUB_STEP_SUMMARY as string, 'utf8')).toContain('## Manifest-only clusters');
      expect(readFileSync(process.env.GITHUB_OUTPUT as string, 'utf8')).toContain('ha_check=passed\nha_check_failed=\n');
    });

    it('exits 0 after posting even when ha-check errs, and says so in the step outputs the workflow fails the job on', async () => {
      writeFileSync(process.env.GITHUB_OUTPUT as string, '');
      const failing = prCommand({ haCheck: (cluster) => ({ exitCode: cluster === 'staging' ? 1 : 0, markdown: `### ha-check: \`${cluster}\`` }) });
      const quiet = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        expect(await main(['pr', '--base', 'main', '--no-synth', '--cluster', 'staging', '--post'], repo, undefined, { commands: { pr: failing } as never })).toBe(0);
      } finally {
        quiet.mockRestore();
      }
      expect(gh.comments.get(12)?.[0]?.body).toContain('### ha-check: `staging`');
      expect(readFileSync(process.env.GITHUB_OUTPUT as string, 'utf8')).toBe('ha_check=failed\nha_check_failed=staging\n');
    });

    it('rejects an unknown cluster (exit 2)', async () => {
      const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        expect(await main(['pr', '--base', 'main', '--no-synth', '--cluster', 'nowhere'], repo)).toBe(2);
      } finally {
        quiet.mockRestore();
      }
    });
  });
});
