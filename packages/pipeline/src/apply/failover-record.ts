import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { deployRefOf } from '@platform/platform-config';
import { parseOptions as parseFailoverOptions } from '@platform/failover';
import { exec } from '../private/exec';
import { markApplied as moveRefForward, type MarkAppliedResult } from './applied-ref';
import { BOT_AUTHOR, commitManifests } from './manifest-commit';

/**
 * The files a promotion or fail-back rewrites in the repository (the failover tool's defaults:
 * platform-config's failover-state.json and database-archives.ts), relative to `repo`. The
 * only files a failover patch may change.
 */
export function failoverRecordFiles(repo: string): string[] {
  const options = parseFailoverOptions(['failback', '--primary', 'any'], repo);
  return [options.stateFile, options.archivesFile].map((f) => relative(repo, f));
}

export interface RecordFailoverOptions {
  readonly repo: string;
  /** `git diff` of the failover job's work tree after the tool ran (`--git print`). */
  readonly patch: string;
  /** Whose deploy refs move to the commit: promote the standby, fail-back both. */
  readonly clusters: readonly string[];
  readonly message: string;
  /** Regenerates clusters/ from the patched platform-config (the archive name is rendered into the manifests). */
  readonly synth: () => void | Promise<void>;
  /** @default 'origin' */
  readonly remote?: string;
  /** @default 'main' */
  readonly branch?: string;
  readonly log?: (line: string) => void;
  /**
   * Clusters whose deploy ref must stay, each with why: infrastructure changes of theirs merged
   * before the record (given the commit it was made on top of) and never applied; the pipeline
   * refuses the pair's applies while a standby serves. Their manifests go live with the next
   * apply's deploy job instead. @default - nothing holds a ref
   */
  readonly unapplied?: (base: string) => ReadonlyMap<string, string>;
}

export type RecordFailoverResult =
  /** The patch was empty (a drill records nothing): no commit, no ref moved. */
  | { readonly outcome: 'nothing' }
  | { readonly outcome: 'recorded'; readonly commit: string; readonly pushed: boolean; readonly refs: readonly RefMove[] };

/** One deploy ref: moved, already there, kept on a later commit, or refused (with why). */
export interface RefMove {
  readonly cluster: string;
  readonly ref: string;
  readonly result: MarkAppliedResult['outcome'] | 'refused' | 'held';
  readonly error?: string;
}

/**
 * The region-failover workflow's push job, which holds `contents: write` and no AWS role:
 * applies the failover job's patch onto the branch (only the files the tool records), re-synthesizes
 * clusters/ so the manifests match the recorded state, pushes one commit (rebased, or rebuilt
 * from a fresh synth, when the branch moved meanwhile) and moves each cluster's deploy ref to
 * it, forward only.
 */
export async function recordFailover(options: RecordFailoverOptions): Promise<RecordFailoverResult> {
  const log = options.log ?? (() => undefined);
  const text = readFileSync(options.patch, 'utf8');
  if (text.trim() === '') {
    log('the failover patch is empty (a drill records nothing): no commit, no deploy ref moved');
    return { outcome: 'nothing' };
  }
  const allowed = failoverRecordFiles(options.repo);
  const stat = exec('git', ['apply', '--numstat', options.patch], { cwd: options.repo });
  if (stat.code !== 0) throw new Error(`${options.patch} is no patch git can read: ${stat.stderr.trim()}`);
  const touched = stat.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[2]!);
  const foreign = touched.filter((p) => !allowed.includes(p));
  if (foreign.length > 0) throw new Error(`the failover patch changes ${foreign.join(', ')}; it may only change ${allowed.join(', ')}: nothing committed`);
  const result = await commitManifests({
    repo: options.repo,
    paths: [...allowed, 'clusters'],
    synth: async () => {
      const applied = exec('git', ['apply', options.patch], { cwd: options.repo });
      if (applied.code !== 0) throw new Error(`the failover patch does not apply to ${options.branch ?? 'main'} (${applied.stderr.trim()}): the recorded files changed since the run's commit; record by hand (docs/runbooks/deploy-refs.md)`);
      await options.synth();
    },
    remote: options.remote,
    branch: options.branch,
    message: options.message,
    author: BOT_AUTHOR,
    log,
  });
  // Unchanged: the branch already holds exactly this state (a re-run after the push went through).
  const commit = result.commit ?? exec('git', ['rev-parse', 'HEAD'], { cwd: options.repo }).stdout.trim();
  const base = exec('git', ['rev-parse', `${commit}^`], { cwd: options.repo }).stdout.trim();
  const unapplied = options.unapplied?.(base) ?? new Map<string, string>();
  // One refused ref (sideways) holds that cluster only.
  const refs = options.clusters.map((cluster): RefMove => {
    const ref = deployRefOf(cluster);
    const held = unapplied.get(cluster);
    if (held !== undefined) {
      log(`${ref} held: ${held}`);
      return { cluster, ref, result: 'held', error: held };
    }
    try {
      return { cluster, ref, result: moveRefForward({ repo: options.repo, ref, sha: commit, remote: options.remote, log }).outcome };
    } catch (error) {
      return { cluster, ref, result: 'refused', error: error instanceof Error ? error.message : String(error) };
    }
  });
  return { outcome: 'recorded', commit, pushed: result.outcome === 'pushed', refs };
}
