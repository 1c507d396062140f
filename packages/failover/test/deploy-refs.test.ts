import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { Commands } from '../src/commands';
import { GitCli } from '../src/git-port';
import { parseOptions } from '../src/options';
import type { StepContext } from '../src/step';
import { DeployRefs } from '../src/steps/serving-state';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

/** A bare "origin" with main and deploy/dr, and a clone whose work tree the failover run writes into. */
function repos(): { origin: string; work: string; base: string } {
  const root = mkdtempSync(join(tmpdir(), 'failover-git-'));
  const origin = join(root, 'origin.git');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', origin]);
  const work = join(root, 'work');
  execFileSync('git', ['clone', '--quiet', origin, work]);
  writeFileSync(join(work, 'README'), 'x\n');
  git(work, 'add', 'README');
  git(work, 'commit', '--quiet', '-m', 'base');
  git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main', 'HEAD:refs/heads/deploy/dr', 'HEAD:refs/heads/deploy/production');
  for (const k of ['user.name', 'user.email']) git(work, 'config', k, 't@example.com');
  return { origin, work, base: git(work, 'rev-parse', 'HEAD') };
}

function context(work: string, withGit: boolean, notes: string[]): StepContext {
  const platform = defaultPlatform();
  const options = parseOptions(['promote', '--standby', 'dr', '--run-id', 'r1'], work);
  const file = join(work, 'failover-state.json');
  writeFileSync(file, '{"production":{"serving":"dr","since":"2026-01-01T12:00:00Z","runId":"r1"}}\n');
  return {
    platform,
    primary: platform.cluster('production'),
    standby: platform.cluster('dr'),
    options,
    cli: new Commands({ dryRun: false }),
    ...(withGit ? { git: new GitCli({ repo: work }) } : {}),
    facts: { changedFiles: [file] },
    namesOf: (c) => platform.namesOf(c),
    note: (t) => notes.push(t),
    sleep: async () => undefined,
    now: () => 0,
    clock: () => new Date('2026-01-01T12:00:00Z'),
  };
}

const step = new DeployRefs({ clusters: (ctx) => [ctx.standby], message: () => 'failover: dr serves for production (run r1)', resumeFlux: false });
const remote = (origin: string, ref: string) => git(origin, 'rev-parse', ref);

describe('deploy-refs (issue #16): the promoted cluster follows the commit that records the promotion', () => {
  it('commits the state file, publishes it on main and moves deploy/dr to it (real git, no force)', async () => {
    const { origin, work, base } = repos();
    const notes: string[] = [];
    const ctx = context(work, true, notes);
    await step.run(ctx);
    const sha = ctx.facts.stateCommit!;
    expect(sha).not.toBe(base);
    expect(git(work, 'show', '--name-only', '--format=%s', sha).split('\n')).toEqual(['failover: dr serves for production (run r1)', '', 'failover-state.json']);
    expect(remote(origin, 'refs/heads/main')).toBe(sha);
    expect(remote(origin, 'refs/heads/deploy/dr')).toBe(sha);
    // Only the promoted cluster's ref moves.
    expect(remote(origin, 'refs/heads/deploy/production')).toBe(base);
    expect(notes).toContain(`deploy/dr: moved to ${sha.slice(0, 12)}`);
    expect(notes.some((n) => n.includes('stays suspended there until fail-back'))).toBe(true);
  });

  it('leaves deploy/dr on a later commit that already includes the state commit', async () => {
    const { origin, work } = repos();
    const notes: string[] = [];
    const ctx = context(work, true, notes);
    // A later commit on top of the state commit reached deploy/dr first (e.g. the pipeline's next merge).
    await step.run(ctx);
    const sha = ctx.facts.stateCommit!;
    writeFileSync(join(work, 'later'), 'y\n');
    git(work, 'add', 'later');
    git(work, 'commit', '--quiet', '-m', 'later');
    git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/deploy/dr');
    const later = git(work, 'rev-parse', 'HEAD');
    await expect(new GitCli({ repo: work }).moveDeployRef('dr', sha)).resolves.toBe('kept');
    expect(remote(origin, 'refs/heads/deploy/dr')).toBe(later);
  });

  it('refuses to move deploy/dr sideways to a commit that does not include where it is', async () => {
    const { origin, work, base } = repos();
    // deploy/dr moved meanwhile to a commit the run's checkout does not have.
    writeFileSync(join(work, 'elsewhere'), 'z\n');
    git(work, 'add', 'elsewhere');
    git(work, 'commit', '--quiet', '-m', 'elsewhere');
    git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/deploy/dr');
    const elsewhere = git(work, 'rev-parse', 'HEAD');
    git(work, 'reset', '--quiet', '--hard', base);
    const ctx = context(work, true, []);
    const error = await step.run(ctx).then(() => undefined, (e: Error) => e);
    expect(error?.message).toBe(
      `refs/heads/deploy/dr on origin names ${elsewhere.slice(0, 12)}, which ${ctx.facts.stateCommit!.slice(0, 12)} does not include: refusing to move it sideways (rebase the state commit onto it, or move it by hand: docs/runbooks/deploy-refs.md)`,
    );
    expect(remote(origin, 'refs/heads/deploy/dr')).toBe(elsewhere);
  });

  it('without a GitPort prints the exact commands, relative to the repository', async () => {
    const { origin, work, base } = repos();
    const notes: string[] = [];
    await step.run(context(work, false, notes));
    expect(notes).toEqual([
      "no --git mode: commit with: git add -- failover-state.json && git commit -m 'failover: dr serves for production (run r1)' -- failover-state.json",
      "then publish it: git push origin HEAD:main (or a pull request; the deploy ref needs a commit the pipeline's later moves descend from)",
      'then: npx tsx packages/pipeline/src/cli/main.ts deploy-refs --sha "$(git rev-parse HEAD)" --cluster dr   # moves deploy/dr',
      'then resume Flux on dr: no — Flux apps stays suspended there until fail-back (Git still renders its database as a replica)',
    ]);
    expect(remote(origin, 'refs/heads/deploy/dr')).toBe(base);
  });
});
