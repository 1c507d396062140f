import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv, PROVIDER_MIRROR } from '../src/emulator-env';
import { MotoServer } from '../src/moto';
import { emulatorOverride, type StackJson } from '../src/stack-copy';

// `npm run pipeline:migrate-state` against S3 as moto serves it, with the real terraform and
// S3 backend (use_lockfile): state applied at the old place (the state bucket as it was, in
// the primary's region) is moved to the bucket and region platform-config now names.

const repoRoot = resolve(__dirname, '../../..');
const platform = defaultPlatform();
/** Where the shipped platform kept its state before issue 19 item 6. */
const OLD = { bucket: 'hakube-terraform-state', region: 'ap-northeast-2' };
const NEW = { bucket: platform.names.stateBucket, region: platform.settings.state.region };
const CI = platform.names.ciIdentityStack;
const STANDBY = platform.namesOf('dr').stack;

describe('pipeline migrate-state moves every stack to settings.state (moto S3, real terraform)', () => {
  const work = mkdtempSync(join(tmpdir(), 'e2e-migrate-state-'));
  const workStacks = join(work, 'apps/infra/cdktf.out/stacks');
  const summaryFile = join(work, 'summary.md');
  let moto: MotoServer;
  let env: NodeJS.ProcessEnv;
  const aws = (...args: string[]) => execFileSync('aws', args, { env, encoding: 'utf8' });
  const terraform = (dir: string, ...args: string[]) => execFileSync('terraform', [...args, '-no-color'], { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const keys = (bucket: string, region: string) => (JSON.parse(aws('s3api', 'list-objects-v2', '--bucket', bucket, '--region', region)) as { Contents?: { Key: string }[] }).Contents?.map((o) => o.Key).sort() ?? [];
  const stateAt = (bucket: string, region: string, stack: string) => {
    const out = join(work, `${bucket}-${stack}.json`);
    aws('s3api', 'get-object', '--bucket', bucket, '--region', region, '--key', platform.names.stateKey(stack), out);
    return JSON.parse(readFileSync(out, 'utf8')) as { lineage: string; serial: number; resources: unknown[]; outputs: unknown };
  };
  /** `npm run pipeline:migrate-state` as an administrator runs it, in the work root. */
  const migrate = (...stacks: string[]) => {
    writeFileSync(summaryFile, '');
    const args = [join(repoRoot, 'packages/pipeline/src/cli/main.ts'), 'migrate-state', '--from-bucket', OLD.bucket, '--from-region', OLD.region, ...stacks.flatMap((s) => ['--stack', s])];
    const result = spawnSync(join(repoRoot, 'node_modules/.bin/tsx'), args, { env: { ...env, PIPELINE_REPO_ROOT: work }, encoding: 'utf8' });
    return { code: result.status, summary: readFileSync(summaryFile, 'utf8'), output: `${result.stdout}\n${result.stderr}` };
  };
  /** A fresh working directory of a stack, as the pipeline gets it: the committed JSON and the emulator override. */
  const copyOf = (stack: string) => {
    const dir = mkdtempSync(join(work, `${stack}-`));
    for (const file of ['cdk.tf.json', 'zz_e2e_aws_override.tf.json']) copyFileSync(join(workStacks, stack, file), join(dir, file));
    return dir;
  };

  beforeAll(async () => {
    if (!existsSync(join(PROVIDER_MIRROR, 'registry.terraform.io/hashicorp/aws'))) throw new Error(`no AWS provider in ${PROVIDER_MIRROR}: run tools/install-provider-mirror.sh`);
    const stacksDir = join(repoRoot, 'apps/infra/cdktf.out/stacks');
    if (!existsSync(stacksDir)) throw new Error(`${stacksDir} is missing: the test target depends on infra:synth (npx nx run infra:synth)`);
    const binDir = execFileSync(join(repoRoot, 'tools/e2e/venv.sh'), ['aws'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    mkdirSync(join(work, 'logs'), { recursive: true });
    moto = await MotoServer.start(binDir, join(work, 'logs'));
    env = { ...emulatorEnv({ binDir, workRoot: work, endpoint: moto.endpoint }), GITHUB_STEP_SUMMARY: summaryFile };

    // Both buckets as docs/runbooks/state-bootstrap.md makes them.
    for (const { bucket, region } of [OLD, NEW]) {
      aws('s3api', 'create-bucket', '--bucket', bucket, '--region', region, '--create-bucket-configuration', `LocationConstraint=${region}`);
      aws('s3api', 'put-bucket-versioning', '--bucket', bucket, '--region', region, '--versioning-configuration', 'Status=Enabled');
      aws('s3api', 'put-bucket-encryption', '--bucket', bucket, '--region', region, '--server-side-encryption-configuration', '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"},"BucketKeyEnabled":true}]}');
    }
    // A work root shaped like the repo (the CLI reads the cdktf manifest for the apply order).
    mkdirSync(workStacks, { recursive: true });
    copyFileSync(join(repoRoot, 'apps/infra/cdktf.out/manifest.json'), join(work, 'apps/infra/cdktf.out/manifest.json'));
    for (const stack of [CI, STANDBY]) {
      mkdirSync(join(workStacks, stack));
      const json = JSON.parse(readFileSync(join(stacksDir, stack, 'cdk.tf.json'), 'utf8')) as StackJson;
      writeFileSync(join(workStacks, stack, 'cdk.tf.json'), JSON.stringify(json, null, 2));
      writeFileSync(join(workStacks, stack, 'zz_e2e_aws_override.tf.json'), JSON.stringify(emulatorOverride(json, moto.endpoint), null, 2));
    }
    // ci-identity applied with its state at the old place (its backend block overridden there).
    const seed = copyOf(CI);
    terraform(seed, 'init', '-input=false', `-backend-config=bucket=${OLD.bucket}`, `-backend-config=region=${OLD.region}`);
    terraform(seed, 'apply', '-auto-approve', '-input=false');
  }, 600_000);

  afterAll(() => {
    moto?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('copies the applied state (resources, outputs, serial), leaves the old copy and no lock behind, and plans no change from the new place', () => {
    const before = stateAt(OLD.bucket, OLD.region, CI);
    expect(before.resources.length).toBeGreaterThan(5);
    expect(keys(NEW.bucket, NEW.region)).toEqual([]);

    const { code, summary, output } = migrate(CI, STANDBY);
    expect(code, output).toBe(0);
    expect(summary).toMatch(new RegExp(`\\| ${CI} \\| migrated \\| serial ${before.serial}, ${before.resources.length} resources, content [0-9a-f]{12} \\|`));
    expect(summary).toContain(`| ${STANDBY} | no state at the old place: nothing copied | |`);

    // Terraform's S3-to-S3 migration gives the copy a lineage of its own; what it holds is the same.
    const after = stateAt(NEW.bucket, NEW.region, CI);
    expect({ serial: after.serial, resources: after.resources, outputs: after.outputs }).toEqual({ serial: before.serial, resources: before.resources, outputs: before.outputs });
    // No .tflock left in either bucket: both locks were taken and released.
    expect(keys(NEW.bucket, NEW.region)).toEqual([platform.names.stateKey(CI)]);
    expect(keys(OLD.bucket, OLD.region)).toEqual([platform.names.stateKey(CI)]);

    // The committed backend block alone (no -backend-config) now finds the state: nothing to change.
    const fresh = copyOf(CI);
    terraform(fresh, 'init', '-input=false');
    expect(() => terraform(fresh, 'plan', '-detailed-exitcode', '-input=false')).not.toThrow();
  }, 300_000);

  it('is a no-op when run again (the target already holds the same resources and outputs)', () => {
    const { code, summary, output } = migrate(CI);
    expect(code, output).toBe(0);
    expect(summary).toContain(`| ${CI} | already migrated (the target holds the same resources and outputs) |`);
  }, 300_000);

  it('refuses to overwrite other state at the target, and copies nothing', () => {
    const key = platform.names.stateKey(STANDBY);
    // An output makes the snapshot non-empty (Terraform overwrites an empty one without asking).
    const snapshot = (lineage: string) => JSON.stringify({ version: 4, terraform_version: '1.11.4', serial: 3, lineage, outputs: { marker: { value: lineage, type: 'string' } }, resources: [], check_results: null });
    const put = ({ bucket, region }: typeof OLD, lineage: string) => {
      const file = join(work, `${lineage}.tfstate`);
      writeFileSync(file, snapshot(lineage));
      aws('s3api', 'put-object', '--bucket', bucket, '--region', region, '--key', key, '--body', file);
    };
    put(OLD, '11111111-1111-4111-8111-111111111111');
    put(NEW, '22222222-2222-4222-8222-222222222222');

    const { code, summary, output } = migrate(STANDBY);
    expect(code, output).toBe(1);
    expect(summary).toMatch(new RegExp(`\\| ${STANDBY} \\| ❌ ${STANDBY}: s3://${NEW.bucket}/${key} \\(${NEW.region}\\) already holds serial 3, 0 resources, content [0-9a-f]{12} \\(lineage 22222222-2222-4222-8222-222222222222\\), s3://${OLD.bucket}/${key} \\(${OLD.region}\\) holds serial 3, 0 resources, content [0-9a-f]{12} \\(lineage 11111111-1111-4111-8111-111111111111\\); refusing to overwrite it`));
    expect(stateAt(NEW.bucket, NEW.region, STANDBY).lineage).toBe('22222222-2222-4222-8222-222222222222');
  }, 300_000);
});
