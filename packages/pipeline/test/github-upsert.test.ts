import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main';
import { clusterMarker, noLongerAffectedComment, noLongerManifestOnlyComment, planMarker, planMarkerStack } from '../src/pull-request/comment';
import { GitHubClient, GitHubError } from '../src/io/github';
import { DRIFT_LABEL, driftMarker, markNonManifestOnlyComments, markUnaffectedComments, reconcileDriftIssue, upsertComment } from '../src/io/upsert';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github';
import { envOverride } from './support/env';

let gh: FakeGitHub;
let client: GitHubClient;
const repository = 'hakube-platform/ha-kube-platform';

beforeEach(async () => {
  gh = await startFakeGitHub(repository);
  client = new GitHubClient({ token: 't0ken', repository, baseUrl: gh.url });
});
afterEach(() => gh.close());

describe('upsertComment', () => {
  const marker = planMarker('staging-cluster');

  it('creates the comment once, then updates it in place, then leaves it alone when unchanged', async () => {
    // Five comments by people and another stack's comment first: the lookup pages through them.
    gh.comments.set(7, [
      ...Array.from({ length: 5 }, (_, i) => ({ id: i + 1, body: `lgtm ${i}`, user: { login: 'alice' } })),
      { id: 9, body: `${planMarker('production-cluster')}\nother`, user: { login: 'github-actions[bot]' } },
    ]);
    expect(await upsertComment(client, 7, marker, `${marker}\nv1`)).toEqual({ action: 'created', id: 1000 });
    expect(await upsertComment(client, 7, marker, `${marker}\nv2`)).toEqual({ action: 'updated', id: 1000 });
    expect(await upsertComment(client, 7, marker, `${marker}\nv2`)).toEqual({ action: 'unchanged', id: 1000 });
    const list = gh.comments.get(7) ?? [];
    expect(list.filter((c) => c.body.includes(marker))).toEqual([{ id: 1000, body: `${marker}\nv2`, user: { login: 'github-actions[bot]' } }]);
    expect(list.find((c) => c.id === 9)?.body).toContain('other');
    expect(gh.requests.map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`)).toContain('PATCH /repos/hakube-platform/ha-kube-platform/issues/comments/1000');
    expect(gh.requests.filter((r) => r.method === 'GET').map((r) => r.path)).toContain('/repos/hakube-platform/ha-kube-platform/issues/7/comments?per_page=100&page=4');
    expect(gh.requests.every((r) => r.auth === 'Bearer t0ken')).toBe(true);
  });

  it('ignores a marker quoted by someone else', async () => {
    gh.comments.set(8, [{ id: 1, body: `quoting ${marker}`, user: { login: 'mallory' } }]);
    expect((await upsertComment(client, 8, marker, `${marker}\nplan`)).action).toBe('created');
    expect(gh.comments.get(8)?.[0].body).toBe(`quoting ${marker}`);
  });

  it('refuses a body without its marker', async () => {
    await expect(upsertComment(client, 7, marker, 'no marker')).rejects.toThrow(`comment body does not contain its marker ${marker}`);
  });

  it('surfaces API errors with method, path and status', async () => {
    const anonymous = new GitHubClient({ token: '', repository, baseUrl: gh.url });
    await expect(anonymous.listIssueComments(1)).rejects.toBeInstanceOf(GitHubError);
    await expect(anonymous.listIssueComments(1)).rejects.toThrow('GitHub API GET /repos/hakube-platform/ha-kube-platform/issues/1/comments?per_page=100 answered 401');
  });
});

describe('reconcileDriftIssue', () => {
  it('opens one issue per drifted stack, updates it, closes it when clean and reopens on new drift', async () => {
    expect(await reconcileDriftIssue(client, 'dr-cluster', { drifted: false, body: 'clean' })).toEqual({ action: 'none', id: undefined });
    expect(await reconcileDriftIssue(client, 'dr-cluster', { drifted: true, body: '1 to change' })).toEqual({ action: 'created', id: 1 });
    expect(await reconcileDriftIssue(client, 'staging-cluster', { drifted: true, body: '2 to change' })).toEqual({ action: 'created', id: 2 });
    expect(await reconcileDriftIssue(client, 'dr-cluster', { drifted: true, body: '1 to change' })).toEqual({ action: 'unchanged', id: 1 });
    expect(await reconcileDriftIssue(client, 'dr-cluster', { drifted: true, body: '3 to change' })).toEqual({ action: 'updated', id: 1 });
    expect(gh.issues[0]).toMatchObject({ title: 'Drift detected in dr-cluster', state: 'open', labels: [{ name: DRIFT_LABEL }], body: `${driftMarker('dr-cluster')}\n3 to change` });
    expect(await reconcileDriftIssue(client, 'dr-cluster', { drifted: false, body: 'clean' })).toEqual({ action: 'closed', id: 1 });
    expect(gh.issues[0]).toMatchObject({ state: 'closed', state_reason: 'completed' });
    expect(gh.issues[1].state).toBe('open');
    expect(await reconcileDriftIssue(client, 'dr-cluster', { drifted: true, body: 'again' })).toEqual({ action: 'updated', id: 1 });
    expect(gh.issues[0]).toMatchObject({ state: 'open', state_reason: 'reopened' });
    expect(gh.issues).toHaveLength(2);
  });
});

describe('pullRequestsOfCommit', () => {
  it('returns the merged pull request with its labels', async () => {
    gh.commitPulls.set('abc123', [{ number: 42, labels: [{ name: 'allow-protected-destroy' }], merged_at: '2026-01-01T00:00:00Z' }]);
    expect((await client.pullRequestsOfCommit('abc123'))[0].labels.map((l) => l.name)).toEqual(['allow-protected-destroy']);
  });
});

describe('markUnaffectedComments', () => {
  const HEAD = '0123456789abcdef0123456789abcdef01234567';
  const bot = { login: 'github-actions[bot]' };
  const plan = (stack: string) => `${planMarker(stack)}\n\n### Terraform plan: \`${stack}\`\n\n| to add | to change | to destroy |`;

  beforeEach(() => {
    gh.comments.set(5, [
      { id: 1, body: 'please look at staging', user: { login: 'alice' } },
      { id: 2, body: plan('production-cluster'), user: bot },
      { id: 3, body: plan('staging-cluster'), user: bot },
      { id: 4, body: `quoting ${planMarker('dr-cluster')}`, user: { login: 'mallory' } },
      { id: 5, body: plan('ci-identity'), user: bot },
      { id: 6, body: `${driftMarker('dr-cluster')}\nnot a plan`, user: bot },
    ]);
  });

  it('rewrites, in place, the plan comments of stacks no longer affected, and nothing else', async () => {
    expect(await markUnaffectedComments(client, 5, ['production-cluster'], HEAD)).toEqual([
      { stack: 'staging-cluster', id: 3, action: 'updated' },
      { stack: 'ci-identity', id: 5, action: 'updated' },
    ]);
    const list = gh.comments.get(5) ?? [];
    expect(list.map((c) => c.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(list.find((c) => c.id === 3)?.body).toBe(
      `${planMarker('staging-cluster')}\n\n### Terraform plan: \`staging-cluster\`\n\nNo longer affected by this pull request as of commit \`0123456789ab\`: the plan shown here before is out of date.\n`,
    );
    // The affected stack's plan, people's comments, a quoted marker and the drift marker stay as they were.
    expect(list.find((c) => c.id === 2)?.body).toBe(plan('production-cluster'));
    expect(list.find((c) => c.id === 1)?.body).toBe('please look at staging');
    expect(list.find((c) => c.id === 4)?.body).toBe(`quoting ${planMarker('dr-cluster')}`);
    expect(list.find((c) => c.id === 6)?.body).toBe(`${driftMarker('dr-cluster')}\nnot a plan`);
    expect(gh.requests.filter((r) => r.method === 'PATCH').map((r) => r.path)).toEqual([
      '/repos/hakube-platform/ha-kube-platform/issues/comments/3',
      '/repos/hakube-platform/ha-kube-platform/issues/comments/5',
    ]);
    expect(gh.requests.some((r) => r.method === 'DELETE' || r.method === 'POST')).toBe(false);
  });

  it('leaves a comment alone on a re-run of the same commit, and moves its commit on the next push', async () => {
    await markUnaffectedComments(client, 5, [], HEAD);
    expect((await markUnaffectedComments(client, 5, [], HEAD)).map((m) => m.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect((await markUnaffectedComments(client, 5, [], 'fedcba9876543210')).map((m) => m.action)).toEqual(['updated', 'updated', 'updated']);
    expect(gh.comments.get(5)?.find((c) => c.id === 2)?.body).toBe(noLongerAffectedComment('production-cluster', 'fedcba9876543210'));
  });

  it('keeps the marker, so the stack\'s next plan replaces the note in the same comment', async () => {
    await markUnaffectedComments(client, 5, ['production-cluster'], HEAD);
    expect(planMarkerStack(gh.comments.get(5)?.find((c) => c.id === 3)?.body ?? '')).toBe('staging-cluster');
    expect(await upsertComment(client, 5, planMarker('staging-cluster'), `${planMarker('staging-cluster')}\nnew plan`)).toEqual({ action: 'updated', id: 3 });
  });

  it('pipeline unaffected-comments: the pull request from the event, the head commit from --sha, a line in the job summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipeline-unaffected-'));
    const env = { GITHUB_TOKEN: 't0ken', GITHUB_REPOSITORY: repository, GITHUB_API_URL: gh.url, GITHUB_EVENT_PATH: join(dir, 'event.json'), GITHUB_STEP_SUMMARY: join(dir, 'summary.md') };
    writeFileSync(env.GITHUB_EVENT_PATH, JSON.stringify({ pull_request: { number: 5, head: { sha: 'feedfacefeedfacefeed' } } }));
    writeFileSync(env.GITHUB_STEP_SUMMARY, '');
    const saved = envOverride();
    saved.set(env);
    const quiet = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await main(['unaffected-comments', '--stacks', JSON.stringify(['staging-cluster', 'ci-identity']), '--sha', HEAD], dir)).toBe(0);
      expect(gh.comments.get(5)?.find((c) => c.id === 2)?.body).toBe(noLongerAffectedComment('production-cluster', HEAD));
      expect(gh.comments.get(5)?.find((c) => c.id === 3)?.body).toBe(plan('staging-cluster'));
      expect(readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8')).toBe('### Plan comments\n\nMarked as no longer affected as of `0123456789ab`: `production-cluster`.\n\n');
      // Without --sha, the pull request's head commit from the event.
      expect(await main(['unaffected-comments', '--stacks', '[]'], dir)).toBe(0);
      expect(gh.comments.get(5)?.find((c) => c.id === 3)?.body).toBe(noLongerAffectedComment('staging-cluster', 'feedfacefeedfacefeed'));
    } finally {
      quiet.mockRestore();
      saved.restore();
    }
  });
});

describe('cluster comments of manifest-only clusters', () => {
  const HEAD = '0123456789abcdef0123456789abcdef01234567';
  const bot = { login: 'github-actions[bot]' };
  const report = (cluster: string) => `${clusterMarker(cluster)}\n\n### Manifests: cluster \`${cluster}\`\n\nreport`;

  beforeEach(() => {
    gh.comments.set(9, [
      { id: 1, body: report('staging'), user: bot },
      { id: 2, body: report('production'), user: bot },
      { id: 3, body: `${planMarker('dr-cluster')}\nplan`, user: bot },
      { id: 4, body: `quoting ${clusterMarker('dr')}`, user: { login: 'mallory' } },
    ]);
  });

  it('upserts one comment per cluster under its own marker, separate from the plan comments', async () => {
    expect(await upsertComment(client, 9, clusterMarker('dr'), `${clusterMarker('dr')}\nv1`)).toEqual({ action: 'created', id: 1000 });
    expect(await upsertComment(client, 9, clusterMarker('dr'), `${clusterMarker('dr')}\nv2`)).toEqual({ action: 'updated', id: 1000 });
    expect(gh.comments.get(9)?.find((c) => c.id === 3)?.body).toBe(`${planMarker('dr-cluster')}\nplan`);
    expect(gh.comments.get(9)?.find((c) => c.id === 4)?.body).toBe(`quoting ${clusterMarker('dr')}`);
  });

  it('marks, in place, the comments of clusters no longer manifest-only, and nothing else', async () => {
    expect(await markNonManifestOnlyComments(client, 9, ['production'], HEAD)).toEqual([{ cluster: 'staging', id: 1, action: 'updated' }]);
    const list = gh.comments.get(9) ?? [];
    expect(list.find((c) => c.id === 1)?.body).toBe(noLongerManifestOnlyComment('staging', HEAD));
    expect(list.find((c) => c.id === 2)?.body).toBe(report('production'));
    expect(list.find((c) => c.id === 3)?.body).toBe(`${planMarker('dr-cluster')}\nplan`);
    expect((await markNonManifestOnlyComments(client, 9, ['production'], HEAD)).map((m) => m.action)).toEqual(['unchanged']);
  });

  it('pipeline unaffected-comments --clusters marks cluster comments too, and rejects an unknown cluster (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipeline-unaffected-'));
    const env = { GITHUB_TOKEN: 't0ken', GITHUB_REPOSITORY: repository, GITHUB_API_URL: gh.url, GITHUB_EVENT_PATH: join(dir, 'event.json'), GITHUB_STEP_SUMMARY: join(dir, 'summary.md') };
    writeFileSync(env.GITHUB_EVENT_PATH, JSON.stringify({ pull_request: { number: 9, head: { sha: HEAD } } }));
    writeFileSync(env.GITHUB_STEP_SUMMARY, '');
    const saved = envOverride();
    saved.set(env);
    const quiet = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const quietErr = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await main(['unaffected-comments', '--stacks', '["dr-cluster"]', '--clusters', '["staging"]'], dir)).toBe(0);
      expect(gh.comments.get(9)?.find((c) => c.id === 2)?.body).toBe(noLongerManifestOnlyComment('production', HEAD));
      expect(gh.comments.get(9)?.find((c) => c.id === 1)?.body).toBe(report('staging'));
      expect(readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8')).toContain('Cluster comments marked as no longer manifest-only as of `0123456789ab`: `production`.');
      expect(await main(['unaffected-comments', '--stacks', '[]', '--clusters', '["nowhere"]'], dir)).toBe(2);
      expect(quietErr).toHaveBeenCalledWith('pipeline unaffected-comments: --clusters ["nowhere"]: nowhere is no cluster; expected some of staging, production, dr');
    } finally {
      quiet.mockRestore();
      quietErr.mockRestore();
      saved.restore();
    }
  });
});

describe('a connection dropped before the answer', () => {
  it('sends a GET once more, never a POST', async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      if (requests === 1 || req.method === 'POST') {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[]');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const flaky = new GitHubClient({ token: 't0ken', repository, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    try {
      expect(await flaky.listIssueComments(3)).toEqual([]);
      expect(requests).toBe(2);
      await expect(flaky.createIssueComment(3, 'x')).rejects.toThrow('fetch failed');
      expect(requests).toBe(3);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
