import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planMarker } from '../src/comment';
import { GitHubClient, GitHubError } from '../src/github';
import { DRIFT_LABEL, driftMarker, reconcileDriftIssue, upsertComment } from '../src/upsert';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github';

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
