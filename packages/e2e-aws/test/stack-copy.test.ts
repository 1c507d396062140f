import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulatorOverride, protectedAddresses, servicesOf, substituted, withoutExcluded, withoutPreventDestroy, type StackJson } from '../src/stack-copy';

const stack = (): StackJson => ({
  provider: { aws: [{ region: 'ap-northeast-2' }, { alias: 'replica', region: 'ap-northeast-1' }] },
  terraform: { backend: { s3: { bucket: 'state', key: 's/terraform.tfstate', region: 'ap-northeast-2', use_lockfile: true } } },
  resource: {
    aws_fis_experiment_template: { az_a: { role_arn: '${aws_iam_role.fis.arn}' } },
    aws_iam_role: { fis: { name: 'fis' }, fis_other: { name: 'fis-other' } },
    aws_cloudwatch_metric_alarm: { stop: { depends_on: ['aws_fis_experiment_template.az_a'] } },
    aws_ssm_parameter: { ids: { value: '${aws_cloudwatch_metric_alarm.stop.arn}' } },
    aws_kms_key: { key: { lifecycle: { prevent_destroy: true } } },
  },
  output: { templates: { value: '${aws_fis_experiment_template.az_a.id}' }, role: { value: '${aws_iam_role.fis.arn}' } },
});

describe('withoutExcluded', () => {
  it('removes the type and, transitively, what references it, each with its cause', () => {
    const { stack: copy, exclusions } = withoutExcluded(stack(), [{ type: 'aws_fis_experiment_template', reason: 'test' }]);
    expect(exclusions).toEqual([
      { address: 'aws_fis_experiment_template.az_a', because: 'type aws_fis_experiment_template (emulator-gaps.ts)' },
      { address: 'aws_cloudwatch_metric_alarm.stop', because: 'references aws_fis_experiment_template.az_a' },
      { address: 'output.templates', because: 'references aws_fis_experiment_template.az_a' },
      { address: 'aws_ssm_parameter.ids', because: 'references aws_cloudwatch_metric_alarm.stop' },
    ]);
    expect(Object.keys(copy.resource ?? {}).sort()).toEqual(['aws_iam_role', 'aws_kms_key']);
    expect(Object.keys(copy.resource?.aws_iam_role ?? {})).toEqual(['fis', 'fis_other']);
    expect(Object.keys(copy.output ?? {})).toEqual(['role']);
  });

  it('drops a block left empty (terraform refuses "output": {}) when every output went with its resources', () => {
    const only: StackJson = { resource: { aws_imagebuilder_image_pipeline: { p: { name: 'x' } } }, output: { pipeline: { value: '${aws_imagebuilder_image_pipeline.p.arn}' } } };
    const { stack: copy } = withoutExcluded(only, [{ type: 'aws_imagebuilder_image_pipeline', reason: 'test' }]);
    expect(copy).not.toHaveProperty('output');
    expect(copy).not.toHaveProperty('resource');
  });

  it('leaves the stack whole when nothing is excluded', () => {
    expect(withoutExcluded(stack(), []).stack).toEqual(stack());
  });
});

describe('emulatorOverride', () => {
  it('points every provider alias and the state backend at the loopback endpoint', () => {
    const override = emulatorOverride(stack(), 'http://127.0.0.1:4566') as { provider: { aws: Record<string, unknown>[] }; terraform: { backend: { s3: Record<string, unknown> } } };
    expect(override.provider.aws.map((p) => p.alias)).toEqual([undefined, 'replica']);
    expect(override.provider.aws[0].endpoints).toEqual([{ cloudwatch: 'http://127.0.0.1:4566', fis: 'http://127.0.0.1:4566', iam: 'http://127.0.0.1:4566', kms: 'http://127.0.0.1:4566', ssm: 'http://127.0.0.1:4566', sts: 'http://127.0.0.1:4566' }]);
    expect(override.terraform.backend.s3).toMatchObject({ bucket: 'state', key: 's/terraform.tfstate', use_lockfile: true, use_path_style: true, endpoints: { s3: 'http://127.0.0.1:4566', sts: 'http://127.0.0.1:4566', iam: 'http://127.0.0.1:4566' } });
  });

  it('refuses an endpoint off loopback', () => {
    expect(() => emulatorOverride(stack(), 'http://10.0.0.5:4566')).toThrow('e2e-aws: emulator endpoint http://10.0.0.5:4566 is not http://127.0.0.1:<port>; the emulator listens on loopback only');
  });

  it('fails on a resource type with no known endpoint', () => {
    expect(() => servicesOf({ resource: { aws_eks_cluster: { c: {} } } })).toThrow('e2e-aws: resource type aws_eks_cluster has no emulator endpoint');
  });
});

describe('prevent_destroy', () => {
  it('lists the protected resources and lifts the flag only in the copy', () => {
    const original = stack();
    expect(protectedAddresses(original)).toEqual(['aws_kms_key.key']);
    expect(protectedAddresses(withoutPreventDestroy(original))).toEqual([]);
    expect(protectedAddresses(original)).toEqual(['aws_kms_key.key']);
  });
});

describe('substituted', () => {
  it('replaces exact values only, counting them', () => {
    const input: StackJson = { resource: { aws_route53_record: { app: { zone_id: 'Z0HAKUBE', name: 'app.Z0HAKUBE.example', records: ['Z0HAKUBE'] } } } };
    const { stack: out, count } = substituted(input, [{ what: 'zone', from: 'Z0HAKUBE', to: 'ZMOTO' }]);
    expect(count).toBe(2);
    expect(out.resource?.aws_route53_record.app).toEqual({ zone_id: 'ZMOTO', name: 'app.Z0HAKUBE.example', records: ['ZMOTO'] });
  });
});

describe('the node-image stack in the emulator', () => {
  it('keeps its network, key and builder role and drops every Image Builder resource (moto has no backend for them); what is left has endpoints', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const file = join(__dirname, '..', '..', '..', 'apps', 'infra', 'cdktf.out', 'stacks', 'node-image-ap-northeast-2', 'cdk.tf.json');
    const synthesized = JSON.parse(readFileSync(file, 'utf8')) as StackJson;
    const { stack: copy, exclusions } = withoutExcluded(synthesized);
    const left = Object.keys(copy.resource ?? {});
    expect(left.filter((t) => t.startsWith('aws_imagebuilder_'))).toEqual([]);
    expect(left).toEqual(expect.arrayContaining(['aws_vpc', 'aws_subnet', 'aws_kms_key', 'aws_kms_key_policy', 'aws_iam_role', 'aws_iam_instance_profile']));
    // The five resources and the output naming the pipelines, each pulled out by an Image Builder type.
    expect(exclusions.length).toBe(6);
    expect(exclusions.every((e) => JSON.stringify(e).includes('aws_imagebuilder_'))).toBe(true);
    expect(servicesOf(copy).sort()).toEqual(['ec2', 'iam', 'kms', 'sts']);
  });

  it('has an emulator endpoint for every resource type the synthesized stacks use (excluded types aside)', () => {
    const stacks = resolve(__dirname, '../../../apps/infra/cdktf.out/stacks');
    if (!existsSync(stacks)) throw new Error(`${stacks} is missing: the test target depends on infra:synth (npx nx run infra:synth)`);
    const names = readdirSync(stacks);
    expect(names.length).toBeGreaterThan(1);
    for (const name of names) {
      const copy = withoutExcluded(JSON.parse(readFileSync(join(stacks, name, 'cdk.tf.json'), 'utf8')) as StackJson).stack;
      expect(() => servicesOf(copy), name).not.toThrow();
    }
  });
});
