import { clusterMarkerCluster, noLongerAffectedComment, noLongerManifestOnlyComment, planMarkerStack } from '../pull-request/comment';
import type { GitHubClient, Issue } from './github';

/**
 * Comment and issue upserts keyed by a hidden HTML marker, so re-running a workflow edits
 * what it wrote before instead of piling up new comments (the Atlantis/Digger experience).
 */

export type UpsertAction = 'created' | 'updated' | 'unchanged' | 'closed' | 'none';

export interface UpsertResult {
  readonly action: UpsertAction;
  readonly id: number | undefined;
}

/**
 * Creates or updates the one comment on `issue` that contains `marker`. Only comments by
 * `author` count, so a reviewer quoting the marker cannot hijack the update.
 */
export async function upsertComment(client: GitHubClient, issue: number, marker: string, body: string, author = 'github-actions[bot]'): Promise<UpsertResult> {
  if (!body.includes(marker)) throw new Error(`comment body does not contain its marker ${marker}`);
  const comments = await client.listIssueComments(issue);
  const existing = comments.find((c) => c.user?.login === author && c.body.includes(marker));
  if (!existing) return { action: 'created', id: (await client.createIssueComment(issue, body)).id };
  if (existing.body === body) return { action: 'unchanged', id: existing.id };
  await client.updateIssueComment(existing.id, body);
  return { action: 'updated', id: existing.id };
}

export interface UnaffectedComment {
  readonly stack: string;
  readonly id: number;
  readonly action: 'updated' | 'unchanged';
}

/**
 * After a push, the plan comments (by `author`) of stacks that are no longer in `affected`
 * still show a plan the pull request no longer makes. Each is edited in place to say so as
 * of `commit`; none is deleted, and each keeps its marker for a later run to reuse.
 */
export async function markUnaffectedComments(client: GitHubClient, issue: number, affected: readonly string[], commit: string, author = 'github-actions[bot]'): Promise<UnaffectedComment[]> {
  const marked = await markStaleComments(client, issue, author, planMarkerStack, affected, (stack) => noLongerAffectedComment(stack, commit));
  return marked.map(({ key, id, action }) => ({ stack: key, id, action }));
}

export interface NonManifestOnlyComment {
  readonly cluster: string;
  readonly id: number;
  readonly action: 'updated' | 'unchanged';
}

/**
 * The cluster comments (by `author`) of clusters no longer in `manifestOnly` (this push's
 * manifest-only clusters) are edited in place to say so as of `commit`, marker kept.
 */
export async function markNonManifestOnlyComments(client: GitHubClient, issue: number, manifestOnly: readonly string[], commit: string, author = 'github-actions[bot]'): Promise<NonManifestOnlyComment[]> {
  const marked = await markStaleComments(client, issue, author, clusterMarkerCluster, manifestOnly, (cluster) => noLongerManifestOnlyComment(cluster, commit));
  return marked.map(({ key, id, action }) => ({ cluster: key, id, action }));
}

/** Rewrites each comment of `author` whose marker names a key not in `current` to `staleBody(key)`. */
async function markStaleComments(
  client: GitHubClient,
  issue: number,
  author: string,
  keyOf: (body: string) => string | undefined,
  current: readonly string[],
  staleBody: (key: string) => string,
): Promise<{ key: string; id: number; action: 'updated' | 'unchanged' }[]> {
  const out: { key: string; id: number; action: 'updated' | 'unchanged' }[] = [];
  for (const comment of await client.listIssueComments(issue)) {
    const key = comment.user?.login === author ? keyOf(comment.body) : undefined;
    if (key === undefined || current.includes(key)) continue;
    const body = staleBody(key);
    if (comment.body === body) {
      out.push({ key, id: comment.id, action: 'unchanged' });
      continue;
    }
    await client.updateIssueComment(comment.id, body);
    out.push({ key, id: comment.id, action: 'updated' });
  }
  return out;
}

export function driftMarker(stack: string): string {
  return `<!-- ha-kube-pipeline:drift stack=${stack} -->`;
}

export const DRIFT_LABEL = 'drift';

/**
 * One issue per stack: opened (or reopened) and updated while the stack drifts, closed as
 * completed once a plan is clean again.
 */
export async function reconcileDriftIssue(client: GitHubClient, stack: string, drift: { readonly drifted: boolean; readonly body: string }): Promise<UpsertResult> {
  const marker = driftMarker(stack);
  const issues = await client.listIssuesWithLabel(DRIFT_LABEL, 'all');
  const mine = issues.filter((i: Issue) => (i.body ?? '').includes(marker));
  const existing = mine.find((i) => i.state === 'open') ?? mine[0];
  const body = `${marker}\n${drift.body}`;
  if (!drift.drifted) {
    if (!existing || existing.state === 'closed') return { action: 'none', id: existing?.number };
    await client.updateIssue(existing.number, { body, state: 'closed', state_reason: 'completed' });
    return { action: 'closed', id: existing.number };
  }
  const title = `Drift detected in ${stack}`;
  if (!existing) return { action: 'created', id: (await client.createIssue(title, body, [DRIFT_LABEL])).number };
  if (existing.state === 'open' && existing.body === body) return { action: 'unchanged', id: existing.number };
  await client.updateIssue(existing.number, { title, body, ...(existing.state === 'closed' ? { state: 'open' as const, state_reason: 'reopened' as const } : {}) });
  return { action: 'updated', id: existing.number };
}
