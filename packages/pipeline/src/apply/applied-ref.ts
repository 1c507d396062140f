import type { Platform } from '@platform/platform-config';
import { refAnnotation } from './applied-record';
import { BOT_AUTHOR } from './manifest-commit';
import { exec, execOk } from '../private/exec';
import { gitTokenEnvironment } from '../private/git-token';

/**
 * The last commit of main whose Terraform stacks are all applied, kept as a lightweight tag
 * on the remote. The apply workflow diffs against it instead of the push's `before`: a run
 * that GitHub cancelled while it waited for the `terraform-apply` concurrency group (only
 * one run may be pending), or whose apply failed, never moves it, so the next run selects
 * those stacks again.
 *
 * The tag names the pushed commit (`GITHUB_SHA`), never the manifest bot commit: the bot
 * commit only touches clusters/ (which selects no stack), and when its push is rebased onto a
 * newer main it sits on top of merges whose stacks this run did not apply.
 */
export function appliedRef(platform: Pick<Platform, 'settings'>): string {
  return `refs/tags/applied/${platform.settings.github.mainBranch}`;
}

// With GITHUB_TOKEN set (the apply job, whose checkout persists no credentials) git talks to the remote
// through an extraheader in the environment, never written to .git/config; without it (tests, a laptop) unchanged.
const remoteEnv = () => gitTokenEnvironment(process.env);
const git = (repo: string, ...args: string[]) => exec('git', args, { cwd: repo, env: remoteEnv() });

function commitOf(repo: string, ref: string): string | undefined {
  const result = git(repo, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** Whether `ancestor` is `descendant` or one of its ancestors. */
function isAncestor(repo: string, ancestor: string, descendant: string): boolean {
  return git(repo, 'merge-base', '--is-ancestor', ancestor, descendant).code === 0;
}

export type ApplyBase =
  /** Diff from `base` (the applied commit) to HEAD. */
  | { readonly kind: 'since'; readonly base: string; readonly reason: string }
  /** Select every stack. */
  | { readonly kind: 'all'; readonly reason: string };

/**
 * What the apply run of HEAD must diff against, given the applied ref in the clone (the
 * workflow checks out with `fetch-depth: 0`, which fetches every tag):
 *
 * - the ref is HEAD or one of its ancestors: the ref's commit, so every merge since the last
 *   successful apply is covered, cancelled and failed runs included;
 * - HEAD is an ancestor of the ref (an old run re-run after later merges were applied):
 *   the ref's commit too, which selects nothing; re-applying old code would roll back;
 * - no ref (first run) or a ref on another line of history (main was force-pushed): every
 *   stack. Planning too much is safe, missing a stack is not.
 */
export function applyBase(repo: string, ref: string): ApplyBase {
  const head = execOk('git', ['rev-parse', 'HEAD'], { cwd: repo }).trim();
  const applied = commitOf(repo, ref);
  if (applied === undefined) return { kind: 'all', reason: `${ref} does not exist in this clone: no apply recorded yet; selecting every stack` };
  if (isAncestor(repo, applied, head)) return { kind: 'since', base: applied, reason: `diffing against ${ref} (${applied.slice(0, 12)}), the last applied commit` };
  if (isAncestor(repo, head, applied)) return { kind: 'since', base: applied, reason: `${ref} (${applied.slice(0, 12)}) already includes this commit; nothing left to apply` };
  return { kind: 'all', reason: `${ref} (${applied.slice(0, 12)}) is not an ancestor of HEAD (${head.slice(0, 12)}): history was rewritten; selecting every stack` };
}

export interface MarkAppliedOptions {
  readonly repo: string;
  /** Full ref name, e.g. from `appliedRef`. */
  readonly ref: string;
  /** The commit whose stacks were applied (the push's sha). */
  readonly sha: string;
  /** @default 'origin' */
  readonly remote?: string;
  /**
   * When the remote ref names a commit that is neither an ancestor nor a descendant of `sha`
   * (another line of history): `refuse` throws, so the ref only ever moves forward (a deploy
   * ref: Flux would otherwise jump to manifests that lack what it runs); `replace` moves it
   * there (the applied tag after main was force-pushed: that run selected every stack).
   * @default 'refuse'
   */
  readonly unrelated?: 'refuse' | 'replace';
  /**
   * The message of an annotated tag to push instead of the bare commit: the applied tag carries the
   * applied commit's record (applied-record.ts) this way. A ref that already names `sha` without
   * exactly this annotation (written before records existed) is rewritten in place.
   * @default none: a lightweight ref
   */
  readonly annotation?: string;
  /** Attempts when another run moves the ref between our read and our push. @default 4 */
  readonly maxAttempts?: number;
  readonly log?: (line: string) => void;
}

export interface MarkAppliedResult {
  /**
   * `moved`: the remote ref now names `sha`; `unchanged`: it already did; `annotated`: it already named
   * `sha`, and now carries the annotation too; `kept`: it names a later commit that includes `sha`.
   */
  readonly outcome: 'moved' | 'unchanged' | 'annotated' | 'kept';
  /** The remote ref's commit before this call (undefined when it did not exist). */
  readonly previous: string | undefined;
}

/**
 * What `ref` names on `remote`: `object` as the remote stores it (what a push lease must
 * expect) and `commit`, the commit it peels to, fetched when this clone does not have it
 * yet (a run newer than this checkout moved it). Undefined when the remote has no such ref.
 */
export function remoteRef(repo: string, remote: string, ref: string): { readonly object: string; readonly commit: string } | undefined {
  const listed = execOk('git', ['ls-remote', remote, ref, `${ref}^{}`], { cwd: repo, env: remoteEnv() });
  const lines = listed.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]);
  const object = lines.find(([, name]) => name === ref)?.[0];
  if (object === undefined) return undefined;
  const peeled = lines.find(([, name]) => name === `${ref}^{}`)?.[0] ?? object;
  if (commitOf(repo, peeled) === undefined || exec('git', ['cat-file', '-e', object], { cwd: repo }).code !== 0) execOk('git', ['fetch', '--quiet', '--no-tags', remote, ref], { cwd: repo, env: remoteEnv() });
  const commit = commitOf(repo, peeled);
  if (commit === undefined) throw new Error(`${ref} on ${remote} names ${peeled}, which is not a commit`);
  return { object, commit };
}

/**
 * Moves the applied ref on `remote` to `sha` after the apply of `sha` went through (or had
 * nothing to do). Never moves it back: when it already names a commit that includes `sha`
 * (a later merge's run finished first), it stays. Never sideways either, unless `unrelated`
 * is `replace`: a ref on a commit `sha` does not descend from is refused. The push carries a lease on the value
 * read, so two runs cannot overwrite each other's move unseen; a lost race is re-read and
 * retried. A failed apply never calls this, so the ref stays where it was.
 */
export function markApplied(options: MarkAppliedOptions): MarkAppliedResult {
  const remote = options.remote ?? 'origin';
  const maxAttempts = options.maxAttempts ?? 4;
  const log = options.log ?? (() => undefined);
  const { repo, ref } = options;
  const sha = commitOf(repo, options.sha);
  if (sha === undefined) throw new Error(`--sha ${options.sha} is not a commit in this clone`);
  // The object pushed: the commit itself, or a tag object annotating it (written once, pushed on each attempt).
  const target = options.annotation === undefined ? sha : annotatedTag(repo, ref, sha, options.annotation);
  let current = remoteRef(repo, remote, ref);
  const first = current?.commit;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const annotate = current?.commit === sha && options.annotation !== undefined && refAnnotation(repo, current.object) !== options.annotation;
    if (current?.commit === sha && !annotate) {
      log(`${ref} already names ${sha.slice(0, 12)}`);
      return { outcome: 'unchanged', previous: first };
    }
    if (current !== undefined && current.commit !== sha && isAncestor(repo, sha, current.commit)) {
      log(`${ref} names ${current.commit.slice(0, 12)}, a later commit that includes ${sha.slice(0, 12)}; left there`);
      return { outcome: 'kept', previous: first };
    }
    if (current !== undefined && !isAncestor(repo, current.commit, sha) && (options.unrelated ?? 'refuse') === 'refuse') {
      throw new Error(`${ref} on ${remote} names ${current.commit.slice(0, 12)}, which ${sha.slice(0, 12)} does not include: refusing to move it sideways (docs/runbooks/deploy-refs.md, "Moving a ref by hand")`);
    }
    // The lease: a ref another run moved since the read is re-read and judged again, never overwritten unseen.
    const push = git(repo, 'push', '--porcelain', `--force-with-lease=${ref}:${current?.object ?? ''}`, remote, `${target}:${ref}`);
    if (push.code === 0) {
      if (annotate) {
        log(`${ref}: ${sha.slice(0, 12)} annotated (attempt ${attempt})`);
        return { outcome: 'annotated', previous: first };
      }
      log(`${ref}: ${current?.commit.slice(0, 12) ?? '(none)'} -> ${sha.slice(0, 12)} (attempt ${attempt})`);
      return { outcome: 'moved', previous: first };
    }
    log(`push of ${ref} rejected (attempt ${attempt}): ${(push.stderr || push.stdout).trim().split('\n').pop()}`);
    current = remoteRef(repo, remote, ref);
  }
  throw new Error(`could not move ${ref} on ${remote} to ${sha.slice(0, 12)} after ${maxAttempts} attempts`);
}

/** A tag object named after `ref` that annotates `sha` with `message`, written to the clone's object store only (no local ref); tagged by the manifest commit's bot. */
function annotatedTag(repo: string, ref: string, sha: string, message: string): string {
  const header = `object ${sha}\ntype commit\ntag ${ref.replace(/^refs\/tags\//, '')}\ntagger ${BOT_AUTHOR.name} <${BOT_AUTHOR.email}> ${Math.floor(Date.now() / 1000)} +0000\n\n`;
  return execOk('git', ['mktag'], { cwd: repo, input: `${header}${message}` }).trim();
}

/**
 * The applied commit on `remote` when it already includes `sha` and is newer: a later merge's
 * run applied first (its `stacks` job won the race for the concurrency group), so applying
 * `sha` now would roll the infrastructure back to older code. Undefined when `sha` is still
 * the newest applied code, or no apply is recorded yet. Read just before applying.
 */
export function appliedBeyond(options: { readonly repo: string; readonly ref: string; readonly sha: string; readonly remote?: string }): string | undefined {
  const { repo, ref } = options;
  const sha = commitOf(repo, options.sha);
  if (sha === undefined) throw new Error(`--sha ${options.sha} is not a commit in this clone`);
  const applied = remoteRef(repo, options.remote ?? 'origin', ref)?.commit;
  return applied !== undefined && applied !== sha && isAncestor(repo, sha, applied) ? applied : undefined;
}
