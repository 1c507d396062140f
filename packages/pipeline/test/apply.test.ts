import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { preferredStackOrder } from '../src/pull-request/affected-stacks';
import { applyOrder, applyStacks, renderApplySummary, type ApplyStacksOptions } from '../src/apply/apply';
import { EXAMPLE_PLATFORM_REFUSAL } from '../src/apply/example-platform';
import { main } from '../src/cli/main';
import { pipelinePaths } from '../src/io/paths';
import type { PlanJson } from '../src/pull-request/plan-summary';
import { PROTECTED_DESTROY_LABEL, protectedResourceRules } from '../src/apply/protected-resources';
import type { TerraformRunner } from '../src/io/terraform';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github';
import { fakeTerraform, type FakeTerraform } from './support/fake-terraform';
import { change, FIXTURES, recordedPlan } from './support/plans';
import { envOverride } from './support/env';
import { tempRepo } from './support/git';
import { realPlatform } from './support/real-platform';

/**
 * pipeline:apply over several stacks, as the apply workflow's one job runs it: dependency
 * order owned by the script, a plan, the gate and an apply of that same plan per stack, and
 * the first failure stopping the stacks after it.
 */

const platform = defaultPlatform();
const rules = protectedResourceRules(platform);
const order = preferredStackOrder(platform);
const [identity, dr, staging, production] = order;

// ci-identity: 6 creates; dr: one create; staging: no changes; production: destroys the state
// bucket and replaces a KMS key and a control-plane ASG (all protected), deletes a scratch bucket.
const PLANS: Record<string, PlanJson> = {
  [identity]: recordedPlan(),
  [dr]: { format_version: '1.2', resource_changes: [change('aws_s3_bucket', 'scratch', ['create'])] },
  [staging]: { format_version: '1.2', resource_changes: [] },
  [production]: JSON.parse(readFileSync(join(FIXTURES, 'protected-destroy.plan.json'), 'utf8')) as PlanJson,
};

/** A TerraformRunner serving PLANS by the stack folder it runs in; `fail` lists `<stack>:<command>` calls that exit 1. */
function recorder(fail: readonly string[] = []): { runner: TerraformRunner; calls: string[] } {
  const calls: string[] = [];
  const runner: TerraformRunner = (args, cwd) => {
    const stack = basename(cwd);
    calls.push(`${stack} ${args[0] === 'apply' ? `apply ${args.at(-1)}` : args[0]}`);
    if (fail.includes(`${stack}:${args[0]}`)) return { code: 1, stdout: '', stderr: `Error: ${args[0]} of ${stack} broke` };
    const plan = PLANS[stack];
    if (args[0] === 'plan') return { code: (plan.resource_changes ?? []).length > 0 ? 2 : 0, stdout: '\nPlan: …\n', stderr: '' };
    if (args[0] === 'show') return { code: 0, stdout: JSON.stringify(plan), stderr: '' };
    return { code: 0, stdout: args[0] === 'apply' ? 'Apply complete!\n' : '', stderr: '' };
  };
  return { runner, calls };
}

function options(runner: TerraformRunner, stacks: readonly string[], labels: readonly string[] = [], extra: Partial<ApplyStacksOptions> = {}): ApplyStacksOptions & { asked: () => number } {
  let asked = 0;
  return {
    stacks,
    order,
    stacksDir: '/nonexistent/cdktf.out/stacks',
    rules,
    labels: async () => {
      asked += 1;
      return labels;
    },
    runner,
    echo: () => undefined,
    asked: () => asked,
    ...extra,
  };
}

const cycle = (stack: string) => [`${stack} init`, `${stack} plan`, `${stack} show`];

describe('applyOrder', () => {
  it('puts the requested stacks in dependency order and drops repeats', () => {
    expect(applyOrder([production, identity, staging, identity], order)).toEqual([identity, staging, production]);
  });

  it('rejects a stack that is not synthesized, naming it and the stacks there are', () => {
    expect(() => applyOrder([identity, 'prod-cluster'], order)).toThrow(`stacks ["prod-cluster"] are not synthesized stacks; expected some of ${order.join(', ')}`);
  });
});

describe('applyStacks', () => {
  it('plans, gates and applies one stack after another in dependency order, whatever order they are asked in', async () => {
    const { runner, calls } = recorder();
    const opts = options(runner, [staging, dr, identity]);
    const result = await applyStacks(opts);
    // Each apply runs in the folder its plan was written to, on that plan file; staging has nothing to apply.
    expect(calls).toEqual([...cycle(identity), `${identity} apply tfplan`, ...cycle(dr), `${dr} apply tfplan`, ...cycle(staging)]);
    expect(result.ok).toBe(true);
    expect(result.results.map((r) => [r.stack, r.status])).toEqual([
      [identity, 'applied'],
      [dr, 'applied'],
      [staging, 'no-changes'],
    ]);
    // No protected destroy: GitHub is not asked for labels.
    expect(opts.asked()).toBe(0);
  });

  it('stops at the first failed apply and reports every stack after it as not applied', async () => {
    const { runner, calls } = recorder([`${dr}:apply`]);
    const result = await applyStacks(options(runner, order));
    expect(calls).toEqual([...cycle(identity), `${identity} apply tfplan`, ...cycle(dr), `${dr} apply tfplan`]);
    expect(result.ok).toBe(false);
    expect(result.results.map((r) => [r.stack, r.status])).toEqual([
      [identity, 'applied'],
      [dr, 'failed'],
      [staging, 'not-applied'],
      [production, 'not-applied'],
    ]);
    expect(result.results[1].message).toBe(`${dr}: terraform apply failed (exit 1):\nError: apply of ${dr} broke`);
    expect(result.results[2].message).toBe(`${staging}: not applied; \`${dr}\` before it in the apply order did not apply.`);
    expect(renderApplySummary(result)).toBe(
      [
        '## Apply',
        '',
        '| stack | result | add | change | destroy |',
        '| --- | --- | ---: | ---: | ---: |',
        `| \`${identity}\` | ✅ applied | 6 | 0 | 0 |`,
        `| \`${dr}\` | ❌ failed | 1 | 0 | 0 |`,
        `| \`${staging}\` | ⏭️ not applied |  |  |  |`,
        `| \`${production}\` | ⏭️ not applied |  |  |  |`,
        '',
        `**\`${dr}\` did not apply; not applied after it: \`${staging}\`, \`${production}\`.**`,
        '',
        `### Apply \`${identity}\``,
        '',
        '```text',
        `${identity}: no protected resource is destroyed.`,
        '```',
        '',
        `### Apply \`${dr}\``,
        '',
        '```text',
        `${dr}: terraform apply failed (exit 1):`,
        `Error: apply of ${dr} broke`,
        '```',
        '',
      ].join('\n'),
    );
  });

  it('stops at a failed plan before applying anything of that stack', async () => {
    const { runner, calls } = recorder([`${identity}:plan`]);
    const result = await applyStacks(options(runner, [identity, production]));
    expect(calls).toEqual([`${identity} init`, `${identity} plan`]);
    expect(result.results.map((r) => r.status)).toEqual(['failed', 'not-applied']);
    expect(result.results[0].message).toBe(`${identity}: terraform plan failed (exit 1):\nError: plan of ${identity} broke`);
  });

  it('stops at a protected destroy without the label, after the stacks before it applied', async () => {
    const { runner, calls } = recorder();
    const opts = options(runner, [production, identity], ['enhancement']);
    const result = await applyStacks(opts);
    expect(calls).toEqual([...cycle(identity), `${identity} apply tfplan`, ...cycle(production)]);
    expect(result.results.map((r) => [r.stack, r.status])).toEqual([
      [identity, 'applied'],
      [production, 'blocked'],
    ]);
    expect(result.results[1].message).toContain(`${production}: the plan destroys protected resources and no pull request merged since the last apply has the "${PROTECTED_DESTROY_LABEL}" label; apply stopped:`);
    expect(opts.asked()).toBe(1);
    expect(renderApplySummary(result)).toContain(`| \`${production}\` | 🛑 stopped by the protected-destroy gate | 2 | 1 | 5 |\n\n**\`${production}\` did not apply.**`);
  });

  it('applies a protected destroy the label allows', async () => {
    const { runner, calls } = recorder();
    const result = await applyStacks(options(runner, [production], ['enhancement', PROTECTED_DESTROY_LABEL]));
    expect(calls.at(-1)).toBe(`${production} apply tfplan`);
    expect(result.results[0]).toMatchObject({ status: 'applied', message: expect.stringContaining(`allowed by the "${PROTECTED_DESTROY_LABEL}" label`) });
  });

  it('reports a GitHub failure while reading the labels as that stack failing', async () => {
    const { runner, calls } = recorder();
    const result = await applyStacks({
      ...options(runner, [production]),
      labels: () => Promise.reject(new Error('GitHub API GET /repos/o/r/commits/abc/pulls answered 502: bad gateway')),
    });
    expect(calls).toEqual(cycle(production));
    expect(result.results[0]).toMatchObject({ stack: production, status: 'failed', message: 'GitHub API GET /repos/o/r/commits/abc/pulls answered 502: bad gateway' });
  });

  it('dry run: plans and gates every stack, applies none', async () => {
    const { runner, calls } = recorder();
    const result = await applyStacks(options(runner, [identity, dr], [], { dryRun: true }));
    expect(calls).toEqual([...cycle(identity), ...cycle(dr)]);
    expect(result).toMatchObject({ ok: true, results: [{ stack: identity, status: 'dry-run' }, { stack: dr, status: 'dry-run' }] });
  });

  it('says so when there is nothing to apply', () => {
    expect(renderApplySummary({ ok: true, results: [] })).toBe('## Apply\n\nNo stack to apply.\n');
  });
});

describe('pipeline:apply --stacks with a terraform on PATH (cloud mode, as the apply job runs it)', () => {
  let tf: FakeTerraform;
  let gh: FakeGitHub;
  let repo: string;
  let summaryFile: string;
  const env = envOverride();
  const setEnv = env.set;
  const SHA = 'abc123def456';

  beforeAll(async () => {
    tf = fakeTerraform();
    gh = await startFakeGitHub(`${platform.settings.github.owner}/${platform.settings.github.repository}`);
    // A workspace with only what the command reads: the cdktf manifest (production depends on
    // dr, its standby) and one folder per stack with the plan the fake serves.
    // A checkout, as the apply job's: no applied tag in it yet (the first apply), so the identity-roll gate has no stage to compare.
    repo = tempRepo({ 'README.md': 'apply job checkout\n' }, 'pipeline-apply-');
    const paths = pipelinePaths(repo);
    const deps: Record<string, string[]> = { [production]: [dr] };
    mkdirSync(paths.stacksDir, { recursive: true });
    writeFileSync(join(paths.infraOut, 'manifest.json'), JSON.stringify({ stacks: Object.fromEntries([...order].reverse().map((s) => [s, { dependencies: deps[s] ?? [] }])) }));
    for (const stack of order) {
      mkdirSync(join(paths.stacksDir, stack));
      writeFileSync(join(paths.stacksDir, stack, 'fake-plan.json'), JSON.stringify(PLANS[stack]));
    }
    summaryFile = join(repo, 'summary.md');
    setEnv({ GITHUB_TOKEN: 't0ken', GITHUB_REPOSITORY: `${platform.settings.github.owner}/${platform.settings.github.repository}`, GITHUB_API_URL: gh.url, GITHUB_STEP_SUMMARY: summaryFile });
    gh.commitPulls.set(SHA, [{ number: 42, labels: [{ name: PROTECTED_DESTROY_LABEL }], merged_at: '2026-01-01T00:00:00Z' }]);
  });
  beforeEach(() => {
    writeFileSync(summaryFile, '');
    writeFileSync(tf.logFile, '');
    writeFileSync(tf.env().FAKE_AWS_LOG, '');
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    env.restore();
    await gh?.close();
  });

  const applied = () => tf.calls().filter((c) => c.args[0] === 'apply');

  it('applies every stack in dependency order, each from the plan file its own plan wrote', async () => {
    setEnv(tf.env());
    const code = await main(['apply', '--stacks', JSON.stringify([production, staging, dr, identity]), '--sha', SHA], repo, realPlatform());
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const calls = tf.calls();
    expect(calls.map((c) => `${c.stack} ${c.args[0]}`)).toEqual(
      [identity, dr, staging, production].flatMap((s) => [`${s} init`, `${s} plan`, `${s} show`, ...(s === staging ? [] : [`${s} apply`])]),
    );
    for (const apply of applied()) {
      expect(apply.args).toEqual(['apply', '-input=false', '-no-color', '-lock-timeout=5m', 'tfplan']);
      // The plan file applied is the one the same stack's plan wrote just before (and the gate read).
      expect(apply.plan).toBe(calls.filter((c) => c.stack === apply.stack && c.args[0] === 'plan').at(-1)?.plan);
      expect(apply.plan?.startsWith(`${apply.stack}-`)).toBe(true);
    }
    expect(calls.find((c) => c.args[0] === 'plan')?.args).toEqual(['plan', '-input=false', '-no-color', '-detailed-exitcode', '-out=tfplan', '-lock-timeout=5m']);
    // The standby's promoted marker was read before each stack of the failover pair was planned
    // (production's PRIMARY record leads to dr while promoted; absent: go on).
    const markerRead = ['ssm', 'get-parameter', '--region', platform.cluster('dr').region, '--name', platform.namesOf('dr').ssm.promotedMarker, '--query', 'Parameter.Value', '--output', 'text'];
    expect(tf.awsCalls()).toEqual([markerRead, markerRead]);
    // The applied tag read once through the API before planning (none here), then, once, for the
    // one stack with protected destroys, the tag again and the pull requests of --sha (no tag: only its own).
    const tagPath = `GET /repos/${process.env.GITHUB_REPOSITORY}/git/ref/tags/applied/${platform.settings.github.mainBranch}`;
    expect(gh.requests.map((r) => `${r.method} ${r.path}`)).toEqual([tagPath, tagPath, `GET /repos/${process.env.GITHUB_REPOSITORY}/commits/${SHA}/pulls`]);
    const written = readFileSync(summaryFile, 'utf8');
    expect(written).toContain(
      [
        '| stack | result | add | change | destroy |',
        '| --- | --- | ---: | ---: | ---: |',
        `| \`${identity}\` | ✅ applied | 6 | 0 | 0 |`,
        `| \`${dr}\` | ✅ applied | 1 | 0 | 0 |`,
        `| \`${staging}\` | ✅ no changes | 0 | 0 | 0 |`,
        `| \`${production}\` | ✅ applied | 2 | 1 | 5 |`,
      ].join('\n'),
    );
    expect(written).not.toContain('did not apply');
  });

  it('exits 1 when a stack fails, leaving the stacks after it untouched and named in the job summary', async () => {
    setEnv(tf.env([`${dr}:apply`]));
    const code = await main(['apply', '--stacks', JSON.stringify(order), '--sha', SHA], repo, realPlatform());
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(applied().map((c) => c.stack)).toEqual([identity, dr]);
    expect(tf.calls().some((c) => c.stack === staging || c.stack === production)).toBe(false);
    const written = readFileSync(summaryFile, 'utf8');
    expect(written).toContain(`| \`${dr}\` | ❌ failed | 1 | 0 | 0 |\n| \`${staging}\` | ⏭️ not applied |  |  |  |\n| \`${production}\` | ⏭️ not applied |  |  |  |`);
    expect(written).toContain(`**\`${dr}\` did not apply; not applied after it: \`${staging}\`, \`${production}\`.**`);
    expect(written).toContain(`Error: fake apply of ${dr} failed`);
  });

  it('refuses (exit 1) every stack of the shipped example platform before running terraform or reading GitHub, and says how to make it real', async () => {
    expect(platform.settings.example).toBe(true);
    setEnv(tf.env());
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const requests = gh.requests.length;
    expect(await main(['apply', '--stacks', JSON.stringify(order), '--sha', SHA], repo)).toBe(1);
    expect(await main(['apply', '--stack', identity], repo)).toBe(1);
    expect(errors.mock.calls.map((c) => c[0])).toEqual([`pipeline apply: ${EXAMPLE_PLATFORM_REFUSAL}`, `pipeline apply: ${EXAMPLE_PLATFORM_REFUSAL}`]);
    vi.restoreAllMocks();
    expect(tf.calls()).toEqual([]);
    expect(tf.awsCalls()).toEqual([]);
    expect(gh.requests.length).toBe(requests);
    expect(readFileSync(summaryFile, 'utf8')).toContain(`## Terraform apply\n\n🛑 ${EXAMPLE_PLATFORM_REFUSAL}\n`);
    expect(EXAMPLE_PLATFORM_REFUSAL).toBe(
      'settings.example is true: the platform holds placeholder values (documentation address ranges, a made-up hosted zone), so none of its stacks is applied; set real values in packages/platform-config/src/clusters/ and remove example (README, "Making the platform real")',
    );
  });

  it('refuses (exit 2) an unknown stack or a malformed list before running terraform', async () => {
    setEnv(tf.env());
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await main(['apply', '--stacks', JSON.stringify([identity, 'prod-cluster']), '--sha', SHA], repo)).toBe(2);
    expect(await main(['apply', '--stacks', identity, '--sha', SHA], repo)).toBe(2);
    expect(await main(['apply', '--sha', SHA], repo)).toBe(2);
    expect(errors.mock.calls.map((c) => c[0])).toEqual([
      `pipeline apply: stacks ["prod-cluster"] are not synthesized stacks; expected some of ${order.join(', ')}`,
      `pipeline apply: --stacks ${identity}: expected a JSON array of stack names, e.g. ["ci-identity"]`,
      'pipeline apply: --stack <name> (repeatable) or --stacks <JSON array of names> is required',
    ]);
    vi.restoreAllMocks();
    expect(tf.calls()).toEqual([]);
  });
});
