import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildInfraModel, loadTerraform, type AzScenario, type Report } from '../src';
import { syntheticCluster } from '../bench/synthetic-cluster';
import { toPlanJson } from './fixtures/plan';
import { editedTerraform, runCli, tempDir, writeFixture, type TerraformDoc } from './helpers';

const fixtures = join(__dirname, 'fixtures');

describe('ha-check CLI', () => {
  it('exits 0 with a text table when the default objectives are met', async () => {
    const f = writeFixture();
    const { code, stdout, stderr } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('OBJECTIVES MET');
    expect(stdout).toMatch(/az-loss:ap-northeast-2a\s+yes\s+2\/3 ok\s+reachable/);
  });

  it('exits 1 and prints Markdown with summary, table, findings and a Mermaid diagram when objectives fail', async () => {
    const f = writeFixture({ nat: 'single' });
    const { code, stdout } = await runCli(['--terraform', f.root, '--manifests', f.manifests, '--format', 'markdown']);
    expect(code).toBe(1);
    const [first] = stdout.split('\n');
    expect(first).toBe('### ha-check ❌ objectives not met');
    expect(stdout.indexOf('| Scenario |')).toBeLessThan(stdout.indexOf('#### Findings'));
    expect(stdout).toContain('| 🔴 error | `nat.cross-az` | fixture-nat-a |');
    expect(stdout).toContain('```mermaid\nflowchart LR');
    expect(stdout).toContain('az_ap_northeast_2b_w -. "egress via another AZ" .-> az_ap_northeast_2a_nat');
  });

  it('writes JSON to --output', async () => {
    const f = writeFixture({ replicaRegion: null });
    const out = join(tempDir(), 'report.json');
    const { code, stdout } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests, '--format', 'json', '--output', out]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const report = JSON.parse((await import('node:fs')).readFileSync(out, 'utf8'));
    expect(report.schemaVersion).toBe(2);
    expect(report.findings.map((x: { id: string }) => x.id)).toContain('backup.not-replicated');
  });

  it('reads objectives from a file', async () => {
    const f = writeFixture({ nat: 'single', replicaRegion: null });
    const file = join(tempDir(), 'objectives.yaml');
    writeFileSync(file, 'tolerateAzLoss: false\nrequireCrossRegionBackups: false\n');
    const { code, stdout } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests, '--objectives', file]);
    expect(code).toBe(0);
    expect(stdout).toContain('WARNING nat.cross-az');
  });

  it('reads the regional objectives (RTO, promotion) from a file and prints the region facts', async () => {
    const f = writeFixture({ dns: { role: 'PRIMARY' } });
    const file = join(tempDir(), 'objectives.yaml');
    writeFileSync(file, 'tolerateRegionLoss: true\nstandbyCluster: dr\nstandbyRegion: ap-northeast-1\nregionRtoSeconds: 600\npromotion:\n  workflow: .github/workflows/region-failover.yml\n  estimatedSeconds: 900\n');
    const { code, stdout } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests, '--objectives', file]);
    expect(code).toBe(1);
    expect(stdout).toContain('  regional RTO       ≈ 990 s = detection 30 + promotion 900 + TTL 60 (objective 600 s)');
    expect(stdout).toContain('ERROR   region.rto-exceeded');
  });

  it('an objectives file with a promotion but no estimate names the field', async () => {
    const f = writeFixture();
    const file = join(tempDir(), 'o.yaml');
    writeFileSync(file, 'promotion:\n  workflow: x.yml\n');
    const { code, stderr } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests, '--objectives', file]);
    expect(code).toBe(2);
    expect(stderr).toBe(`ha-check: ${file}: promotion.estimatedSeconds: expected seconds\n`);
  });

  it('reads scaleOutSeconds from an objectives file and holds the elasticity estimate to it; a fraction is bad input', async () => {
    const f = writeFixture({ apps: [{ name: 'web', replicas: 3, hpaMax: 9, hpaScaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } }] });
    const file = join(tempDir(), 'o.yaml');
    writeFileSync(file, 'scaleOutSeconds: 120\n');
    const slow = await runCli(['--terraform', f.terraform, '--manifests', f.manifests, '--objectives', file]);
    expect(slow.code).toBe(1);
    expect(slow.stdout).toContain('elasticity (every HPA at its maximum, objective 120 s):');
    expect(slow.stdout).toContain('ERROR   elasticity.scale-out-slow  HPAs at max');
    writeFileSync(file, 'scaleOutSeconds: 90.5\n');
    const bad = await runCli(['--terraform', f.terraform, '--manifests', f.manifests, '--objectives', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`ha-check: ${file}: scaleOutSeconds: expected whole seconds\n`);
  });

  it('reads a terraform show -json plan exactly like the cdk.tf.json it came from', () => {
    const cluster = syntheticCluster({ nat: 'single', dns: { role: 'PRIMARY' } });
    const dir = tempDir();
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(toPlanJson(cluster.terraform)));
    mkdirSync(join(dir, 'cdktf'));
    writeFileSync(join(dir, 'cdktf', 'cdk.tf.json'), JSON.stringify(cluster.terraform));
    const fromPlan = buildInfraModel(loadTerraform([join(dir, 'plan.json')]));
    const fromCdktf = buildInfraModel(loadTerraform([join(dir, 'cdktf')]));
    const strip = (m: typeof fromPlan) => JSON.parse(JSON.stringify(m).replace(/"[^"]*?\/(aws_[a-z0-9_]+\.)/g, '"$1'));
    expect(fromPlan.nodeGroups.length).toBe(6);
    expect(strip(fromPlan)).toEqual(strip(fromCdktf));
  });

  it('prefers the plan when a stack folder holds both its cdk.tf.json and a plan JSON (no double count)', async () => {
    const f = writeFixture({ dns: { role: 'PRIMARY' } });
    const alone = JSON.parse((await runCli(['--terraform', f.terraform, '--manifests', f.manifests, '--format', 'json'])).stdout) as Report;
    const cdktf = JSON.parse(readFileSync(join(f.terraform, 'cdk.tf.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(f.terraform, 'plan.json'), JSON.stringify(toPlanJson(cdktf)));
    const { code, stdout } = await runCli(['--terraform', f.root, '--manifests', f.manifests, '--format', 'json']);
    expect(code).toBe(0);
    const both = JSON.parse(stdout) as Report;
    expect(both.summary.terraformResources).toBe(alone.summary.terraformResources);
    const etcd = (r: Report) => (r.scenarios[0] as AzScenario).etcd;
    expect(etcd(both)).toEqual({ members: 3, lost: 1, surviving: 2, quorumNeeded: 2, quorum: true });
    expect(both.findings.find((x) => x.id === 'terraform.plan-preferred')).toMatchObject({
      severity: 'info',
      subject: join(f.terraform, 'cdk.tf.json'),
      message: 'not loaded: the plan beside it (plan.json) is what will be deployed, and loading both would count every resource twice',
    });
    // The plan's resources are named after the stack folder, like the cdk.tf.json's.
    expect(loadTerraform([f.terraform]).stacks.map((st) => [st.stack, st.format])).toEqual([['fixture-cluster', 'plan']]);
  });

  describe('bad input exits 2 with one clear line, never a stack trace', () => {
    const cases: Array<[string, () => string[], RegExp]> = [
      ['a missing Terraform path', () => ['--terraform', '/nonexistent/cdk.tf.json', '--manifests', '/tmp'], /^ha-check: \/nonexistent\/cdk\.tf\.json: no such file or directory/],
      ['malformed JSON', () => ['--terraform', join(fixtures, 'bad', 'truncated.cdk.tf.json'), '--manifests', writeFixture().manifests], /truncated\.cdk\.tf\.json: malformed JSON/],
      ['a plan of another provider', () => ['--terraform', join(fixtures, 'bad', 'google-plan.json'), '--manifests', writeFixture().manifests], /google-plan\.json: a plan of another provider \(registry\.terraform\.io\/hashicorp\/google\)/],
      ['a missing manifests folder', () => ['--terraform', writeFixture().terraform, '--manifests', '/nonexistent/clusters/x'], /\/nonexistent\/clusters\/x: no such manifests directory/],
      ['an unknown cluster', () => ['--cluster', 'nope'], /unknown cluster "nope"; expected one of staging, production, dr/],
      ['an unknown flag', () => ['--frobnicate'], /Unknown option '--frobnicate'/],
      ['a bad format', () => ['--format', 'xml'], /--format xml: expected text, markdown or json/],
      ['neither cluster nor inputs', () => [], /pass --cluster <name>, or both --terraform and --manifests/],
    ];
    it.each(cases)('%s', async (_name, args, message) => {
      const { code, stderr } = await runCli(args());
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
      expect(stderr).not.toMatch(/\n\s+at /);
    });

    const firstAsg = (doc: TerraformDoc): string => Object.keys(doc.resource.aws_autoscaling_group)[0];

    it('a cdk.tf.json whose "resource" is not an object', async () => {
      const f = editedTerraform((doc) => ((doc as { resource: unknown }).resource = 'oops'));
      const { code, stderr } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests]);
      expect(code).toBe(2);
      expect(stderr).toBe(`ha-check: ${join(f.terraform, 'cdk.tf.json')}: "resource": expected an object (resource types → names → arguments), got "oops"\n`);
    });

    it('an ASG size that is not a whole number', async () => {
      let asg = '';
      const f = editedTerraform((doc) => {
        asg = firstAsg(doc);
        doc.resource.aws_autoscaling_group[asg].min_size = 'two';
      });
      const { code, stderr } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests]);
      expect(code).toBe(2);
      expect(stderr).toBe(`ha-check: fixture-cluster/aws_autoscaling_group.${asg}: min_size: expected a whole number ≥ 0, got "two"\n`);
    });

    it('an instance type ha-check cannot size (never zero capacity)', async () => {
      const { code, stderr } = await runCli(['--terraform', writeFixture({ workerInstanceType: 'x9z.mega' }).terraform, '--manifests', writeFixture().manifests]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/^ha-check: fixture-cluster\/aws_autoscaling_group\.worker_a: instance type x9z\.mega is not in platform-config INSTANCE_TYPES: its allocatable CPU and memory are unknown \(add it there\)\n$/);
    });

    it('an ASG whose subnets are not a list', async () => {
      let asg = '';
      const f = editedTerraform((doc) => {
        asg = firstAsg(doc);
        doc.resource.aws_autoscaling_group[asg].vpc_zone_identifier = 5;
      });
      const { code, stderr } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests]);
      expect(code).toBe(2);
      expect(stderr).toBe(`ha-check: fixture-cluster/aws_autoscaling_group.${asg}: vpc_zone_identifier: expected a list, got 5\n`);
    });

    it('a plan whose "configuration" is not an object', async () => {
      const f = writeFixture();
      const file = join(tempDir(), 'plan.json');
      writeFileSync(file, JSON.stringify({ ...toPlanJson(syntheticCluster().terraform), configuration: 'bad' }));
      const { code, stderr } = await runCli(['--terraform', file, '--manifests', f.manifests]);
      expect(code).toBe(2);
      expect(stderr).toBe(`ha-check: ${file}: "configuration": expected an object (terraform show -json: provider_config, root_module), got "bad"\n`);
    });

    it('a Deployment whose replicas is not a whole number', async () => {
      const f = writeFixture();
      const file = join(f.manifests, 'apps', 'resources.yaml');
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('  replicas: 3\n');
      writeFileSync(file, text.replace('  replicas: 3\n', '  replicas: lots\n'));
      const { code, stderr } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests]);
      expect(code).toBe(2);
      expect(stderr).toBe('ha-check: Deployment/apps/web: spec.replicas: expected a whole number ≥ 0, got "lots"\n');
    });

    it('Terraform with no cluster in it (IAM only)', async () => {
      const f = writeFixture();
      const dir = join(tempDir(), 'ci-identity');
      mkdirSync(dir);
      const iamOnly = { '//': { metadata: { stackName: 'ci-identity' } }, terraform: { required_providers: { aws: { source: 'aws', version: '5.100.0' } } }, provider: { aws: [{ region: 'ap-northeast-2' }] }, resource: { aws_iam_role: { plan: { name: 'plan' } } } };
      writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify(iamOnly));
      const { code, stderr } = await runCli(['--terraform', dir, '--manifests', f.manifests]);
      expect(code).toBe(2);
      expect(stderr).toBe('ha-check: ci-identity: no cluster in this Terraform (no aws_subnet or aws_autoscaling_group; it has aws_iam_role); pass a cluster stack (apps/infra/cdktf.out/stacks/<name>-cluster) or --cluster <name>\n');
    });

    it('--output in a folder that does not exist', async () => {
      const f = writeFixture();
      const out = join(tempDir(), 'missing', 'report.md');
      const { code, stdout, stderr } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests, '--output', out]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toBe(`ha-check: --output ${out}: folder ${dirname(out)} does not exist; create it first or choose another path\n`);
    });

    it('malformed YAML names the file', async () => {
      const f = writeFixture();
      writeFileSync(join(f.manifests, 'apps', 'resources.yaml'), 'kind: Deployment\nmetadata: [unclosed\n');
      const { code, stderr } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/apps\/resources\.yaml: malformed YAML/);
    });

    it('an objectives file with a wrong type names the field', async () => {
      const f = writeFixture();
      const file = join(tempDir(), 'o.json');
      writeFileSync(file, '{"tolerateAzLoss": "yes"}');
      const { code, stderr } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests, '--objectives', file]);
      expect(code).toBe(2);
      expect(stderr).toBe(`ha-check: ${file}: tolerateAzLoss: expected true or false\n`);
    });
  });

  it('builds manifests with kubectl kustomize the same way as the file reader', async () => {
    const f = writeFixture();
    const a = await runCli(['--terraform', f.terraform, '--manifests', f.manifests, '--format', 'json', '--builder', 'kubectl']);
    const b = await runCli(['--terraform', f.terraform, '--manifests', f.manifests, '--format', 'json', '--builder', 'files']);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout).summary).toEqual(JSON.parse(b.stdout).summary);
  });
});
