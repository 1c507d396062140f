import { CommandError } from '@platform/failover';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { preferredStackOrder } from '../src/pull-request/affected-stacks';
import { applyStacks, renderApplySummary } from '../src/apply/apply';
import { promotedStandbyGuard } from '../src/apply/promoted-standby';
import { protectedResourceRules } from '../src/apply/protected-resources';
import type { TerraformRunner } from '../src/io/terraform';
import { applyApprovedPlans, planForApproval } from '../src/apply/approved-plan';
import { fakeKms } from './support/fake-kms';
import { fakeSsm } from './support/fake-ssm';
import { change } from './support/plans';
import { statefulTerraform } from './support/stateful-terraform';

/** The merge apply refuses a promoted standby's stack before planning it (packages/failover's marker). */

const platform = defaultPlatform();
const order = preferredStackOrder(platform);
const drNames = platform.namesOf('dr');
const marker = drNames.ssm.promotedMarker;

const ssm = fakeSsm;

const noChanges: TerraformRunner = (args) => ({ code: 0, stdout: args[0] === 'show' ? JSON.stringify({ format_version: '1.2', resource_changes: [] }) : '', stderr: '' });

describe('promotedStandbyGuard', () => {
  it('reads the standby’s marker for both stacks of the pair (production’s PRIMARY record leads to dr while promoted) and lets them through when it is absent', async () => {
    const cli = ssm(undefined);
    const lines: string[] = [];
    const guard = promotedStandbyGuard(platform, (l) => lines.push(l), cli);
    for (const stack of order) await guard(stack);
    const pairStacks = order.filter((s) => s === drNames.stack || s === platform.namesOf('production').stack);
    expect(pairStacks).toHaveLength(2);
    expect(cli.calls).toEqual(pairStacks.map(() => `aws ssm get-parameter --region ap-northeast-1 --name ${marker} --query Parameter.Value --output text`));
    expect(lines).toEqual(order.filter((s) => platform.clusters.some((c) => platform.namesOf(c).stack === s)).map((s) => `${s}: ${platform.clusters.find((c) => platform.namesOf(c).stack === s)!.name} is not a promoted standby`));
  });

  it('refuses the promoted standby’s stack and stops the stacks after it, with nothing planned for it', async () => {
    const calls: string[] = [];
    const runner: TerraformRunner = (args, cwd) => {
      calls.push(`${cwd.split('/').at(-1)} ${args[0]}`);
      return noChanges(args, cwd, {});
    };
    const result = await applyStacks({
      stacks: order,
      order,
      stacksDir: '/nonexistent/cdktf.out/stacks',
      rules: protectedResourceRules(platform),
      labels: async () => [],
      runner,
      echo: () => undefined,
      beforeStack: promotedStandbyGuard(platform, () => undefined, ssm('run r1: dr serves for production')),
    });
    const drIndex = order.indexOf(drNames.stack);
    expect(result.ok).toBe(false);
    expect(result.results.map((r) => r.status)).toEqual(order.map((_, i) => (i < drIndex ? 'no-changes' : i === drIndex ? 'refused' : 'not-applied')));
    expect(calls.some((c) => c.startsWith(drNames.stack))).toBe(false);
    expect(result.results[drIndex]!.message).toBe(
      `${drNames.stack}: dr is promoted (SSM ${marker} = "run r1: dr serves for production"); refusing to apply it, Terraform would put its worker minimums back to pilot light. Fail back first (npm run failover -- failback), or make the capacity permanent in platform-config`,
    );
    expect(renderApplySummary(result)).toContain(`| \`${drNames.stack}\` | 🛑 refused before planning |  |  |  |`);
  });

  it('fails closed when SSM cannot be read', async () => {
    const guard = promotedStandbyGuard(platform, () => undefined, {
      read: async () => {
        throw new CommandError({ command: 'aws', args: [] } as never, 255, 'Unable to locate credentials');
      },
    });
    await expect(guard(drNames.stack)).rejects.toThrow('Unable to locate credentials');
  });

  it('refuses the approved plan of a promoted standby at apply time: nothing applied for it or after it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pipeline-promoted-'));
    const stacksDir = join(root, 'stacks');
    for (const s of order) mkdirSync(join(stacksDir, s), { recursive: true });
    const plans = Object.fromEntries(order.map((s) => [s, { format_version: '1.2', resource_changes: [change('aws_autoscaling_group', 'workers', ['update'])] }]));
    const tf = statefulTerraform(plans);
    const kms = fakeKms({ plan: ['GenerateDataKey'], apply: ['Decrypt'] });
    const sha = 'c'.repeat(40);
    const outDir = join(root, 'artifact');
    await planForApproval({ stacks: order, order, stacksDir, rules: protectedResourceRules(platform), labels: async () => [], keys: kms.as('plan'), keyContext: { purpose: 'terraform-plan' }, commit: sha, outDir, maxAgeMs: 3_600_000, runner: tf.runner });
    const result = await applyApprovedPlans({ dir: outDir, stacksDir, keys: kms.as('apply'), commit: sha, runner: tf.runner, echo: () => undefined, beforeStack: promotedStandbyGuard(platform, () => undefined, ssm('run r1: dr serves for production')) });
    const drIndex = order.indexOf(drNames.stack);
    expect(result.results.map((r) => r.status)).toEqual(order.map((_, i) => (i < drIndex ? 'applied' : i === drIndex ? 'refused' : 'not-applied')));
    expect(tf.applied.map((a) => a.stack)).toEqual(order.slice(0, drIndex));
  });
});
