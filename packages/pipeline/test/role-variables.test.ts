import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { main } from '../src/cli/main';
import { accountOfRoleArn, roleArn, roleVariables } from '../src/operations/role-variables';

const platform = defaultPlatform();
const ROOT = join(__dirname, '..', '..', '..');

describe('roleVariables', () => {
  it('derives the state region and the six role ARNs from platform-config and the account id', () => {
    expect(roleVariables(platform, '123456789012')).toEqual({
      aws_region: platform.settings.state.region,
      plan_role_arn: `arn:aws:iam::123456789012:role/${platform.names.ciPlanRole}`,
      apply_role_arn: `arn:aws:iam::123456789012:role/${platform.names.ciApplyRole}`,
      drift_role_arn: `arn:aws:iam::123456789012:role/${platform.names.ciDriftRole}`,
      fence_role_arn: `arn:aws:iam::123456789012:role/${platform.names.ciFenceRole}`,
      failover_role_arn: `arn:aws:iam::123456789012:role/${platform.names.ciFailoverRole}`,
      release_role_arn: `arn:aws:iam::123456789012:role/${platform.names.ciReleaseRole}`,
    });
  });

  it("asks STS in no region of the failover pair: every workflow but the failover ones gets credentials while either region is down", () => {
    const pair = platform.failoverRoleOf('dr');
    expect(pair).toBeDefined();
    expect([pair?.primary.region, pair?.standby.region]).not.toContain(roleVariables(platform, '123456789012').aws_region);
  });

  it('rejects a missing or malformed account id, saying where it comes from', () => {
    const message = (value: string) =>
      `AWS_ACCOUNT_ID ${value}: expected the 12-digit id of the AWS account the ci-identity stack is applied in (repository secret AWS_ACCOUNT_ID; \`npm run pipeline:role-variables -- --from-state\` prints the command that sets it)`;
    expect(() => roleVariables(platform, undefined)).toThrow(message('""'));
    expect(() => roleVariables(platform, '1234-5678-9012')).toThrow(message('"1234-5678-9012"'));
  });

  it('reads the account back from a role ARN', () => {
    expect(accountOfRoleArn(roleArn('123456789012', 'x'))).toBe('123456789012');
    expect(() => accountOfRoleArn('arn:aws:iam::123:user/x')).toThrow('role ARN "arn:aws:iam::123:user/x": expected arn:aws:iam::<12-digit account>:role/<name>');
  });
});

describe('pipeline role-variables', () => {
  const saved = { account: process.env.AWS_ACCOUNT_ID, output: process.env.GITHUB_OUTPUT };
  afterEach(() => {
    vi.restoreAllMocks();
    for (const [key, value] of [['AWS_ACCOUNT_ID', saved.account], ['GITHUB_OUTPUT', saved.output]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('writes the step outputs the credentials step reads', async () => {
    const outputFile = join(mkdtempSync(join(tmpdir(), 'pipeline-output-')), 'output');
    writeFileSync(outputFile, '');
    process.env.AWS_ACCOUNT_ID = '123456789012';
    process.env.GITHUB_OUTPUT = outputFile;
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main(['role-variables'], ROOT)).toBe(0);
    expect(readFileSync(outputFile, 'utf8')).toBe(
      [
        `aws_region=${platform.settings.state.region}`,
        `plan_role_arn=arn:aws:iam::123456789012:role/${platform.names.ciPlanRole}`,
        `apply_role_arn=arn:aws:iam::123456789012:role/${platform.names.ciApplyRole}`,
        `drift_role_arn=arn:aws:iam::123456789012:role/${platform.names.ciDriftRole}`,
        `fence_role_arn=arn:aws:iam::123456789012:role/${platform.names.ciFenceRole}`,
        `failover_role_arn=arn:aws:iam::123456789012:role/${platform.names.ciFailoverRole}`,
        `release_role_arn=arn:aws:iam::123456789012:role/${platform.names.ciReleaseRole}`,
        '',
      ].join('\n'),
    );
  });

  it('fails (exit 1) without the account id', async () => {
    delete process.env.AWS_ACCOUNT_ID;
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => errors.push(line));
    expect(await main(['role-variables'], ROOT)).toBe(1);
    expect(errors[0]).toMatch(/^pipeline role-variables: AWS_ACCOUNT_ID "": expected the 12-digit id/);
  });
});
