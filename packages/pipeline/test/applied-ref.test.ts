import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { CLUSTER_DEFINITIONS_DIR } from '../src/pull-request/affected-stacks';
import { appliedBeyond, appliedRef, applyBase, markApplied } from '../src/apply/applied-ref';
import { main } from '../src/cli/main';
import { pipelinePaths } from '../src/io/paths';
import { orderedStacks } from '../src/pull-request/pr-flow';
import { git, tempRepo, writeFiles } from './support/git';
import { realPlatform } from './support/real-platform';

/**
 * The applied tag on real git histories: a bare "origin" and, per workflow run, a fresh
 * clone of it (what actions/checkout with fetch-depth: 0 gives: all history, every tag).
 */

const platform = defaultPlatform();
const ref = appliedRef(platform);
const stackOf = (cluster: string) => platform.namesOf(cluster).stack;
const definition = (cluster: string) => `${CLUSTER_DEFINITIONS_DIR}${cluster}.ts`;

let outputFile: string;
const saved = process.env.GITHUB_OUTPUT;
beforeAll(() => {
  outputFile = join(mkdtempSync(join(tmpdir(), 'pipeline-output-')), 'output');
  process.env.GITHUB_OUTPUT = outputFile;
});
afterAll(() => {
  if (saved === undefined) delete process.env.GITHUB_OUTPUT;
  else process.env.GITHUB_OUTPUT = saved;
});
afterEach(() => vi.restoreAllMocks());

/** main: one definition file per platform cluster and the infra app; origin is a bare clone of it. */
function setup() {
  const seed = tempRepo(
    {
      '.gitignore': 'apps/infra/cdktf.out/\n',
      'apps/infra/package.json': `${JSON.stringify({ name: '@platform/infra', private: true, dependencies: {} })}\n`,
      'README.md': 'v1\n',
      ...Object.fromEntries(platform.clusters.map((c) => [definition(c.name), `export const ${c.name} = { workers: 3 };\n`])),
    },
    'pipeline-applied-seed-',
  );
  const origin = mkdtempSync(join(tmpdir(), 'pipeline-applied-origin-'));
  git(origin, 'clone', '--quiet', '--bare', seed, '.');
  /** A workflow job's checkout of main, with the stack manifest the infra synth would write. */
  const checkout = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'pipeline-applied-run-'));
    git(dir, 'clone', '--quiet', origin, '.');
    const { infraOut } = pipelinePaths(dir);
    mkdirSync(infraOut, { recursive: true });
    const stacks = Object.fromEntries([platform.names.ciIdentityStack, ...platform.clusters.map((c) => stackOf(c.name))].map((s) => [s, { dependencies: [] }]));
    writeFileSync(join(infraOut, 'manifest.json'), JSON.stringify({ stacks }));
    return dir;
  };
  /** A pull request merged into main: returns the push's `before` and `sha`. */
  const merge = (files: Record<string, string>, message: string): { before: string; sha: string } => {
    const dir = checkout();
    const before = git(dir, 'rev-parse', 'HEAD').trim();
    writeFiles(dir, files);
    git(dir, 'add', '--all');
    git(dir, 'commit', '--quiet', '-m', message);
    git(dir, 'push', '--quiet', 'origin', 'HEAD:main');
    return { before, sha: git(dir, 'rev-parse', 'HEAD').trim() };
  };
  /** The commit the tag names on origin (peeled: mark-applied writes an annotated tag). */
  const remoteTag = (): string | undefined => git(origin, 'for-each-ref', '--format=%(*objectname)%(objectname)', ref).trim().slice(0, 40) || undefined;
  return { origin, checkout, merge, remoteTag, seed: git(origin, 'rev-parse', 'main').trim() };
}

async function cli(repo: string, ...argv: string[]): Promise<{ code: number; output: string; stderr: string[] }> {
  writeFileSync(outputFile, '');
  const stderr: string[] = [];
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation((line: string) => stderr.push(line));
  const code = await main(argv, repo, realPlatform());
  vi.restoreAllMocks();
  return { code, output: readFileSync(outputFile, 'utf8'), stderr };
}

const selected = async (repo: string, ...args: string[]): Promise<string[]> => {
  const result = await cli(repo, 'stacks', ...args);
  expect(result.code).toBe(0);
  return JSON.parse(/^stacks=(.*)$/m.exec(result.output)?.[1] ?? 'null') as string[];
};

/** Every stack, in the apply order the manifest gives. */
const everyStack = () => orderedStacks(pipelinePaths(setup().checkout()), platform);

describe('appliedRef', () => {
  it('is a tag named after the main branch platform-config names', () => {
    expect(appliedRef(platform)).toBe(`refs/tags/applied/${platform.settings.github.mainBranch}`);
  });
});

describe('the apply workflow, run after run', () => {
  it('applies the stacks of a merge whose run was cancelled with the next run', async () => {
    const { checkout, merge, remoteTag, seed } = setup();
    expect(await cli(checkout(), 'mark-applied', '--sha', seed)).toMatchObject({ code: 0 });
    expect(remoteTag()).toBe(seed);

    // Run 1 applies staging and records its commit.
    const first = merge({ [definition('staging')]: 'export const staging = { workers: 4 };\n' }, 'staging: 4 workers');
    expect(await selected(checkout(), '--since-applied')).toEqual([stackOf('staging')]);
    await cli(checkout(), 'mark-applied', '--sha', first.sha);
    expect(remoteTag()).toBe(first.sha);

    // Run 2 (production) is cancelled while pending: nothing applied, the tag stays.
    merge({ [definition('production')]: 'export const production = { workers: 5 };\n' }, 'production: 5 workers');
    // Run 3 only changes a document; against its own `before` it would select nothing.
    const third = merge({ 'README.md': 'v2\n' }, 'docs');
    const run3 = checkout();
    expect(await selected(run3, '--base', third.before)).toEqual([]);
    const paired = everyStack().filter((s) => s === stackOf('production') || s === stackOf('dr'));
    expect(paired).toHaveLength(2);
    expect(await selected(run3, '--since-applied')).toEqual(paired);
    expect((await cli(run3, 'stacks', '--since-applied')).stderr).toEqual([`pipeline: diffing against ${ref} (${first.sha.slice(0, 12)}), the last applied commit`]);
    await cli(checkout(), 'mark-applied', '--sha', third.sha);
    expect(remoteTag()).toBe(third.sha);
    expect(await selected(checkout(), '--since-applied')).toEqual([]);
  });

  it('keeps the tag where it was after a failed apply, so the next run retries those stacks', async () => {
    const { checkout, merge, remoteTag, seed } = setup();
    await cli(checkout(), 'mark-applied', '--sha', seed);
    // Run 1's apply of staging fails: the manifests job, which moves the tag, does not run.
    merge({ [definition('staging')]: 'export const staging = { workers: 4 };\n' }, 'staging: 4 workers');
    expect(await selected(checkout(), '--since-applied')).toEqual([stackOf('staging')]);
    expect(remoteTag()).toBe(seed);
    // Run 2 changes something else and retries staging.
    merge({ [definition('dr')]: 'export const dr = { workers: 2 };\n' }, 'dr: 2 workers');
    const stacks = await selected(checkout(), '--since-applied');
    expect(stacks).toContain(stackOf('staging'));
    expect(stacks).toContain(stackOf('dr'));
  });

  it('selects every stack when no apply is recorded yet', async () => {
    const { checkout, remoteTag } = setup();
    expect(remoteTag()).toBeUndefined();
    const result = await cli(checkout(), 'stacks', '--since-applied');
    expect(result).toEqual({
      code: 0,
      output: `stacks=${JSON.stringify(everyStack())}\nany=true\nclusters=[]\nany_clusters=false\n`,
      stderr: [`pipeline: ${ref} does not exist in this clone: no apply recorded yet; selecting every stack`],
    });
  });

  it('selects every stack when the tag is off the history of HEAD (main force-pushed)', async () => {
    const { checkout, merge, seed } = setup();
    const applied = merge({ 'README.md': 'v2\n' }, 'docs');
    await cli(checkout(), 'mark-applied', '--sha', applied.sha);
    // main rewritten: the applied commit is no longer on it.
    const dir = checkout();
    git(dir, 'reset', '--quiet', '--hard', seed);
    writeFiles(dir, { 'README.md': 'v3\n' });
    git(dir, 'commit', '--quiet', '-am', 'rewritten');
    git(dir, 'push', '--quiet', '--force', 'origin', 'HEAD:main');
    const run = checkout();
    const head = git(run, 'rev-parse', 'HEAD').trim();
    expect(await cli(run, 'stacks', '--since-applied')).toEqual({
      code: 0,
      output: `stacks=${JSON.stringify(everyStack())}\nany=true\nclusters=[]\nany_clusters=false\n`,
      stderr: [`pipeline: ${ref} (${applied.sha.slice(0, 12)}) is not an ancestor of HEAD (${head.slice(0, 12)}): history was rewritten; selecting every stack`],
    });
  });

  it('selects nothing when an old run is re-run after later merges were applied (no rollback)', async () => {
    const { checkout, merge } = setup();
    const old = merge({ [definition('staging')]: 'export const staging = { workers: 4 };\n' }, 'staging: 4 workers');
    const later = merge({ [definition('staging')]: 'export const staging = { workers: 6 };\n' }, 'staging: 6 workers');
    await cli(checkout(), 'mark-applied', '--sha', later.sha);
    const rerun = checkout();
    git(rerun, 'checkout', '--quiet', '--detach', old.sha);
    expect(applyBase(rerun, ref)).toEqual({ kind: 'since', base: later.sha, reason: `${ref} (${later.sha.slice(0, 12)}) already includes this commit; nothing left to apply` });
    expect(await selected(rerun, '--since-applied')).toEqual([]);
  });

  it('applies nothing when a later merge was applied while this run waited (its stacks job lost the race)', async () => {
    const { checkout, merge } = setup();
    const older = merge({ [definition('staging')]: 'export const staging = { workers: 4 };\n' }, 'staging: 4 workers');
    const lateRun = checkout(); // cloned before the newer merge, like a run that queued first
    git(lateRun, 'checkout', '--quiet', '--detach', older.sha);
    const newer = merge({ [definition('staging')]: 'export const staging = { workers: 6 };\n' }, 'staging: 6 workers');
    expect(appliedBeyond({ repo: lateRun, ref, sha: older.sha })).toBeUndefined();
    await cli(checkout(), 'mark-applied', '--sha', newer.sha);
    expect(appliedBeyond({ repo: lateRun, ref, sha: older.sha })).toBe(newer.sha);
    expect(appliedBeyond({ repo: checkout(), ref, sha: newer.sha })).toBeUndefined();
    // No terraform runs: the guard answers before any plan (a plan here would fail, nothing is synthesized).
    const summaryFile = join(mkdtempSync(join(tmpdir(), 'pipeline-summary-')), 'summary.md');
    vi.stubEnv('GITHUB_STEP_SUMMARY', summaryFile);
    const result = await cli(lateRun, 'apply', '--stack', stackOf('staging'), '--sha', older.sha);
    vi.unstubAllEnvs();
    expect(result.code).toBe(0);
    expect(readFileSync(summaryFile, 'utf8')).toContain(`${ref} already names ${newer.sha.slice(0, 12)}, which includes ${older.sha.slice(0, 12)}: its stacks are applied from newer code; nothing applied`);
  });

  it('rejects --since-applied together with --base or --all', async () => {
    const { checkout } = setup();
    const dir = checkout();
    for (const other of [['--base', 'HEAD'], ['--all']]) {
      expect(await cli(dir, 'stacks', '--since-applied', ...other)).toMatchObject({ code: 2, stderr: ['pipeline stacks: --base <ref>, --all and --since-applied exclude each other'] });
    }
  });
});

describe('markApplied', () => {
  it('creates the tag, then moves it forward', () => {
    const { checkout, merge, remoteTag, seed } = setup();
    expect(markApplied({ repo: checkout(), ref, sha: seed })).toEqual({ outcome: 'moved', previous: undefined });
    expect(remoteTag()).toBe(seed);
    const next = merge({ 'README.md': 'v2\n' }, 'docs');
    const lines: string[] = [];
    expect(markApplied({ repo: checkout(), ref, sha: next.sha, log: (l) => lines.push(l) })).toEqual({ outcome: 'moved', previous: seed });
    expect(remoteTag()).toBe(next.sha);
    expect(lines).toEqual([`${ref}: ${seed.slice(0, 12)} -> ${next.sha.slice(0, 12)} (attempt 1)`]);
    expect(git(checkout(), 'cat-file', '-t', ref).trim()).toBe('commit');
  });

  it('leaves the tag alone when it already names the commit', () => {
    const { checkout, remoteTag, seed } = setup();
    markApplied({ repo: checkout(), ref, sha: seed });
    expect(markApplied({ repo: checkout(), ref, sha: seed })).toEqual({ outcome: 'unchanged', previous: seed });
    expect(remoteTag()).toBe(seed);
  });

  it('never moves the tag back when a later merge was recorded first, even one this checkout has never seen', () => {
    const { checkout, merge, remoteTag } = setup();
    const older = merge({ 'README.md': 'v2\n' }, 'older');
    const lateRun = checkout(); // cloned before the newer merge
    const newer = merge({ 'README.md': 'v3\n' }, 'newer');
    markApplied({ repo: checkout(), ref, sha: newer.sha });
    const lines: string[] = [];
    expect(markApplied({ repo: lateRun, ref, sha: older.sha, log: (l) => lines.push(l) })).toEqual({ outcome: 'kept', previous: newer.sha });
    expect(remoteTag()).toBe(newer.sha);
    expect(lines).toEqual([`${ref} names ${newer.sha.slice(0, 12)}, a later commit that includes ${older.sha.slice(0, 12)}; left there`]);
  });

  it('moves the tag onto a rewritten history (the run of the new main selected every stack)', () => {
    const { checkout, merge, remoteTag, seed } = setup();
    const abandoned = merge({ 'README.md': 'v2\n' }, 'abandoned');
    markApplied({ repo: checkout(), ref, sha: abandoned.sha });
    const dir = checkout();
    git(dir, 'reset', '--quiet', '--hard', seed);
    writeFiles(dir, { 'README.md': 'v3\n' });
    git(dir, 'commit', '--quiet', '-am', 'rewritten');
    git(dir, 'push', '--quiet', '--force', 'origin', 'HEAD:main');
    const rewritten = git(dir, 'rev-parse', 'HEAD').trim();
    expect(markApplied({ repo: checkout(), ref, sha: rewritten, unrelated: 'replace' })).toEqual({ outcome: 'moved', previous: abandoned.sha });
    expect(remoteTag()).toBe(rewritten);
  });

  it('compares an annotated tag by the commit it names and replaces it with a lightweight one', () => {
    const { checkout, merge, origin, seed } = setup();
    git(origin, 'tag', '--annotate', '--message', 'by hand', ref.replace('refs/tags/', ''), seed);
    const next = merge({ 'README.md': 'v2\n' }, 'docs');
    expect(markApplied({ repo: checkout(), ref, sha: next.sha })).toEqual({ outcome: 'moved', previous: seed });
    expect(git(origin, 'rev-parse', ref).trim()).toBe(next.sha);
    expect(git(origin, 'cat-file', '-t', ref).trim()).toBe('commit');
  });

  it('re-reads and retries when a push is rejected, and gives up after maxAttempts', () => {
    const { checkout, merge, origin, remoteTag, seed } = setup();
    const next = merge({ 'README.md': 'v2\n' }, 'docs');
    // A server hook standing in for a lost race: rejects the first push of the tag only.
    const hook = join(origin, 'hooks', 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\nif [ ! -e "${join(origin, 'rejected-once')}" ]; then touch "${join(origin, 'rejected-once')}"; echo "busy" >&2; exit 1; fi\n`, { mode: 0o755 });
    const lines: string[] = [];
    expect(markApplied({ repo: checkout(), ref, sha: seed, log: (l) => lines.push(l) })).toEqual({ outcome: 'moved', previous: undefined });
    expect(lines[0]).toMatch(new RegExp(`^push of ${ref} rejected \\(attempt 1\\)`));
    expect(lines[1]).toBe(`${ref}: (none) -> ${seed.slice(0, 12)} (attempt 2)`);
    expect(remoteTag()).toBe(seed);
    writeFileSync(hook, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    expect(() => markApplied({ repo: checkout(), ref, sha: next.sha, maxAttempts: 2 })).toThrow(`could not move ${ref} on origin to ${next.sha.slice(0, 12)} after 2 attempts`);
    expect(remoteTag()).toBe(seed);
  });

  it('refuses a sha that is not a commit, and fails clearly when the remote is unreachable', () => {
    const { checkout, seed } = setup();
    expect(() => markApplied({ repo: checkout(), ref, sha: '0'.repeat(40) })).toThrow(`--sha ${'0'.repeat(40)} is not a commit in this clone`);
    expect(() => markApplied({ repo: checkout(), ref, sha: seed, remote: 'nowhere' })).toThrow(/git ls-remote nowhere .* failed/);
  });
});
