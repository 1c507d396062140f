import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPlatform, platformInput, PlatformConfigError, type ClusterDefinitionInput, type PlatformInput } from '@platform/platform-config';
import { hashTree, listFiles } from '@platform/synth-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { synthInfra } from '../src/main';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'infra-synth-'));
  dirs.push(dir);
  return join(dir, 'cdktf.out');
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const stackJson = (outdir: string, stack: string) => JSON.parse(readFileSync(join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
const resourceCount = (json: { resource: Record<string, object> }, type: string) => Object.keys(json.resource[type] ?? {}).length;

describe('synthInfra', () => {
  // Synth cost is measured by `npm run bench` (docs/benchmarks.md), not asserted here: a timed
  // test fails on a busy machine and proves nothing on an idle one.
  it('writes one stack per cluster, the CI identity stack and one image pipeline stack per region with a baked cluster', async () => {
    const outdir = tempDir();
    await synthInfra(outdir);
    const stacks = listFiles(join(outdir, 'stacks')).map((f) => f.split('/')[0]).sort();
    // staging (ap-northeast-2) uses NodeImage.baked(): the region's pipeline stack.
    expect(stacks).toEqual(['ci-identity', 'dr-cluster', 'node-image-ap-northeast-2', 'production-cluster', 'staging-cluster']);
  });

  it('is deterministic: two synths hash identically', async () => {
    const a = tempDir();
    const b = tempDir();
    await synthInfra(a);
    await synthInfra(b);
    expect(hashTree(a)).toEqual(hashTree(b));
  });

  it('throws PlatformConfigError for an invalid definition and leaves the existing output untouched', async () => {
    const outdir = tempDir();
    mkdirSync(join(outdir, 'stacks', 'old'), { recursive: true });
    writeFileSync(join(outdir, 'stacks', 'old', 'cdk.tf.json'), '{}');
    const before = hashTree(outdir);
    const input = structuredClone(platformInput) as { settings: PlatformInput['settings']; clusters: ClusterDefinitionInput[] };
    (input.clusters.find((c) => c.name === 'production') as ClusterDefinitionInput).controlPlane.count = 4;
    await expect(synthInfra(outdir, input)).rejects.toThrow(PlatformConfigError);
    await expect(synthInfra(outdir, input)).rejects.toThrow('clusters[1].controlPlane.count: got 4; expected an odd number');
    expect(hashTree(outdir)).toEqual(before);
  });

  it('follows a definition change (3 → 5 control-plane nodes, 3 → 4 AZs) and nothing else', async () => {
    const base = tempDir();
    const changed = tempDir();
    await synthInfra(base);
    const input = structuredClone(platformInput) as { settings: PlatformInput['settings']; clusters: ClusterDefinitionInput[] };
    const production = input.clusters.find((c) => c.name === 'production') as ClusterDefinitionInput;
    production.controlPlane.count = 5;
    production.availabilityZones = [...production.availabilityZones, 'ap-northeast-2d'];
    await synthInfra(changed, input);
    const [before, after] = [stackJson(base, 'production-cluster'), stackJson(changed, 'production-cluster')];
    const delta = (type: string) => resourceCount(after, type) - resourceCount(before, type);
    expect([delta('aws_subnet'), delta('aws_nat_gateway'), delta('aws_autoscaling_group'), delta('aws_launch_template')]).toEqual([2, 1, 4, 2]);
    const baseHashes = hashTree(base);
    const changedHashes = hashTree(changed);
    const differing = Object.keys(baseHashes).filter((f) => baseHashes[f] !== changedHashes[f]);
    // And the failover role, which may scale exactly the pair's worker ASGs (one more per pool in the new AZ).
    expect(differing).toEqual(['stacks/ci-identity/cdk.tf.json', 'stacks/production-cluster/cdk.tf.json']);
    const failoverPolicy = (dir: string) => JSON.stringify(Object.values(stackJson(dir, 'ci-identity').resource.aws_iam_role_policy as Record<string, { name: string; policy: string }>).find((p) => p.name === 'region-failover'));
    const otherResources = (dir: string) => JSON.stringify({ ...stackJson(dir, 'ci-identity').resource, aws_iam_role_policy: Object.values(stackJson(dir, 'ci-identity').resource.aws_iam_role_policy as Record<string, { name: string }>).filter((p) => p.name !== 'region-failover') });
    expect(otherResources(changed)).toBe(otherResources(base));
    expect(failoverPolicy(changed)).toContain('autoScalingGroupName/production-');
    expect(failoverPolicy(changed)).not.toBe(failoverPolicy(base));
  });

  it('writes the S3 backend (platform-config bucket and region, own key, S3-native lock, no DynamoDB) but no test-only provider flags into committed stacks', async () => {
    const outdir = tempDir();
    const platform = defaultPlatform();
    await synthInfra(outdir, platform);
    const stacks = [...platform.clusters.map((c) => platform.namesOf(c).stack), platform.names.ciIdentityStack];
    for (const stack of stacks) {
      const json = stackJson(outdir, stack);
      expect(json.terraform.backend).toEqual({ s3: { bucket: platform.names.stateBucket, key: platform.names.stateKey(stack), region: platform.settings.state.region, encrypt: true, use_lockfile: true } });
      expect(JSON.stringify(json.provider)).not.toContain('skip_');
    }
    expect(existsSync(join(outdir, 'manifest.json'))).toBe(true);
  });

  it('can keep state locally for experiments', async () => {
    const outdir = tempDir();
    await synthInfra(outdir, defaultPlatform(), { backend: 'local' });
    expect(stackJson(outdir, 'dr-cluster').terraform.backend).toEqual({ local: { path: 'terraform.tfstate' } });
  });
});
