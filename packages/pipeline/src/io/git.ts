import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listFiles } from '@platform/synth-kit';
import { exec, execOk } from '../private/exec';
import type { ManifestTree } from '../pull-request/manifest-diff';

/**
 * Files changed since `base`: the merge base of `base` and HEAD compared with the working
 * tree (so a local run sees uncommitted edits too), plus untracked files.
 */
export function changedFilesSince(repo: string, base: string): string[] {
  const mergeBase = execOk('git', ['merge-base', base, 'HEAD'], { cwd: repo }).trim();
  const diff = execOk('git', ['diff', '--name-only', '--no-renames', mergeBase], { cwd: repo });
  const untracked = execOk('git', ['ls-files', '--others', '--exclude-standard'], { cwd: repo });
  return [...new Set(`${diff}\n${untracked}`.split('\n').filter(Boolean))].sort();
}

export function mergeBaseOf(repo: string, base: string): string {
  return execOk('git', ['merge-base', base, 'HEAD'], { cwd: repo }).trim();
}

/** Whether `ref` names a commit in this clone (a push's `before` may not: first push, force push). */
export function isCommit(repo: string, ref: string): boolean {
  return exec('git', ['cat-file', '-e', `${ref}^{commit}`], { cwd: repo }).code === 0;
}

/** Whether the clone has a remote of that name (a workflow checkout has `origin`; a scratch repository may not). */
export function hasRemote(repo: string, remote: string): boolean {
  return exec('git', ['remote', 'get-url', remote], { cwd: repo }).code === 0;
}

export function headCommit(repo: string): string {
  return execOk('git', ['rev-parse', 'HEAD'], { cwd: repo }).trim();
}

/** Every file under `dir` at commit `ref`, read in one `git cat-file --batch`. */
export function treeAtCommit(repo: string, ref: string, dir: string): ManifestTree {
  const listed = exec('git', ['ls-tree', '-r', '-z', '--name-only', ref, '--', dir], { cwd: repo });
  if (listed.code !== 0) throw new Error(`git ls-tree ${ref} ${dir} failed: ${listed.stderr}`);
  const files = listed.stdout.split('\0').filter(Boolean);
  if (files.length === 0) return new Map();
  const batch = spawnSync('git', ['cat-file', '--batch'], { cwd: repo, input: files.map((f) => `${ref}:${f}`).join('\n') + '\n', maxBuffer: 1024 * 1024 * 1024 });
  if (batch.status !== 0) throw new Error(`git cat-file --batch failed: ${String(batch.stderr)}`);
  const buffer = batch.stdout;
  const tree = new Map<string, string>();
  let offset = 0;
  for (const file of files) {
    const headerEnd = buffer.indexOf(10, offset);
    const header = buffer.subarray(offset, headerEnd).toString('utf8');
    const size = Number(header.split(' ')[2]);
    if (!Number.isFinite(size)) throw new Error(`git cat-file: unexpected header ${JSON.stringify(header)} for ${file}`);
    tree.set(file, buffer.subarray(headerEnd + 1, headerEnd + 1 + size).toString('utf8'));
    offset = headerEnd + 1 + size + 1;
  }
  return tree;
}

/** Every file under `dir` in the working tree, keyed by repo-relative path. */
export function treeOnDisk(repo: string, dir: string): ManifestTree {
  const root = join(repo, dir);
  if (!existsSync(root)) return new Map();
  return new Map(listFiles(root).map((f) => [`${dir}/${f}`, readFileSync(join(root, f), 'utf8')]));
}
