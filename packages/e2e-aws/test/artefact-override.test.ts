import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { artefactIgnores, HARNESS_ARTEFACTS, withArtefactIgnores } from '../src/artefact-override';
import { IDEMPOTENCE_ARTEFACTS } from '../src/emulator-gaps';
import type { StackJson } from '../src/stack-copy';

const PROVIDER_MIRROR = '/opt/tf-plugins';

const stack: StackJson = {
  resource: {
    aws_autoscaling_group: { workers: { max_size: 3, lifecycle: { ignore_changes: ['desired_capacity'] } }, cp: { max_size: 1 }, all: { max_size: 1, lifecycle: { ignore_changes: 'all' } } },
    aws_vpc_security_group_ingress_rule: { from_group: { referenced_security_group_id: '${aws_security_group.a.id}', description: 'kubelet' }, from_cidr: { cidr_ipv4: '10.0.0.0/16', description: 'api' } },
    aws_s3_bucket_replication_configuration: { replication: { rule: [{ id: 'a' }, { id: 'b' }] } },
    aws_s3_bucket: { protected: { bucket: 'b', lifecycle: { prevent_destroy: true } } },
    aws_launch_template: { lt: { name: 'lt' } },
  },
};

describe('artefactIgnores: the e2e override silences the emulator artefacts with ignore_changes', () => {
  const ignores = artefactIgnores(stack);

  it("keeps the stack's own ignore_changes (an override's list replaces the original) and leaves `all` alone", () => {
    expect(ignores.aws_autoscaling_group.workers.lifecycle.ignore_changes).toEqual(['desired_capacity', 'capacity_reservation_specification']);
    expect(ignores.aws_autoscaling_group.cp.lifecycle.ignore_changes).toEqual(['capacity_reservation_specification']);
    expect(ignores.aws_autoscaling_group.all).toBeUndefined();
  });

  it('ignores a rule description only where moto loses it (a group-referencing rule), and replication rules by index', () => {
    expect(ignores.aws_vpc_security_group_ingress_rule.from_group.lifecycle.ignore_changes).toEqual(['description']);
    expect(ignores.aws_vpc_security_group_ingress_rule.from_cidr).toBeUndefined();
    expect(ignores.aws_s3_bucket_replication_configuration.replication.lifecycle.ignore_changes).toEqual(['rule[0].delete_marker_replication', 'rule[1].delete_marker_replication', 'rule[0].filter', 'rule[1].filter', 'rule[0].source_selection_criteria', 'rule[1].source_selection_criteria']);
    expect(ignores.aws_launch_template.lt.lifecycle.ignore_changes).toEqual(['tag_specifications']);
    // prevent_destroy is merged argument by argument: the override never mentions it.
    expect(ignores.aws_s3_bucket).toBeUndefined();
  });

  it('accounts for every artefact: ignored, following another, or left to the harness with a reason', () => {
    for (const a of IDEMPOTENCE_ARTEFACTS) {
      const s = a.silenced;
      if ('follows' in s) expect(IDEMPOTENCE_ARTEFACTS.some((o) => 'ignore' in o.silenced && s.follows.startsWith(`${o.type} `))).toBe(true);
    }
    expect(HARNESS_ARTEFACTS).toEqual([]);
  });

  it('is an override Terraform accepts: validate merges it into the stack (lifecycle argument by argument)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'artefact-override-'));
    try {
      const config = {
        resource: {
          aws_autoscaling_group: { workers: { max_size: 3, min_size: 1, availability_zones: ['eu-west-1a'], launch_template: [{ id: 'lt-1', version: '$Latest' }], lifecycle: { ignore_changes: ['desired_capacity'] } } },
          aws_s3_bucket_replication_configuration: { replication: { bucket: 'b', role: 'arn:aws:iam::123456789012:role/r', rule: [{ id: 'a', status: 'Enabled', destination: [{ bucket: 'arn:aws:s3:::d' }] }] } },
          aws_s3_bucket: { protected: { bucket: 'b', lifecycle: { prevent_destroy: true } } },
          aws_autoscaling_lifecycle_hook: { hook: { name: 'h', autoscaling_group_name: 'g', lifecycle_transition: 'autoscaling:EC2_INSTANCE_TERMINATING' } },
          aws_vpc_security_group_ingress_rule: { rule: { security_group_id: 'sg-1', referenced_security_group_id: 'sg-2', ip_protocol: 'tcp', from_port: 10250, to_port: 10250, description: 'kubelet' } },
          aws_vpc_security_group_egress_rule: { rule: { security_group_id: 'sg-1', referenced_security_group_id: 'sg-2', ip_protocol: '-1', description: 'all' } },
          aws_launch_template: { lt: { name: 'template', tag_specifications: [{ resource_type: 'instance', tags: { a: 'b' } }] } },
          aws_route53_zone: { zone: { name: 'internal.example', vpc: [{ vpc_id: 'vpc-1' }] } },
        },
        terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: '5.100.0' } } },
      };
      writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify(config));
      writeFileSync(join(dir, 'zz_e2e_aws_override.tf.json'), JSON.stringify(withArtefactIgnores({}, config as StackJson)));
      writeFileSync(join(dir, 'offline.tfrc'), `provider_installation {\n  filesystem_mirror {\n    path = "${PROVIDER_MIRROR}"\n  }\n}\n`);
      const env = { ...process.env, TF_CLI_CONFIG_FILE: join(dir, 'offline.tfrc'), TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' };
      execFileSync('terraform', ['init', '-backend=false', '-input=false'], { cwd: dir, env, stdio: 'pipe' });
      // validate resolves every ignore_changes expression against the provider's schema.
      execFileSync('terraform', ['validate', '-no-color'], { cwd: dir, env, stdio: 'pipe' });
      // …and would refuse a path the schema does not have (so the passing validate above means something).
      writeFileSync(join(dir, 'zz_e2e_aws_override.tf.json'), JSON.stringify({ resource: { aws_s3_bucket_replication_configuration: { replication: { lifecycle: { ignore_changes: ['rule[0].no_such_block'] } } } } }));
      expect(() => execFileSync('terraform', ['validate', '-no-color'], { cwd: dir, env, stdio: 'pipe' })).toThrow(/Unsupported attribute|no_such_block/);
      const ignored = artefactIgnores(config as StackJson);
      expect(Object.keys(ignored).sort()).toEqual(['aws_autoscaling_group', 'aws_autoscaling_lifecycle_hook', 'aws_launch_template', 'aws_route53_zone', 'aws_s3_bucket_replication_configuration', 'aws_vpc_security_group_egress_rule', 'aws_vpc_security_group_ingress_rule']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
