import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DATABASE_ARCHIVE_SERVER_NAMES, defaultPlatform, deployRefOf, renderDatabaseArchives, renderFailoverState } from '@platform/platform-config';
import { failoverRecordFiles } from '../src/apply/failover-record';
import { recordFailoverCommand } from '../src/cli/commands/record-failover';
import { main } from '../src/cli/main';
import { recordingActions } from './support/actions';
import { git, tempRepo, writeFiles } from './support/git';
import { ROOT } from './support/infra-synth';

/**
 * region-failover.yml: the failover job (AWS role, contents: read) runs the tool, which
 * rewrites platform-config's state files in its work tree, and uploads `git diff`; the record
 * job (contents: write, no AWS) commits that patch with re-synthesized clusters/ to main and
 * moves the deploy refs there. On a real bare origin, with main moving in between.
 */

const platform = defaultPlatform();
const [production, dr, staging] = ['production', 'dr', 'staging'];
const [stateFile, archivesFile] = failoverRecordFiles(ROOT);
const archivesSource = readFileSync(join(ROOT, archivesFile!), 'utf8');

/** Stands in for `nx run gitops:synth`: the database manifest carries the archive server name. */
function fakeSynth(repo: string): void {
  const names = /DATABASE_ARCHIVE_SERVER_NAMES[^=]*= (\{[^}]*\})/.exec(readFileSync(join(repo, archivesFile!), 'utf8'))![1]!;
  const parsed = JSON.parse(names.replace(/,\s*\}/, '}')) as Record<string, string>;
  for (const c of platform.clusters) writeFiles(repo, { [`clusters/${c.name}/database.yaml`]: `serverName: ${parsed[c.name] ?? 'app'}\n` });
}

let origin: string;
let first: string;

function clone(at?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-record-run-'));
  git(dir, 'clone', '--quiet', origin, '.');
  if (at) git(dir, 'checkout', '--quiet', '--detach', at);
  return dir;
}

/** The failover job: the tool's fail-back rewrote both files; the step uploads `git diff`. */
function failbackPatch(runId: string, extra: Record<string, string> = {}): string {
  const job = clone(first);
  writeFiles(job, {
    [stateFile!]: renderFailoverState({ [production]: { serving: production, since: '2026-12-05T01:00:00Z', runId } }),
    [archivesFile!]: renderDatabaseArchives(archivesSource, { ...DATABASE_ARCHIVE_SERVER_NAMES, [production]: `app-${runId}`, [dr]: `app-${runId}` }),
    ...extra,
  });
  const patch = join(mkdtempSync(join(tmpdir(), 'pipeline-record-artifact-')), 'failover.patch');
  writeFileSync(patch, git(job, 'diff', '--binary'));
  return patch;
}

const refOn = (cluster: string) => git(origin, 'rev-parse', '--verify', '--quiet', deployRefOf(cluster)).trim();
const commands = { 'record-failover': recordFailoverCommand({ synth: fakeSynth }) } as never;

async function record(patch: string, clusters: readonly string[]) {
  const actions = recordingActions();
  const args = ['record-failover', '--patch', patch, ...clusters.flatMap((c) => ['--cluster', c]), '--message', `failover: failback ${production}`];
  const code = await main(args, clone(first), platform, { actions, commands });
  return { code, actions };
}

beforeEach(() => {
  const seed = tempRepo({ 'README.md': 'seed\n', [stateFile!]: '{}\n', [archivesFile!]: archivesSource }, 'pipeline-record-seed-');
  fakeSynth(seed);
  git(seed, 'add', '--all');
  git(seed, 'commit', '--quiet', '-m', 'manifests');
  origin = mkdtempSync(join(tmpdir(), 'pipeline-record-origin-'));
  git(origin, 'clone', '--quiet', '--bare', seed, '.');
  first = git(origin, 'rev-parse', 'main').trim();
  const start = clone();
  for (const c of platform.clusters) git(start, 'push', '--quiet', 'origin', `${first}:${deployRefOf(c.name)}`);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});

describe('record-failover', () => {
  it('records only the failover tool\'s two files, which exist in platform-config', () => {
    expect([stateFile, archivesFile]).toEqual(['packages/platform-config/src/failover-state.json', 'packages/platform-config/src/database-archives.ts']);
    for (const f of [stateFile!, archivesFile!]) expect(existsSync(join(ROOT, f)), f).toBe(true);
  });

  it('commits the fail-back state with re-synthesized clusters/ on top of a main that moved, and moves both clusters there', async () => {
    const patch = failbackPatch('r42-1');
    // A merge lands on main while the failover ran.
    const merge = clone();
    writeFiles(merge, { 'README.md': 'later merge\n' });
    git(merge, 'commit', '--quiet', '-am', 'later merge');
    git(merge, 'push', '--quiet', 'origin', 'HEAD:main');
    const later = git(merge, 'rev-parse', 'HEAD').trim();

    const { code, actions } = await record(patch, [production, dr]);
    expect(code).toBe(0);
    const commit = git(origin, 'rev-parse', 'main').trim();
    expect(git(origin, 'rev-parse', `${commit}^`).trim()).toBe(later);
    expect(git(origin, 'show', '--format=%B', '--no-patch', commit)).toContain('[skip ci]');
    expect(git(origin, 'show', '--name-only', '--format=', commit).trim().split('\n').sort()).toEqual([...platform.clusters.map((c) => `clusters/${c.name}/database.yaml`).filter((f) => !f.includes(staging)), archivesFile, stateFile].sort());
    expect(git(origin, 'show', `${commit}:clusters/${production}/database.yaml`)).toBe('serverName: app-r42-1\n');
    expect(JSON.parse(git(origin, 'show', `${commit}:${stateFile}`))).toEqual({ [production]: { serving: production, since: '2026-12-05T01:00:00Z', runId: 'r42-1' } });
    expect(refOn(production)).toBe(commit);
    expect(refOn(dr)).toBe(commit);
    expect(refOn(staging)).toBe(first);
    expect(actions.summaries.at(-1)).toContain(`| ${dr} | \`deploy/${dr}\` | ➡️ moved to \`${commit.slice(0, 12)}\` |`);
  });

  it('refuses a patch that changes any other file: nothing committed, no ref moved', async () => {
    const patch = failbackPatch('r43-1', { 'README.md': 'changed by the failover job\n' });
    const { code } = await record(patch, [production]);
    expect(code).toBe(1);
    expect(console.error).toHaveBeenCalledWith(`pipeline record-failover: the failover patch changes README.md; it may only change ${stateFile}, ${archivesFile}: nothing committed`);
    expect(git(origin, 'rev-parse', 'main').trim()).toBe(first);
    expect(refOn(production)).toBe(first);
  });

  it('does nothing for an empty patch (a drill records nothing)', async () => {
    const patch = join(mkdtempSync(join(tmpdir(), 'pipeline-record-artifact-')), 'failover.patch');
    writeFileSync(patch, '');
    const { code, actions } = await record(patch, [dr]);
    expect(code).toBe(0);
    expect(git(origin, 'rev-parse', 'main').trim()).toBe(first);
    expect(refOn(dr)).toBe(first);
    expect(actions.summaries.at(-1)).toContain('Nothing recorded');
  });

  it('pushes the commit but holds a cluster whose deploy ref is on another line (exit 1, the other moves)', async () => {
    const patch = failbackPatch('r44-1');
    const side = clone(first);
    writeFiles(side, { 'README.md': 'off main\n' });
    git(side, 'commit', '--quiet', '-am', 'off main');
    git(side, 'push', '--quiet', 'origin', `HEAD:${deployRefOf(dr)}`);
    const sideways = git(side, 'rev-parse', 'HEAD').trim();
    const { code, actions } = await record(patch, [production, dr]);
    expect(code).toBe(1);
    const commit = git(origin, 'rev-parse', 'main').trim();
    expect(refOn(production)).toBe(commit);
    expect(refOn(dr)).toBe(sideways);
    expect(actions.summaries.at(-1)).toContain(`| ${dr} | \`deploy/${dr}\` | ❌ refused: ${deployRefOf(dr)} on origin names ${sideways.slice(0, 12)}`);
  });

  describe('manifests only after their infrastructure (issue #16): a merge the promotion kept from being applied', () => {
    /** Applied up to main's head; while dr served, a merge changed `file` (the pipeline refused the pair's applies). */
    function mergedDuringPromotion(file: string, applied: 'before' | 'after'): string {
      const merge = clone();
      writeFiles(merge, { [file]: `// changed while dr served\n` });
      git(merge, 'add', '--all');
      git(merge, 'commit', '--quiet', '-m', `change ${file}`);
      git(merge, 'push', '--quiet', 'origin', 'HEAD:main');
      const merged = git(merge, 'rev-parse', 'HEAD').trim();
      git(merge, 'push', '--quiet', '--force', 'origin', `${applied === 'before' ? `${merged}^` : merged}:refs/tags/applied/${platform.settings.github.mainBranch}`);
      return merged;
    }

    it('holds both clusters of the pair when production\'s definition changed and was never applied (exit 0: the state is recorded)', async () => {
      mergedDuringPromotion('packages/platform-config/src/clusters/production.ts', 'before');
      const applied = git(origin, 'rev-parse', `refs/tags/applied/${platform.settings.github.mainBranch}^{commit}`).trim();
      const { code, actions } = await record(failbackPatch('r45-1'), [production, dr]);
      expect(code).toBe(0);
      const commit = git(origin, 'rev-parse', 'main').trim();
      expect(git(origin, 'show', `${commit}:clusters/${production}/database.yaml`)).toBe('serverName: app-r45-1\n');
      expect(refOn(production)).toBe(first);
      expect(refOn(dr)).toBe(first);
      const stack = platform.namesOf(production).stack;
      expect(actions.summaries.at(-1)).toContain(`| ${production} | \`deploy/${production}\` | ⏸️ held (Flux stays where it is; keep its \`apps\` suspended until the apply's deploy job moves the ref): stack ${stack} changed after the applied commit ${applied.slice(0, 12)} (packages/platform-config/src/clusters/production.ts) and is not applied yet |`);
    });

    it.each([
      ['that change was applied', 'packages/platform-config/src/clusters/production.ts', 'after'],
      ['only another cluster\'s infrastructure changed', `packages/platform-config/src/clusters/${staging}.ts`, 'before'],
    ] as const)('moves them when %s', async (_, file, applied) => {
      mergedDuringPromotion(file, applied);
      expect((await record(failbackPatch('r46-1'), [production, dr])).code).toBe(0);
      const commit = git(origin, 'rev-parse', 'main').trim();
      expect([refOn(production), refOn(dr)]).toEqual([commit, commit]);
    });
  });
});
