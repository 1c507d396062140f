import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main';
import { migrateStateCommand } from '../src/cli/commands/migrate-state';
import { pipelinePaths } from '../src/io/paths';
import { stateIdentity } from '../src/operations/state-migration';
import { recordingActions } from './support/actions';

// The moto-backed run of the whole migration (real terraform, real S3 backend) is
// packages/e2e-aws/test/state-migration.test.ts; here: what is refused before terraform runs.

const platform = defaultPlatform();
const stack = platform.names.ciIdentityStack;

/** A repository with one synthesized stack whose backend block names `backend`. */
function repoWith(backend: { bucket: string; region: string }): string {
  const repo = mkdtempSync(join(tmpdir(), 'pipeline-migrate-state-'));
  const paths = pipelinePaths(repo);
  mkdirSync(join(paths.stacksDir, stack), { recursive: true });
  writeFileSync(join(paths.infraOut, 'manifest.json'), JSON.stringify({ stacks: { [stack]: {} } }));
  writeFileSync(join(paths.stacksDir, stack, 'cdk.tf.json'), JSON.stringify({ terraform: { backend: { s3: { ...backend, key: platform.names.stateKey(stack), encrypt: true, use_lockfile: true } } } }));
  return repo;
}

const terraformMustNotRun = () => {
  throw new Error('terraform ran');
};

describe('pipeline:migrate-state', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    [[], '--from-bucket <old state bucket> and --from-region <its region> are required'],
    [['--from-bucket', 'Old_Bucket', '--from-region', 'ap-northeast-2'], '--from-bucket Old_Bucket: expected an S3 bucket name'],
    [['--from-bucket', 'old-state', '--from-region', 'ap-northeast-9'], '--from-region ap-northeast-9: expected one of ap-northeast-1, ap-northeast-2, ap-northeast-3, ap-southeast-1, eu-central-1, eu-west-1, us-east-1, us-east-2, us-west-2'],
  ])('rejects %j as bad usage (exit 2)', async (args, message) => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await main(['migrate-state', ...args], repoWith({ bucket: 'new-state', region: 'ap-southeast-1' }))).toBe(2);
    expect(errors).toHaveBeenCalledWith(`pipeline migrate-state: ${message}`);
  });

  it('refuses a stack whose backend block still names the old place (settings.state not changed yet), before terraform runs', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const repo = repoWith({ bucket: 'old-state', region: 'ap-northeast-2' });
    const actions = recordingActions();
    const command = migrateStateCommand(terraformMustNotRun);
    const code = await command.run(command.parse(['--from-bucket', 'old-state', '--from-region', 'ap-northeast-2']), { platform, paths: pipelinePaths(repo), actions, log: () => undefined });
    expect(code).toBe(1);
    expect(actions.summaries.join('')).toContain(`| ${stack} | ❌ ${stack}: the backend block already names s3://old-state in ap-northeast-2; set settings.state to the new bucket and region and synthesize first |`);
  });

  it('names an unknown --stack and the stacks there are', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await main(['migrate-state', '--from-bucket', 'old-state', '--from-region', 'ap-northeast-2', '--stack', 'nope'], repoWith({ bucket: 'new-state', region: 'ap-southeast-1' }))).toBe(2);
    expect(errors).toHaveBeenCalledWith(`pipeline migrate-state: --stack nope: expected some of ${stack}`);
  });
});

describe('stateIdentity', () => {
  it('counts a snapshot without resources or outputs as no state, as Terraform does (state pull of an empty S3 key)', () => {
    expect(stateIdentity('')).toBeUndefined();
    expect(stateIdentity(JSON.stringify({ version: 4, serial: 0, lineage: '', outputs: {}, resources: [] }))).toBeUndefined();
    expect(stateIdentity(JSON.stringify({ version: 4, serial: 2, lineage: 'l', outputs: { a: { value: 1, type: 'number' } }, resources: [] }))).toMatchObject({ serial: 2, lineage: 'l', resources: 0 });
  });
});
