import { CommandError } from '@platform/failover';
import { defaultPlatform } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { preferredStackOrder } from '../src/pull-request/affected-stacks';
import { applyStacks, renderApplySummary } from '../src/apply/apply';
import { promotedStandbyGuard } from '../src/apply/promoted-standby';
import { protectedResourceRules } from '../src/apply/protected-resources';
import type { TerraformRunner } from '../src/io/terraform';

/** The merge apply refuses a promoted standby's stack before planning it (packages/failover's marker). */

const platform = defaultPlatform();
const order = preferredStackOrder(platform);
const drNames = platform.namesOf('dr');
const marker = drNames.ssm.promotedMarker;

/** An `aws` reader that answers the marker read with `value`, or ParameterNotFound when undefined. */
function ssm(value: string | undefined) {
  const calls: string[] = [];
  return {
    calls,
    async read(command: string, args: readonly string[]): Promise<string> {
      const call = { command, args };
      calls.push([command, ...args].join(' '));
      if (value === undefined) throw new CommandError(call as never, 254, 'An error occurred (ParameterNotFound) when calling the GetParameter operation');
      return `${value}\n`;
    },
  };
}

const noChanges: TerraformRunner = (args) => ({ code: 0, stdout: args[0] === 'show' ? JSON.stringify({ format_version: '1.2', resource_changes: [] }) : '', stderr: '' });

describe('promotedStandbyGuard', () => {
  it('reads only the standby stack’s marker and lets it through when the marker is absent', async () => {
    const cli = ssm(undefined);
    const lines: string[] = [];
    const guard = promotedStandbyGuard(platform, (l) => lines.push(l), cli);
    for (const stack of order) await guard(stack);
    expect(cli.calls).toEqual([`aws ssm get-parameter --region ap-northeast-1 --name ${marker} --query Parameter.Value --output text`]);
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
});
