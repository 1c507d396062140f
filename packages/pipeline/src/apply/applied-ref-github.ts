import type { GitHubClient, PullRequest } from '../io/github';

/**
 * The applied tag (see applied-ref.ts) read through the GitHub REST API with the job's
 * GITHUB_TOKEN, for the apply job: it checks out with `persist-credentials: false` (the full
 * history, as of the job's start), so `git ls-remote origin` has no credentials for a private
 * repository; the API reads the tag as it is now and compares without a fetch.
 */

/** `refs/tags/applied/main` -> `tags/applied/main`, the form the git refs API takes. */
function apiRef(ref: string): string {
  return ref.replace(/^refs\//, '');
}

/** The commit the tag names on GitHub (an annotated tag peeled), or undefined when there is no tag. */
export async function appliedCommitOnGitHub(client: GitHubClient, ref: string): Promise<string | undefined> {
  const found = await client.getRef(apiRef(ref));
  if (!found) return undefined;
  let object = found.object;
  // An annotated tag (someone tagged by hand): follow it to the commit.
  for (let depth = 0; object.type === 'tag' && depth < 5; depth++) object = (await client.getTag(object.sha)).object;
  if (object.type !== 'commit') throw new Error(`${ref} on GitHub names a ${object.type} (${object.sha}), not a commit`);
  return object.sha;
}

/**
 * As `appliedBeyond`, through the API: the applied commit when it is newer than `sha` and
 * includes it (a later merge's run applied first), else undefined.
 */
export async function appliedBeyondOnGitHub(client: GitHubClient, ref: string, sha: string): Promise<string | undefined> {
  const applied = await appliedCommitOnGitHub(client, ref);
  if (applied === undefined || applied === sha) return undefined;
  return (await client.compareCommits(sha, applied)).status === 'ahead' ? applied : undefined;
}

export interface MergedPullRequests {
  /** The commits asked about: from the applied commit (exclusive) to `sha`, or only `sha`. */
  readonly commits: readonly string[];
  /** Every merged pull request that brought one of them, once each, by number. */
  readonly pulls: readonly PullRequest[];
  /** How the range was chosen, for the job summary. */
  readonly range: string;
}

/**
 * The merged pull requests whose changes this apply run carries: every commit after the
 * applied tag up to `sha` (one run can apply several merges when earlier runs were
 * cancelled or failed), each asked `commits/{sha}/pulls`. Without a tag, or with a tag off
 * `sha`'s history (force push), only `sha` itself. Open pull requests that merely contain a
 * commit do not count: only a merged one's labels were reviewed for main.
 */
export async function mergedPullRequestsSinceApplied(client: GitHubClient, ref: string, sha: string): Promise<MergedPullRequests> {
  const applied = await appliedCommitOnGitHub(client, ref);
  let commits = [sha];
  let range = `${sha.slice(0, 12)} only (no ${ref})`;
  if (applied !== undefined) {
    const comparison = applied === sha ? undefined : await client.compareCommits(applied, sha);
    if (comparison?.status === 'ahead') {
      commits = comparison.commits.map((c) => c.sha);
      if (!commits.includes(sha)) commits.push(sha);
      range = `${commits.length} commit(s) after ${ref} (${applied.slice(0, 12)}) up to ${sha.slice(0, 12)}`;
    } else {
      range = `${sha.slice(0, 12)} only (${ref} is ${applied.slice(0, 12)}, ${comparison ? `${comparison.status} of it` : 'the same commit'})`;
    }
  }
  const byNumber = new Map<number, PullRequest>();
  for (const commit of commits) {
    for (const pull of await client.pullRequestsOfCommit(commit)) if (pull.merged_at !== null && !byNumber.has(pull.number)) byNumber.set(pull.number, pull);
  }
  return { commits, pulls: [...byNumber.values()].sort((a, b) => a.number - b.number), range };
}
