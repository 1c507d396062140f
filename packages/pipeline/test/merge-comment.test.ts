import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { appliedRef } from '../src/apply/applied-ref';
import { mergeMarker } from '../src/apply/merge-report';
import { applyApprovedCommand } from '../src/cli/commands/apply-approved';
import { promotedStandbyGuard } from '../src/apply/promoted-standby';
import { fakeSsm } from './support/fake-ssm';
import { planApprovedCommand } from '../src/cli/commands/plan-approved';
import { main } from '../src/cli/main';
import { GitHubClient } from '../src/io/github';
import { pipelinePaths } from '../src/io/paths';
import { preferredStackOrder } from '../src/pull-request/affected-stacks';
import { planMarker } from '../src/pull-request/comment';
import { planDigest, planDigestComment } from '../src/pull-request/plan-digest';
import { summarizePlan, type PlanJson } from '../src/pull-request/plan-summary';
import { recordingActions } from './support/actions';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github';
import { fakeKms } from './support/fake-kms';
import { git, tempRepo, writeFiles } from './support/git';
import { change } from './support/plans';
import { realPlatform } from './support/real-platform';
import { statefulTerraform } from './support/stateful-terraform';

/**
 * The merge's three jobs through the CLI: plan-approved (the comment says waiting for
 * approval, with the difference from each PR's plan), apply-approved, report-apply (the
 * same comment rewritten with the result), on every pull request the merge included: the
 * applied tag is two merges behind, so #12 and #13 both get it.
 */

const platform = defaultPlatform();
const repository = `${platform.settings.github.owner}/${platform.settings.github.repository}`;
const order = preferredStackOrder(platform);
const [identity, dr] = order;
const RUN = 'https://github.com/o/r/actions/runs/77';
const MERGED = '2026-01-01T00:00:00Z';

const drPlan: PlanJson = { format_version: '1.2', resource_changes: [change('aws_autoscaling_group', 'workers', ['update']), change('aws_kms_key', 'extra', ['create'])] };
const prPlanOfDr: PlanJson = { format_version: '1.2', resource_changes: [change('aws_autoscaling_group', 'workers', ['update'])] };

describe('the merge comment on every included pull request', () => {
  let gh: FakeGitHub;
  let repo: string;
  let sha: string;
  let artifact: string;
  const kms = fakeKms({ 'merge-plan': ['GenerateDataKey'], apply: ['Decrypt'] });
  const tf = statefulTerraform({ [dr]: drPlan, [identity]: { format_version: '1.2', resource_changes: [] } });

  beforeAll(async () => {
    repo = tempRepo({ 'README.md': 'v0\n' }, 'pipeline-merge-comment-');
    git(repo, 'tag', appliedRef(platform).replace('refs/tags/', ''));
    const shas: string[] = [];
    for (const i of [1, 2]) {
      writeFiles(repo, { 'README.md': `v${i}\n` });
      git(repo, 'commit', '--quiet', '-am', `merge ${i}`);
      shas.push(git(repo, 'rev-parse', 'HEAD').trim());
    }
    sha = shas[1];
    gh = await startFakeGitHub(repository, { git: repo });
    gh.commitPulls.set(shas[0], [{ number: 12, labels: [], merged_at: MERGED }]);
    gh.commitPulls.set(shas[1], [{ number: 13, labels: [], merged_at: MERGED }]);
    // #12 showed a plan of dr (digest in its comment); #13 touched no stack.
    gh.comments.set(12, [{ id: 900, body: `${planMarker(dr)}\n${planDigestComment(planDigest(summarizePlan(prPlanOfDr)))}\n### Terraform plan`, user: { login: 'github-actions[bot]' } }]);
    const paths = pipelinePaths(repo);
    mkdirSync(paths.stacksDir, { recursive: true });
    writeFileSync(join(paths.infraOut, 'manifest.json'), JSON.stringify({ stacks: Object.fromEntries(order.map((s) => [s, { dependencies: [] }])) }));
    for (const s of order) mkdirSync(join(paths.stacksDir, s), { recursive: true });
    artifact = mkdtempSync(join(tmpdir(), 'pipeline-artifact-'));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await gh?.close();
  });

  const actions = () => recordingActions({ github: new GitHubClient({ token: 't0ken', repository, baseUrl: gh.url }), runUrl: RUN });
  const commands = {
    'plan-approved': planApprovedCommand({ keys: kms.as('merge-plan'), runner: tf.runner }),
    'apply-approved': applyApprovedCommand({ keys: kms.as('apply'), runner: tf.runner, beforeStack: promotedStandbyGuard(platform, () => undefined, fakeSsm(undefined)) }),
  } as never;
  const comment = (pull: number) => (gh.comments.get(pull) ?? []).filter((c) => c.body.startsWith(mergeMarker(sha)));

  it('says what waits for approval and how it differs from the pull request\'s plan', async () => {
    const a = actions();
    expect(await main(['plan-approved', '--stacks', JSON.stringify([identity, dr]), '--sha', sha, '--out', artifact], repo, platform, { actions: a, commands })).toBe(0);
    expect(a.outputs.apply).toBe('true');
    for (const pull of [12, 13]) expect(comment(pull)).toHaveLength(1);
    const body = comment(13)[0].body;
    expect(body).toContain('**0 applied, 0 failed, 2 waiting for approval, 0 not applied**');
    expect(body).toContain(`| \`${dr}\` | ⏳ waiting for approval | 1 | 1 | 0 |`);
    expect(body).toContain('| `aws_kms_key.extra` | only at merge |  | create |');
    expect(body).toContain('This plan differs from the last plan of #12');
    expect(body).toContain(`[workflow run](${RUN})`);
    expect(a.summaries.join('\n')).toContain(mergeMarker(sha));
  });

  it('rewrites the same comment with the result once applied, on both pull requests', async () => {
    expect(await main(['apply-approved', '--dir', artifact, '--sha', sha], repo, realPlatform(), { actions: actions(), commands })).toBe(0);
    expect(tf.applied.map((x) => x.stack)).toEqual([dr]);
    expect(await main(['report-apply', '--dir', artifact, '--sha', sha, '--outcome', 'success'], repo, platform, { actions: actions() })).toBe(0);
    for (const pull of [12, 13]) {
      const [c] = comment(pull);
      expect(comment(pull)).toHaveLength(1);
      expect(c.body).toContain('**2 applied, 0 failed, 0 waiting for approval, 0 not applied**');
      expect(c.body).toContain(`| \`${dr}\` | ✅ applied | 1 | 1 | 0 |`);
      expect(c.body).toContain(`| \`${identity}\` | ✅ no changes |`);
    }
  });

  it('says "not applied" with the reason when the approval was rejected', async () => {
    const rejected = mkdtempSync(join(tmpdir(), 'pipeline-artifact-'));
    expect(await main(['plan-approved', '--stacks', JSON.stringify([dr]), '--sha', sha, '--out', rejected], repo, platform, { actions: actions(), commands })).toBe(0);
    expect(await main(['report-apply', '--dir', rejected, '--sha', sha, '--outcome', 'cancelled'], repo, platform, { actions: actions() })).toBe(0);
    const [c] = comment(12);
    expect(c.body).toContain(`| \`${dr}\` | ⏭️ not applied | 1 | 1 | 0 |`);
    expect(c.body).toContain('not applied; the apply job was cancelled or its approval was rejected.');
  });
});
