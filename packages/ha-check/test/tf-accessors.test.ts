import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HaCheckInputError } from '../src/input-error';
import { autoscalingGroupValues, loadBalancerValues, replicationConfigurationValues, route53RecordValues, securityGroupValues, targetGroupValues } from '../src/private/tf-accessors';
import type { TfResource } from '../src/terraform';
import { editedTerraform, runCli } from './helpers';

const resource = (type: string, values: Record<string, unknown>): TfResource => ({ stack: 'fixture-cluster', type, name: 'x', address: `fixture-cluster/${type}.x`, values }) as TfResource;

describe('typed Terraform values (src/private/tf-accessors.ts)', () => {
  it('reads a block in either shape: a cdk.tf.json object or a plan one-item list', () => {
    const block = { interval: 10, healthy_threshold: 2, unhealthy_threshold: 3, protocol: 'HTTPS', path: '/readyz' };
    const synthesized = targetGroupValues(resource('aws_lb_target_group', { port: 6443, health_check: block }));
    const planned = targetGroupValues(resource('aws_lb_target_group', { port: 6443, health_check: [block] }));
    expect(planned).toEqual(synthesized);
    expect(synthesized).toMatchObject({ port: 6443, healthCheck: { intervalSeconds: 10, unhealthyThreshold: 3, protocol: 'HTTPS', path: '/readyz' } });
  });

  it('an expression known only at apply, or an absent attribute, is unknown (undefined), never a guess', () => {
    const v = targetGroupValues(resource('aws_lb_target_group', { port: '${var.api_port}' }));
    expect(v.port).toBeUndefined();
    expect(v.deregistrationDelaySeconds).toBeUndefined();
    // Numbers CDKTF wrote as literal strings are numbers.
    expect(targetGroupValues(resource('aws_lb_target_group', { deregistration_delay: '30' })).deregistrationDelaySeconds).toBe(30);
  });

  it('a number Terraform would not accept is bad input naming the address, the attribute and what it expects', () => {
    expect(() => targetGroupValues(resource('aws_lb_target_group', { health_check: { interval: 'ten' } }))).toThrow(
      new HaCheckInputError('fixture-cluster/aws_lb_target_group.x: health_check.interval: expected a number, got "ten"'),
    );
  });

  it('a boolean Terraform would not accept is bad input', () => {
    expect(() => loadBalancerValues(resource('aws_lb', { internal: 'maybe' }))).toThrow(new HaCheckInputError('fixture-cluster/aws_lb.x: internal: expected true or false, got "maybe"'));
  });

  it('a string attribute that is not a string is bad input', () => {
    expect(() => targetGroupValues(resource('aws_lb_target_group', { protocol: 6 }))).toThrow(new HaCheckInputError('fixture-cluster/aws_lb_target_group.x: protocol: expected a string, got 6'));
  });

  it('a security group rule port is named by its block', () => {
    expect(() => securityGroupValues(resource('aws_security_group', { ingress: [{ from_port: 6443, to_port: 'https', protocol: 'tcp' }] }))).toThrow(
      new HaCheckInputError('fixture-cluster/aws_security_group.x: ingress[0].to_port: expected a number, got "https"'),
    );
  });

  it('a list attribute that is not a list is bad input', () => {
    expect(() => loadBalancerValues(resource('aws_lb', { subnets: { a: 1 } }))).toThrow(new HaCheckInputError('fixture-cluster/aws_lb.x: subnets: expected a list, got {"a":1}'));
  });

  it('nested attributes are named by their path', () => {
    expect(() => replicationConfigurationValues(resource('aws_s3_bucket_replication_configuration', { rule: [{ destination: { replication_time: { status: 'Enabled', time: { minutes: 'soon' } } } }] }))).toThrow(
      new HaCheckInputError('fixture-cluster/aws_s3_bucket_replication_configuration.x: rule[0].destination.replication_time.time.minutes: expected a number, got "soon"'),
    );
    expect(() => route53RecordValues(resource('aws_route53_record', { ttl: 'sixty' }))).toThrow(new HaCheckInputError('fixture-cluster/aws_route53_record.x: ttl: expected a number, got "sixty"'));
  });

  it('an ASG reads its sizes, subnets and launch template from the one accessor', () => {
    const v = autoscalingGroupValues(
      resource('aws_autoscaling_group', { name: 'w', min_size: 1, max_size: '3', desired_capacity: '${var.n}', vpc_zone_identifier: ['${aws_subnet.a.id}'], mixed_instances_policy: [{ launch_template: [{ launch_template_specification: [{ launch_template_id: '${aws_launch_template.w.id}' }], override: [{ instance_type: 'm7i.large' }] }] }] }),
    );
    expect(v).toMatchObject({ name: 'w', minSize: 1, maxSize: 3, desiredCapacity: undefined, subnets: ['${aws_subnet.a.id}'], instanceTypeOverrides: ['m7i.large'] });
    expect(v.launchTemplateRefs).toContain('${aws_launch_template.w.id}');
  });

  it('through the CLI: a malformed target group health check is exit 2 with the same message', async () => {
    let tg = '';
    const f = editedTerraform((doc) => {
      tg = Object.keys(doc.resource.aws_lb_target_group)[0];
      (doc.resource.aws_lb_target_group[tg].health_check as Record<string, unknown>).unhealthy_threshold = 'two';
    });
    const { code, stderr } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests]);
    expect(code).toBe(2);
    expect(stderr).toBe(`ha-check: fixture-cluster/aws_lb_target_group.${tg}: health_check.unhealthy_threshold: expected a number, got "two"\n`);
  });
});

/*
 * The guard: no module reads a Terraform resource's `values` except the accessors (and the loader
 * that builds them). `.values as Json` / `.values[...]` / `.values.snake_case` are how an ad hoc
 * read looks.
 */
const SRC = join(__dirname, '..', 'src');
const READERS = new Set(['private/tf-accessors.ts', 'private/terraform-json.ts', 'terraform.ts']);
const AD_HOC = [/\.values as (Json|Record<string, unknown>)/, /\.values\[/, /\.values\.[a-z]+_[a-z_]+/];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('no analysis reads TfResource.values directly', () => {
  it('only the accessors read values', () => {
    const offenders = sources(SRC)
      .map((file) => ({ file: relative(SRC, file), text: readFileSync(file, 'utf8') }))
      .filter(({ file, text }) => !READERS.has(file) && /\b(TfResource|TerraformIndex)\b/.test(text))
      .flatMap(({ file, text }) => text.split('\n').flatMap((line, i) => (AD_HOC.some((re) => re.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : [])));
    expect(offenders).toEqual([]);
  });

  it('the guard sees an ad hoc read (it can fail)', () => {
    expect(AD_HOC.some((re) => re.test("const port = (lb.values as Json).port;"))).toBe(true);
    expect(AD_HOC.some((re) => re.test('if (asg.values.min_size > 0) return;'))).toBe(true);
  });
});
