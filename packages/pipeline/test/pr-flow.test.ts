import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { main } from '../src/cli/main';
import { clusterMarker, planMarker } from '../src/pull-request/comment';
import { readPlanDigest } from '../src/pull-request/plan-digest';
import { pipelinePaths } from '../src/io/paths';
import { summarizePlan, type PlanJson } from '../src/pull-request/plan-summary';
import { runPullRequestFlow, type PullRequestFlowResult } from '../src/pull-request/pr-flow';
import { PROTECTED_DESTROY_LABEL, UNBLOCK_HINT, protectedDestroyGate, protectedDestroys, protectedResourceRules } from '../src/apply/protected-resources';
import { offlineUnavailableReason, PROVIDER_MIRROR } from '../src/io/terraform';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github';
import { buildPullRequestRepo, type PullRequestRepo } from './support/pr-repo';
import { envOverride } from './support/env';

/**
 * The pull-request flow end to end, with real terraform (offline, provider mirror) in a
 * repository built here: a pull request that edits a cluster definition and its Flux
 * manifests, and a stack whose local state still holds a protected bucket head removed.
 * Then the apply path's protected-destroy gate on the same real plan.
 */

const unavailable = offlineUnavailableReason(PROVIDER_MIRROR);
if (unavailable) console.warn(`SKIPPED: pr-flow end-to-end tests: ${unavailable}`);

const platform = defaultPlatform();
const CLUSTER = 'production';
const names = platform.namesOf(CLUSTER);
// The real ha-check is reached through node_modules/.bin of the repository under test, which
// this small repository does not have; the hook stands in, and the test checks it is asked
// about the right cluster and that its report lands in the comment.
const HA_REPORT = `### ha-check: \`${CLUSTER}\` ✅ objectives met\n\nSurvives the loss of any one zone.`;

describe.skipIf(unavailable !== undefined)('pull-request flow on a real offline plan', () => {
  let pr: PullRequestRepo;
  let result: PullRequestFlowResult;
  let comment: string;
  let planText: string;
  const haCalls: string[] = [];
  const logs: string[] = [];

  beforeAll(() => {
    pr = buildPullRequestRepo(platform, CLUSTER, 'staging');
    result = runPullRequestFlow({
      paths: pipelinePaths(pr.repo),
      platform,
      base: 'main',
      mode: 'offline',
      haCheck: (cluster) => {
        haCalls.push(cluster);
        return { exitCode: 0, markdown: HA_REPORT };
      },
      log: (line) => logs.push(line),
    });
    comment = readFileSync(join(pipelinePaths(pr.repo).commentsDir, `${pr.stack}.md`), 'utf8');
    planText = readFileSync(join(pipelinePaths(pr.repo).plansDir, `${pr.stack}.txt`), 'utf8');
  }, 120_000);

  afterAll(() => {
    if (pr) rmSync(pr.repo, { recursive: true, force: true });
  });

  it('plans only the stack the changed definition selects, and asks ha-check about its cluster', () => {
    expect(result.changedFiles).toEqual([
      `clusters/${CLUSTER}/apps/web-service.yaml`,
      `clusters/${CLUSTER}/apps/web.yaml`,
      'clusters/staging/apps/web.yaml',
      `packages/platform-config/src/clusters/${CLUSTER}.ts`,
    ]);
    expect(result.stacks.map((s) => s.stack.stack)).toEqual([names.stack]);
    // staging's manifest changed with no stack of it: its own comment, its own ha-check. dr is
    // production's failover pair, whose stack this small repository does not synthesize.
    expect(result.clusters.map((c) => c.cluster)).toEqual([
      { cluster: 'staging', because: 'clusters/staging/apps/web.yaml' },
      { cluster: 'dr', because: `packages/platform-config/src/clusters/${CLUSTER}.ts` },
    ]);
    expect(haCalls).toEqual([CLUSTER, 'staging', 'dr']);
    expect(logs[0]).toBe(`changed files: 4; affected stacks: ${names.stack}; manifest-only clusters: staging, dr`);
  });

  it('writes the comment with the marker first and the counts of the real plan', () => {
    const lines = comment.split('\n');
    expect(lines[0]).toBe(planMarker(names.stack));
    // The digest the merge compares its own plan with (apply/plan-parity.ts): every changed resource of this plan.
    expect(readPlanDigest(lines[2])?.length).toBe(summarizePlan(JSON.parse(readFileSync(join(pipelinePaths(pr.repo).plansDir, `${names.stack}.json`), 'utf8'))).changes.length);
    expect(lines[4]).toBe(`### Terraform plan: \`${names.stack}\` (cluster \`${CLUSTER}\`)`);
    expect(comment).toContain(`> Offline plan against the local state \`apps/infra/cdktf.out/stacks/${names.stack}/terraform.tfstate\``);
    expect(comment).toContain('| to add | to change | to destroy |\n| ---: | ---: | ---: |\n| 3 | 1 | 2 |');
    expect(planText).toContain('Plan: 3 to add, 1 to change, 2 to destroy.');
  });

  it('calls out the destroy and the replacement above the counts, with the label that lets the apply go on', () => {
    const callOut = [
      '> [!CAUTION]',
      '> **1 to destroy, 1 to replace**',
      '> - **destroy** `aws_s3_bucket.etcd_backups` — 🛑 protected state or backup bucket',
      '> - **replace** `aws_kms_alias.kms_alias`',
      '>',
      `> Apply on merge stops here unless this pull request has the \`${PROTECTED_DESTROY_LABEL}\` label.`,
    ].join('\n');
    expect(comment).toContain(callOut);
    expect(comment.indexOf(callOut)).toBeLessThan(comment.indexOf('| to add |'));
    expect(comment.indexOf(callOut)).toBeLessThan(comment.indexOf('<details>'));
  });

  it('folds the full plan, the ha-check report and the Flux objects of this cluster only', () => {
    expect(comment).toContain(`<details><summary>Show plan (${planText.trimEnd().split('\n').length} lines)</summary>`);
    expect(comment).toContain('# (because aws_s3_bucket.etcd_backups is not in configuration)');
    expect(comment).not.toContain('✂️');
    expect(comment).toContain(`#### HA check: ✅ objectives met\n\n<details><summary>ha-check report for \`${CLUSTER}\`</summary>\n\n${HA_REPORT}\n\n</details>`);
    expect(comment).toContain(`#### Flux changes under \`${names.gitopsPath}/\`\n\n**1 added, 1 changed, 1 removed**`);
    expect(comment).toContain(
      [
        '| change | kind | namespace | name | fields |',
        '| --- | --- | --- | --- | --- |',
        '| removed | Deployment | apps | legacy-worker |  |',
        '| changed | ConfigMap | apps | web-config | data |',
        '| added | Service | apps | web |  |',
      ].join('\n'),
    );
    expect(comment).not.toContain('staging');
  });

  it('matches the recorded comment (commit normalized)', async () => {
    const normalized = comment.replaceAll(pr.head.slice(0, 12), '<commit>');
    expect(normalized).toContain('<sub>commit `<commit>` · full plan: artifact `plan-production-cluster`</sub>');
    await expect(normalized).toMatchFileSnapshot('__snapshots__/pr-flow.production-cluster.md');
  });

  it('writes the job summary: every stack, and the Flux changes of all clusters', () => {
    expect(readFileSync(result.summaryFile, 'utf8')).toBe(
      [
        '## Terraform plans',
        '',
        '4 files changed.',
        '',
        '| stack | add | change | destroy | protected destroys | ha-check |',
        '| --- | ---: | ---: | ---: | ---: | --- |',
        `| \`${names.stack}\` | 3 | 1 | 2 | 🛑 1 | ✅ |`,
        '',
        '## Manifest-only clusters',
        '',
        'No stack of these clusters is affected; each has its own comment with the ha-check report and the Flux diff.',
        '',
        '| cluster | added | changed | removed | ha-check |',
        '| --- | ---: | ---: | ---: | --- |',
        '| `staging` | 0 | 1 | 0 | ✅ |',
        '| `dr` | 0 | 0 | 0 | ✅ |',
        '',
        '## Flux changes under clusters/',
        '',
        '1 added, 2 changed, 1 removed objects.',
        '',
      ].join('\n'),
    );
  });

  it('writes result.json for scripts', () => {
    const paths = pipelinePaths(pr.repo);
    expect(JSON.parse(readFileSync(join(paths.outDir, 'result.json'), 'utf8'))).toEqual({
      base: 'main',
      mergeBase: pr.base,
      commit: pr.head,
      stacks: [{ stack: names.stack, cluster: CLUSTER, add: 3, change: 1, destroy: 2, protectedDestroys: 1, haCheckExit: 0, comment: join(paths.commentsDir, `${names.stack}.md`) }],
      clusters: [
        { cluster: 'staging', added: 0, changed: 1, removed: 0, haCheckExit: 0, comment: join(paths.commentsDir, 'cluster-staging.md') },
        { cluster: 'dr', added: 0, changed: 0, removed: 0, haCheckExit: 0, comment: join(paths.commentsDir, 'cluster-dr.md') },
      ],
    });
  });

  it('truncates the plan with a note when the comment limit is small, keeping the call-out, counts and objects', () => {
    const limit = 3_000;
    const paths = pipelinePaths(pr.repo, join(pr.repo, 'dist', 'pipeline-small'));
    runPullRequestFlow({ paths, platform, base: 'main', mode: 'offline', haCheck: () => ({ exitCode: 0, markdown: HA_REPORT }), commentLimit: limit });
    const small = readFileSync(join(paths.commentsDir, `${names.stack}.md`), 'utf8');
    const total = planText.trimEnd().split('\n').length;
    expect(small.length).toBeLessThanOrEqual(limit);
    expect(small).toMatch(
      new RegExp(`> ✂️ Plan truncated to fit GitHub's comment limit: \\d+ of ${total} lines shown\\. The full plan is in the workflow artifact \`plan-${names.stack}\`\\.`),
    );
    expect(small).toContain('> - **destroy** `aws_s3_bucket.etcd_backups` — 🛑 protected state or backup bucket');
    expect(small).toContain('| 3 | 1 | 2 |');
    expect(small).toContain('| removed | Deployment | apps | legacy-worker |  |');
    // Same plan, same head: only the plan section differs from the full comment.
    const head = (text: string) => text.slice(0, text.indexOf('<details><summary>Show plan'));
    expect(head(small)).toBe(head(comment));
  }, 120_000);

  describe('protected-destroy gate on the real plan JSON', () => {
    const rules = protectedResourceRules(platform);
    const realPlan = () => JSON.parse(readFileSync(join(pipelinePaths(pr.repo).plansDir, `${names.stack}.json`), 'utf8')) as PlanJson;

    it('finds the destroyed backup bucket (named in the prior state) and nothing else', () => {
      const destroys = protectedDestroys(summarizePlan(realPlan()), rules);
      expect(destroys).toEqual([{ address: 'aws_s3_bucket.etcd_backups', kind: 'delete', why: 'state or backup bucket' }]);
      expect(protectedDestroyGate(destroys, ['enhancement'], names.stack)).toEqual({
        allowed: false,
        destroys,
        message: `${names.stack}: the plan destroys protected resources and no pull request merged since the last apply has the "${PROTECTED_DESTROY_LABEL}" label; apply stopped:\n  - aws_s3_bucket.etcd_backups (delete: state or backup bucket)\n${UNBLOCK_HINT}`,
      });
      expect(protectedDestroyGate(destroys, ['enhancement', PROTECTED_DESTROY_LABEL], names.stack).allowed).toBe(true);
    });

    describe('pipeline:apply --dry-run (plans again, asks GitHub for the labels of the merged PR)', () => {
      let gh: FakeGitHub;
      let summaryFile: string;
      const saved = envOverride();
      const env = (): Record<string, string> => ({ GITHUB_TOKEN: 't0ken', GITHUB_REPOSITORY: `${platform.settings.github.owner}/${platform.settings.github.repository}`, GITHUB_API_URL: gh.url, GITHUB_STEP_SUMMARY: summaryFile });

      beforeAll(async () => {
        gh = await startFakeGitHub(`${platform.settings.github.owner}/${platform.settings.github.repository}`);
        summaryFile = join(mkdtempSync(join(tmpdir(), 'pipeline-summary-')), 'summary.md');
        saved.set(env());
      });
      afterAll(async () => {
        saved.restore();
        await gh?.close();
      });

      it('stops (exit 1) when the pull request has no override label, and says why in the job summary', async () => {
        writeFileSync(summaryFile, '');
        gh.commitPulls.set(pr.head, [{ number: 42, labels: [{ name: 'enhancement' }], merged_at: '2026-01-01T00:00:00Z' }]);
        expect(await main(['apply', '--stack', names.stack, '--dry-run', '--sha', pr.head], pr.repo)).toBe(1);
        // No applied tag on the stand-in: only the merged pull request of --sha is asked.
        expect(gh.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
          `GET /repos/${process.env.GITHUB_REPOSITORY}/git/ref/tags/applied/${platform.settings.github.mainBranch}`,
          `GET /repos/${process.env.GITHUB_REPOSITORY}/commits/${pr.head}/pulls`,
        ]);
        expect(readFileSync(summaryFile, 'utf8')).toContain(`has the "${PROTECTED_DESTROY_LABEL}" label; apply stopped:\n  - aws_s3_bucket.etcd_backups (delete: state or backup bucket)\n${UNBLOCK_HINT}`);
      }, 120_000);

      it('goes on (exit 0) when the pull request carries the label', async () => {
        writeFileSync(summaryFile, '');
        gh.commitPulls.set(pr.head, [{ number: 42, labels: [{ name: PROTECTED_DESTROY_LABEL }], merged_at: '2026-01-01T00:00:00Z' }]);
        expect(await main(['apply', '--stack', names.stack, '--dry-run', '--sha', pr.head], pr.repo)).toBe(0);
        expect(readFileSync(summaryFile, 'utf8')).toContain(`destroying protected resources, allowed by the "${PROTECTED_DESTROY_LABEL}" label:\n  - aws_s3_bucket.etcd_backups`);
      }, 120_000);
    });
  });

  describe('pipeline:pr without --post (a fork: no token may comment)', () => {
    let summaryFile: string;
    let code: number;
    const saved = process.env.GITHUB_STEP_SUMMARY;

    beforeAll(async () => {
      summaryFile = join(mkdtempSync(join(tmpdir(), 'pipeline-summary-')), 'summary.md');
      writeFileSync(summaryFile, '');
      process.env.GITHUB_STEP_SUMMARY = summaryFile;
      const quiet = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      code = await main(['pr', '--base', 'main', '--mode', 'offline', '--no-synth'], pr.repo);
      quiet.mockRestore();
    }, 120_000);
    afterAll(() => {
      if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY;
      else process.env.GITHUB_STEP_SUMMARY = saved;
    });

    it('writes the job summary table, then the comment of every stack into the job summary', () => {
      const written = readFileSync(summaryFile, 'utf8');
      const fresh = readFileSync(join(pipelinePaths(pr.repo).commentsDir, `${names.stack}.md`), 'utf8');
      expect(code).toBe(0);
      expect(written.startsWith('## Terraform plans\n')).toBe(true);
      expect(written).toContain(`| \`${names.stack}\` | 3 | 1 | 2 | 🛑 1 |`);
      const staging = readFileSync(join(pipelinePaths(pr.repo).commentsDir, 'cluster-staging.md'), 'utf8');
      const dr = readFileSync(join(pipelinePaths(pr.repo).commentsDir, 'cluster-dr.md'), 'utf8');
      expect(written.endsWith(`${fresh}\n${staging}\n${dr}\n`)).toBe(true);
      expect(staging.startsWith(clusterMarker('staging'))).toBe(true);
      expect(fresh.startsWith(planMarker(names.stack))).toBe(true);
      expect(written.indexOf('## Terraform plans')).toBeLessThan(written.indexOf(planMarker(names.stack)));
    });
  });
});
