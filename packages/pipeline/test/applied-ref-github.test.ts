import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { appliedRef } from '../src/apply/applied-ref';
import { appliedBeyondOnGitHub, appliedCommitOnGitHub, mergedPullRequestsSinceApplied } from '../src/apply/applied-ref-github';
import { main } from '../src/cli/main';
import { GitHubClient } from '../src/io/github';
import { pipelinePaths } from '../src/io/paths';
import { PROTECTED_DESTROY_LABEL, UNBLOCK_HINT } from '../src/apply/protected-resources';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github';
import { fakeTerraform, type FakeTerraform } from './support/fake-terraform';
import { git, tempRepo, writeFiles } from './support/git';
import { FIXTURES } from './support/plans';
import { envOverride } from './support/env';
import { realPlatform } from './support/real-platform';

/**
 * The applied tag and the merged pull requests read through the GitHub API, as the apply job
 * does (its checkout keeps no credentials and one commit). The API stand-in on loopback answers
 * the git endpoints from a real repository: four merges on main, a branch off it.
 */

const platform = defaultPlatform();
const ref = appliedRef(platform);
const repository = `${platform.settings.github.owner}/${platform.settings.github.repository}`;
const MERGED = '2026-01-01T00:00:00Z';

let repo: string;
let commits: string[];
let sideline: string;
let gh: FakeGitHub;
let client: GitHubClient;

/** Moves (or with undefined, deletes) the applied tag in the repository the API stand-in serves. */
const tag = (sha: string | undefined, annotated = false) => {
  const name = ref.replace('refs/tags/', '');
  if (sha) git(repo, 'tag', '--force', ...(annotated ? ['-a', '-m', 'applied'] : []), name, sha);
  else git(repo, 'update-ref', '-d', ref);
};

beforeAll(async () => {
  repo = tempRepo({ 'README.md': 'v0\n' }, 'pipeline-applied-gh-');
  commits = [git(repo, 'rev-parse', 'HEAD').trim()];
  for (let i = 1; i <= 4; i++) {
    writeFiles(repo, { 'README.md': `v${i}\n` });
    git(repo, 'commit', '--quiet', '-am', `merge ${i}`);
    commits.push(git(repo, 'rev-parse', 'HEAD').trim());
  }
  // A rewritten line of history: the tag there is off main's history.
  git(repo, 'switch', '--quiet', '-c', 'rewritten', commits[1]);
  writeFiles(repo, { 'README.md': 'rewritten\n' });
  git(repo, 'commit', '--quiet', '-am', 'rewritten');
  sideline = git(repo, 'rev-parse', 'HEAD').trim();
  git(repo, 'switch', '--quiet', 'main');
  gh = await startFakeGitHub(repository, { git: repo });
  client = new GitHubClient({ token: 't0ken', repository, baseUrl: gh.url });
});
afterAll(async () => {
  await gh?.close();
  rmSync(repo, { recursive: true, force: true });
});
beforeEach(() => {
  gh.requests.length = 0;
  gh.commitPulls.clear();
});

describe('the applied tag through the API', () => {
  it('reads a lightweight tag, peels an annotated one, and says when there is none', async () => {
    tag(commits[2]);
    expect(await appliedCommitOnGitHub(client, ref)).toBe(commits[2]);
    tag(commits[3], true);
    expect(await appliedCommitOnGitHub(client, ref)).toBe(commits[3]);
    tag(undefined);
    expect(await appliedCommitOnGitHub(client, ref)).toBeUndefined();
    expect(gh.requests.every((r) => r.auth === 'Bearer t0ken')).toBe(true);
    expect(gh.requests[0].path).toBe(`/repos/${repository}/git/ref/tags/applied/${platform.settings.github.mainBranch}`);
  });

  it('names a newer applied commit that includes the sha, and nothing otherwise', async () => {
    tag(commits[4]);
    expect(await appliedBeyondOnGitHub(client, ref, commits[2])).toBe(commits[4]);
    expect(await appliedBeyondOnGitHub(client, ref, commits[4])).toBeUndefined();
    tag(commits[1]);
    expect(await appliedBeyondOnGitHub(client, ref, commits[4])).toBeUndefined();
    tag(sideline);
    expect(await appliedBeyondOnGitHub(client, ref, commits[4])).toBeUndefined();
    tag(undefined);
    expect(await appliedBeyondOnGitHub(client, ref, commits[4])).toBeUndefined();
  });
});

describe('the pull requests an apply run carries', () => {
  const pulls = () => {
    gh.commitPulls.set(commits[2], [{ number: 11, labels: [{ name: PROTECTED_DESTROY_LABEL }], merged_at: MERGED }]);
    // An open pull request that merely contains main's commit: its label does not count.
    gh.commitPulls.set(commits[3], [
      { number: 12, labels: [], merged_at: MERGED },
      { number: 90, labels: [{ name: 'open-pr-label' }], merged_at: null as unknown as string },
    ]);
    gh.commitPulls.set(commits[4], [{ number: 13, labels: [{ name: 'enhancement' }], merged_at: MERGED }]);
  };

  it('asks about every commit after the tag up to the sha (compare paged), each merged pull request once', async () => {
    pulls();
    tag(commits[1]);
    const merged = await mergedPullRequestsSinceApplied(client, ref, commits[4]);
    expect(merged.commits).toEqual(commits.slice(2));
    expect(merged.pulls.map((p) => p.number)).toEqual([11, 12, 13]);
    expect(merged.range).toBe(`3 commit(s) after ${ref} (${commits[1].slice(0, 12)}) up to ${commits[4].slice(0, 12)}`);
    // Three commits at two per page: the compare was followed to its second page.
    expect(gh.requests.filter((r) => r.path.includes('/compare/')).map((r) => r.path.replace(/.*\?/, ''))).toEqual(['per_page=100', 'per_page=100&page=2']);
    expect(gh.requests.filter((r) => r.path.endsWith('/pulls')).map((r) => r.path)).toEqual(commits.slice(2).map((c) => `/repos/${repository}/commits/${c}/pulls`));
  });

  it('only the sha itself without a tag, or with a tag off its history', async () => {
    pulls();
    tag(undefined);
    expect(await mergedPullRequestsSinceApplied(client, ref, commits[4])).toMatchObject({ commits: [commits[4]], range: `${commits[4].slice(0, 12)} only (no ${ref})` });
    tag(sideline);
    const merged = await mergedPullRequestsSinceApplied(client, ref, commits[4]);
    expect(merged.commits).toEqual([commits[4]]);
    expect(merged.range).toBe(`${commits[4].slice(0, 12)} only (${ref} is ${sideline.slice(0, 12)}, diverged of it)`);
  });
});

describe('pipeline:apply --sha through the API (no origin remote, no local history of the tag)', () => {
  let tf: FakeTerraform;
  let workspace: string;
  let summaryFile: string;
  const stack = platform.namesOf('production').stack;
  const env = envOverride();
  const setEnv = env.set;

  beforeAll(() => {
    tf = fakeTerraform();
    // The job's checkout: a workspace that is not even a clone of the repository above.
    workspace = tempRepo({ 'README.md': 'checkout\n' }, 'pipeline-apply-gh-');
    const paths = pipelinePaths(workspace);
    mkdirSync(join(paths.stacksDir, stack), { recursive: true });
    writeFileSync(join(paths.infraOut, 'manifest.json'), JSON.stringify({ stacks: { [stack]: { dependencies: [] } } }));
    // Destroys the state bucket and replaces protected resources: the gate asks for labels.
    writeFileSync(join(paths.stacksDir, stack, 'fake-plan.json'), readFileSync(join(FIXTURES, 'protected-destroy.plan.json'), 'utf8'));
    summaryFile = join(workspace, 'summary.md');
    setEnv({ ...tf.env(), GITHUB_TOKEN: 't0ken', GITHUB_REPOSITORY: repository, GITHUB_API_URL: gh.url, GITHUB_STEP_SUMMARY: summaryFile });
  });
  afterAll(() => {
    env.restore();
    rmSync(workspace, { recursive: true, force: true });
  });
  beforeEach(() => {
    writeFileSync(summaryFile, '');
    writeFileSync(tf.logFile, '');
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    return () => vi.restoreAllMocks();
  });

  it('applies nothing when the tag on GitHub already names a newer commit that includes the sha', async () => {
    tag(commits[4]);
    expect(await main(['apply', '--stack', stack, '--sha', commits[2]], workspace, realPlatform())).toBe(0);
    expect(tf.calls()).toEqual([]);
    expect(readFileSync(summaryFile, 'utf8')).toContain(`${ref} already names ${commits[4].slice(0, 12)}, which includes ${commits[2].slice(0, 12)}`);
  });

  it('opens the gate with the label of an earlier merge in the range, not only the sha\'s own pull request', async () => {
    tag(commits[1]);
    gh.commitPulls.set(commits[2], [{ number: 11, labels: [{ name: PROTECTED_DESTROY_LABEL }], merged_at: MERGED }]);
    gh.commitPulls.set(commits[4], [{ number: 13, labels: [], merged_at: MERGED }]);
    expect(await main(['apply', '--stack', stack, '--sha', commits[4]], workspace, realPlatform())).toBe(0);
    expect(tf.calls().map((c) => c.args[0])).toEqual(['init', 'plan', 'show', 'apply']);
    expect(readFileSync(summaryFile, 'utf8')).toContain(`Labels read from #11, #13 (3 commit(s) after ${ref} (${commits[1].slice(0, 12)}) up to ${commits[4].slice(0, 12)}).`);
  });

  it('stops with the way to unblock when no merged pull request in the range has the label', async () => {
    tag(commits[3]);
    gh.commitPulls.set(commits[2], [{ number: 11, labels: [{ name: PROTECTED_DESTROY_LABEL }], merged_at: MERGED }]);
    gh.commitPulls.set(commits[4], [{ number: 13, labels: [], merged_at: MERGED }]);
    expect(await main(['apply', '--stack', stack, '--sha', commits[4]], workspace, realPlatform())).toBe(1);
    expect(tf.calls().some((c) => c.args[0] === 'apply')).toBe(false);
    const written = readFileSync(summaryFile, 'utf8');
    expect(written).toContain(`no pull request merged since the last apply has the "${PROTECTED_DESTROY_LABEL}" label; apply stopped:`);
    expect(written).toContain(UNBLOCK_HINT);
    expect(written).toContain(`Labels read from #13 (1 commit(s) after ${ref} (${commits[3].slice(0, 12)}) up to ${commits[4].slice(0, 12)}).`);
  });
});
