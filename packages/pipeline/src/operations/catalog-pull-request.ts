import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_CATALOG_FILE, appCatalogIssues, formatIssue, parseAppCatalog, renderAppCatalog, type AppCatalog, type ClusterDefinition } from '@platform/platform-config';
import type { GitHubClient } from '../io/github';
import { exec, execOk } from '../private/exec';
import { gitTokenEnvironment } from '../private/git-token';

/*
 * How a catalog change becomes a pull request: branch from the remote's base, rewrite the
 * catalog, synthesize clusters/, commit both, push the branch, open (or update) its pull request,
 * and ask GitHub to merge it by itself when allowed. The pull request then runs the normal checks
 * (plan, ha-check, Flux diff), which are what judges the release.
 */

const BOT = ['-c', 'user.name=app-release[bot]', '-c', 'user.email=app-release@users.noreply.github.com'];

/** The catalog in the work tree, parsed (loadPlatform has validated it). */
export function readCatalog(repo: string): AppCatalog {
  return parseAppCatalog(JSON.parse(readFileSync(join(repo, APP_CATALOG_FILE), 'utf8')));
}

/** The catalog as the remote's base branch has it: fetched, checked out on `branch`, and parsed. */
export function checkoutBase(repo: string, remote: string, base: string, branch: string): AppCatalog {
  // The token (the workflow's GITHUB_TOKEN) reaches only the two commands that talk to the remote.
  execOk('git', ['fetch', '--quiet', remote, `refs/heads/${base}`], { cwd: repo, env: gitTokenEnvironment(process.env) });
  execOk('git', ['switch', '--quiet', '--force-create', branch, 'FETCH_HEAD'], { cwd: repo });
  return readCatalog(repo);
}

export interface CatalogPullRequestOptions {
  readonly repo: string;
  readonly remote: string;
  readonly base: string;
  readonly branch: string;
  readonly clusters: readonly ClusterDefinition[];
  readonly catalog: AppCatalog;
  readonly title: string;
  readonly body: string;
  /** Enable auto-merge on the pull request (the required checks still decide). */
  readonly autoMerge: boolean;
  readonly synth: () => void | Promise<void>;
  readonly github: GitHubClient;
  readonly log: (line: string) => void;
}

export interface CatalogPullRequest {
  readonly number: number;
  readonly url: string;
  readonly created: boolean;
  readonly autoMerge: boolean;
}

/** Writes the catalog (after the platform's own validation), synthesizes, commits, pushes and opens the pull request. */
export async function openCatalogPullRequest(o: CatalogPullRequestOptions): Promise<CatalogPullRequest> {
  // The checks synth runs, before any file changes: a catalog that would fail synth is never written.
  const issues = appCatalogIssues(o.catalog, o.clusters);
  if (issues.length > 0) throw new Error(`the new catalog is invalid:\n${issues.map(formatIssue).join('\n')}`);
  writeFileSync(join(o.repo, APP_CATALOG_FILE), renderAppCatalog(o.catalog));
  await o.synth();
  execOk('git', ['add', '--all', '--', APP_CATALOG_FILE, 'clusters'], { cwd: o.repo });
  execOk('git', [...BOT, 'commit', '--quiet', '--no-verify', '-m', o.title, '-m', o.body], { cwd: o.repo });
  // One branch per app and environment: a newer dispatch replaces the pending one.
  const push = exec('git', ['push', '--quiet', '--force', o.remote, `HEAD:refs/heads/${o.branch}`], { cwd: o.repo, env: gitTokenEnvironment(process.env) });
  if (push.code !== 0) throw new Error(`git push ${o.remote} ${o.branch} failed: ${push.stderr.trim()}`);
  o.log(`pushed ${o.branch}`);
  const [open] = await o.github.openPullRequests(o.branch, o.base);
  const pull = open ? await o.github.updatePullRequest(open.number, { title: o.title, body: o.body }) : await o.github.createPullRequest({ title: o.title, head: o.branch, base: o.base, body: o.body });
  o.log(`${open ? 'updated' : 'opened'} pull request #${pull.number}`);
  if (o.autoMerge) await o.github.enableAutoMerge(pull.node_id);
  return { number: pull.number, url: pull.html_url, created: !open, autoMerge: o.autoMerge };
}
