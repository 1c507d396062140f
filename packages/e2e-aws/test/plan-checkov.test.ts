import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_MIRROR } from '../src/emulator-env';
import { checkovPlan, judgePlanFindings, loadPlanBaseline, planFile } from '../src/plan-checkov';
import type { Finding } from '../src/judges';

// checkov on a real plan JSON (the real terraform and provider, planned offline from the mirror),
// judged against the committed plan baseline exactly as `npm run e2e:aws` judges each stack's.

const repoRoot = resolve(__dirname, '../../..');

describe('checkov on the plan JSON against plan-checkov-baseline.yaml', () => {
  const work = mkdtempSync(join(tmpdir(), 'e2e-plan-checkov-'));
  let findings: Finding[] = [];

  beforeAll(async () => {
    if (!existsSync(join(PROVIDER_MIRROR, 'registry.terraform.io/hashicorp/aws'))) throw new Error(`no AWS provider in ${PROVIDER_MIRROR}: run tools/install-provider-mirror.sh`);
    const binDir = execFileSync(join(repoRoot, 'tools/e2e/venv.sh'), ['judges'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    // A bucket as a careless change would add it: no encryption, versioning, public access block or logging.
    writeFileSync(
      join(work, 'main.tf.json'),
      JSON.stringify({
        provider: { aws: { region: 'ap-northeast-2', access_key: 'testing', secret_key: 'testing', skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true } },
        resource: { aws_s3_bucket: { 'uploads_bucket_0A1B2C3D': { bucket: 'hakube-fixture-uploads' } } },
      }),
    );
    writeFileSync(join(work, 'mirror.tfrc'), `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(PROVIDER_MIRROR)}\n  }\n}\n`);
    const env = { ...process.env, TF_CLI_CONFIG_FILE: join(work, 'mirror.tfrc'), TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' };
    const tf = (...args: string[]) => execFileSync('terraform', [...args, '-no-color'], { cwd: work, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    tf('init', '-input=false');
    tf('plan', '-input=false', '-out=fixture.tfplan');
    writeFileSync(join(work, 'plan.json'), tf('show', '-json', 'fixture.tfplan'));
    findings = await checkovPlan(binDir, 'staging-cluster', join(work, 'plan.json'));
  }, 300_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('checkov judges the planned bucket and files it under the stack', () => {
    const bucket = findings.filter((f) => f.resource === 'aws_s3_bucket.uploads_bucket_0A1B2C3D');
    expect(bucket.map((f) => f.rule)).toEqual(expect.arrayContaining(['CKV_AWS_145'])); // not encrypted with KMS
    expect(new Set(findings.map((f) => f.file))).toEqual(new Set([planFile('staging-cluster')]));
  });

  it('a new unjustified failure is caught by the committed baseline', () => {
    const { fresh } = judgePlanFindings(findings, loadPlanBaseline(repoRoot), ['staging-cluster']);
    expect(fresh.map((f) => `${f.rule} ${f.resource}`)).toEqual(expect.arrayContaining(['CKV_AWS_145 aws_s3_bucket.uploads_bucket_0A1B2C3D']));
  });

  it('a justified entry covers it, and an entry covering nothing is stale only for judged stacks', () => {
    const entry = { tool: 'checkov' as const, rule: '*', file: 'plan/staging-cluster.json', resource: 'aws_s3_bucket.uploads_*', reason: 'fixture' };
    const stale = { tool: 'checkov' as const, rule: 'CKV_AWS_1', file: 'plan/dr-cluster.json', reason: 'another stack' };
    expect(judgePlanFindings(findings, [entry, stale], ['staging-cluster'])).toMatchObject({ fresh: [], stale: [] });
    expect(judgePlanFindings(findings, [entry, stale], ['staging-cluster', 'dr-cluster']).stale).toEqual([stale]);
  });
});
