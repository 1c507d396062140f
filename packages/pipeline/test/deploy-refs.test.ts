import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deployRefOf } from '@platform/platform-config';
import { applyApprovedCommand } from '../src/cli/commands/apply-approved';
import { promotedStandbyGuard } from '../src/apply/promoted-standby';
import { fakeSsm } from './support/fake-ssm';
import { planApprovedCommand } from '../src/cli/commands/plan-approved';
import { main } from '../src/cli/main';
import { preferredStackOrder } from '../src/pull-request/affected-stacks';
import type { PlanJson } from '../src/pull-request/plan-summary';
import { recordingActions } from './support/actions';
import { fakeKms } from './support/fake-kms';
import { git, tempRepo, writeFiles } from './support/git';
import { change } from './support/plans';
import { realPlatform } from './support/real-platform';
import { statefulTerraform } from './support/stateful-terraform';
import { mkdirSync, writeFileSync } from 'node:fs';
import { pipelinePaths } from '../src/io/paths';

/**
 * The deploy refs Flux follows, on a real bare origin and a fresh clone per run (as the
 * deploy job checks out), after the merge's plan and apply commands ran with the pipeline's
 * own fakes (KMS, a terraform with saved-plan semantics): a cluster moves only once its
 * touched stack applied, at once when none of its stacks changed, and is held on a failure
 * or a missing approval.
 */

const platform = realPlatform();
const order = preferredStackOrder(platform);
const stackOf = (c: string) => platform.namesOf(c).stack;
const [production, staging, dr] = ['production', 'staging', 'dr'];
const change1: PlanJson = { format_version: '1.2', resource_changes: [change('aws_autoscaling_group', 'workers', ['update'])] };

let origin: string;
let first: string;

function clone(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-deploy-run-'));
  git(dir, 'clone', '--quiet', origin, '.');
  const paths = pipelinePaths(dir);
  mkdirSync(paths.stacksDir, { recursive: true });
  writeFileSync(join(paths.infraOut, 'manifest.json'), JSON.stringify({ stacks: Object.fromEntries(order.map((s) => [s, { dependencies: [] }])) }));
  for (const s of order) mkdirSync(join(paths.stacksDir, s), { recursive: true });
  return dir;
}

/** A merge on origin's main; returns its sha. */
function merge(n: number): string {
  const work = clone();
  writeFiles(work, { [`clusters/change-${n}.yaml`]: `n: ${n}\n` });
  git(work, 'add', '--all');
  git(work, 'commit', '--quiet', '-m', `merge ${n}`);
  git(work, 'push', '--quiet', 'origin', 'HEAD:main');
  return git(work, 'rev-parse', 'HEAD').trim();
}

const refOn = (cluster: string) => git(origin, 'rev-parse', '--verify', '--quiet', deployRefOf(cluster)).trim();

/** The merge's jobs: plan-approved, then (approved) apply-approved, then deploy-refs. */
async function runMerge(sha: string, plans: Record<string, PlanJson>, opts: { approved: boolean; failApply?: string }) {
  const tf = statefulTerraform(plans);
  if (opts.failApply) {
    const inner = tf.runner;
    tf.runner = ((args, cwd, env) => (args[0] === 'apply' && cwd.endsWith(opts.failApply as string) ? { code: 1, stdout: '', stderr: 'Error: creating Auto Scaling Group: ValidationError\n' } : inner(args, cwd, env))) as typeof tf.runner;
  }
  const kms = fakeKms({ 'merge-plan': ['GenerateDataKey'], apply: ['Decrypt'] });
  const dir = clone();
  git(dir, 'checkout', '--quiet', sha);
  const artifact = mkdtempSync(join(tmpdir(), 'pipeline-deploy-artifact-'));
  const touched = JSON.stringify(Object.keys(plans));
  const commands = { 'plan-approved': planApprovedCommand({ keys: kms.as('merge-plan'), runner: tf.runner }), 'apply-approved': applyApprovedCommand({ keys: kms.as('apply'), runner: tf.runner, beforeStack: promotedStandbyGuard(platform, () => undefined, fakeSsm(undefined)) }) } as never;
  const actions = recordingActions();
  let outcome = 'skipped';
  if (Object.keys(plans).length > 0) {
    expect(await main(['plan-approved', '--stacks', touched, '--sha', sha, '--out', artifact], dir, platform, { actions, commands })).toBe(0);
    if (opts.approved) outcome = (await main(['apply-approved', '--dir', artifact, '--sha', sha], dir, platform, { actions, commands })) === 0 ? 'success' : 'failure';
    else outcome = 'cancelled';
  }
  const deployer = clone();
  expect(await main(['deploy-refs', '--sha', sha, '--stacks', touched, '--dir', artifact, '--outcome', outcome], deployer, platform, { actions })).toBe(0);
  return { actions, tf };
}

beforeEach(() => {
  const seed = tempRepo({ 'README.md': 'seed\n' }, 'pipeline-deploy-seed-');
  origin = mkdtempSync(join(tmpdir(), 'pipeline-deploy-origin-'));
  git(origin, 'clone', '--quiet', '--bare', seed, '.');
  first = git(origin, 'rev-parse', 'main').trim();
  // Every cluster starts on the first commit.
  const start = clone();
  for (const c of platform.clusters) git(start, 'push', '--quiet', 'origin', `${first}:${deployRefOf(c.name)}`);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(() => vi.restoreAllMocks());

describe('deploy refs after a merge', () => {
  it('moves a cluster only after its stack applied, and the clusters the merge did not touch at once', async () => {
    const sha = merge(1);
    const { actions, tf } = await runMerge(sha, { [stackOf(production)]: change1 }, { approved: true });
    expect(tf.applied.map((a) => a.stack)).toEqual([stackOf(production)]);
    for (const c of [production, staging, dr]) expect(refOn(c), c).toBe(sha);
    expect(actions.summaries.join('\n')).toContain(`| ${production} | \`deploy/${production}\` | ➡️ moved to \`${sha.slice(0, 12)}\` | \`${stackOf(production)}\` applied |`);
  });

  it('holds the cluster whose apply failed on its last good commit; the others move', async () => {
    const sha = merge(2);
    const { actions } = await runMerge(sha, { [stackOf(staging)]: change1 }, { approved: true, failApply: stackOf(staging) });
    expect(refOn(staging)).toBe(first);
    expect(refOn(production)).toBe(sha);
    expect(actions.summaries.join('\n')).toContain(`| ${staging} | \`deploy/${staging}\` | ⏸️ held | \`${stackOf(staging)}\` failed: held on the last commit whose infrastructure is applied |`);
  });

  it('holds the cluster while its apply was never approved (rejected or cancelled)', async () => {
    const sha = merge(3);
    await runMerge(sha, { [stackOf(dr)]: change1 }, { approved: false });
    expect(refOn(dr)).toBe(first);
    expect(refOn(production)).toBe(sha);
  });

  it('moves every cluster at once for a manifest-only commit (no stack touched, no apply)', async () => {
    const sha = merge(4);
    const { tf } = await runMerge(sha, {}, { approved: false });
    expect(tf.applied).toEqual([]);
    for (const c of platform.clusters) expect(refOn(c.name)).toBe(sha);
  });

  it('never moves a ref backwards, and moves named clusters by hand (failover)', async () => {
    const older = merge(5);
    const newer = merge(6);
    const deployer = clone();
    const actions = recordingActions();
    expect(await main(['deploy-refs', '--sha', newer, '--cluster', dr], deployer, platform, { actions })).toBe(0);
    expect(refOn(dr)).toBe(newer);
    expect(await main(['deploy-refs', '--sha', older, '--cluster', dr], clone(), platform, { actions })).toBe(0);
    expect(refOn(dr)).toBe(newer);
    expect(refOn(production)).toBe(first);
    expect(actions.summaries.at(-1)).toContain('kept on a later commit');
  });

  it('never moves a ref sideways: a ref on a commit the target does not include is refused and left', async () => {
    const onMain = merge(8);
    // A commit off main's line (e.g. the failover tool's state commit pushed to the ref by hand).
    const side = clone();
    git(side, 'checkout', '--quiet', '--detach', first);
    writeFiles(side, { 'clusters/hotfix.yaml': 'hotfix: true\n' });
    git(side, 'add', '--all');
    git(side, 'commit', '--quiet', '-m', 'hotfix off main');
    const sideways = git(side, 'rev-parse', 'HEAD').trim();
    git(side, 'push', '--quiet', 'origin', `${sideways}:${deployRefOf(dr)}`);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const actions = recordingActions();
    expect(await main(['deploy-refs', '--sha', onMain, '--cluster', dr, '--cluster', staging], clone(), platform, { actions })).toBe(1);
    expect(console.error).toHaveBeenCalledWith(`pipeline deploy-refs: ${deployRefOf(dr)} on origin names ${sideways.slice(0, 12)}, which ${onMain.slice(0, 12)} does not include: refusing to move it sideways (docs/runbooks/deploy-refs.md, "Moving a ref by hand")`);
    expect(refOn(dr)).toBe(sideways);
    // The refusal holds that cluster only.
    expect(refOn(staging)).toBe(onMain);
    expect(actions.summaries.at(-1)).toContain(`| ${dr} | \`deploy/${dr}\` | ➡️ refused (see the log) |`);
    // Once main includes that commit, the ref moves forward to main again.
    git(side, 'fetch', '--quiet', 'origin', 'main');
    git(side, 'merge', '--quiet', '--no-edit', 'FETCH_HEAD');
    git(side, 'push', '--quiet', 'origin', 'HEAD:main');
    const merged = git(side, 'rev-parse', 'HEAD').trim();
    expect(await main(['deploy-refs', '--sha', merged, '--cluster', dr], clone(), platform, { actions: recordingActions() })).toBe(0);
    expect(refOn(dr)).toBe(merged);
  });

  it('moves the untouched clusters before any approval, and leaves the touched one for after its apply', async () => {
    const sha = merge(7);
    const actions = recordingActions();
    expect(await main(['deploy-refs', '--sha', sha, '--stacks', JSON.stringify([stackOf(production)]), '--untouched-only'], clone(), platform, { actions })).toBe(0);
    expect(refOn(production)).toBe(first);
    expect(refOn(staging)).toBe(sha);
    expect(refOn(dr)).toBe(sha);
    expect(actions.summaries.at(-1)).toContain(`| ${production} | \`deploy/${production}\` | ⏳ after the apply | \`${stackOf(production)}\` changed: decided after its apply |`);
  });
});
