import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { summarizePlan, type PlanJson } from '../src/pull-request/plan-summary';
import { PROTECTED_DESTROY_LABEL, protectedDestroyGate, protectedDestroys, protectedResourceRules } from '../src/apply/protected-resources';
import { FIXTURES } from './support/plans';

const platform = defaultPlatform();
const rules = protectedResourceRules(platform);
// Terraform JSON plan (format 1.2) that deletes the state bucket, replaces a KMS key and a
// control-plane ASG, and deletes an unprotected bucket.
const plan = JSON.parse(readFileSync(join(FIXTURES, 'protected-destroy.plan.json'), 'utf8')) as PlanJson;

describe('protected-destroy gate', () => {
  const destroys = protectedDestroys(summarizePlan(plan), rules);

  it('finds the state bucket, the KMS key and the control-plane ASG, not the scratch bucket', () => {
    expect(destroys.map((d) => [d.address, d.kind])).toEqual([
      ['aws_s3_bucket.state', 'delete'],
      ['aws_kms_key.cluster', 'replace'],
      ['aws_autoscaling_group.control-plane_asg-b', 'replace'],
    ]);
  });

  it('stops the apply without the label, naming every protected resource', () => {
    const gate = protectedDestroyGate(destroys, ['enhancement'], 'production-cluster');
    expect(gate.allowed).toBe(false);
    expect(gate.message).toBe(
      'production-cluster: the plan destroys protected resources and no pull request merged since the last apply has the "allow-protected-destroy" label; apply stopped:\n' +
        '  - aws_s3_bucket.state (delete: state or backup bucket)\n' +
        '  - aws_kms_key.cluster (replace: KMS key (data encrypted with it becomes unreadable))\n' +
        '  - aws_autoscaling_group.control-plane_asg-b (replace: control-plane ASG (etcd quorum))\n' +
        'To go on: add the "allow-protected-destroy" label to the merged pull request that meant the destroy, then re-run the failed apply job; to keep the resources, revert the change instead.',
    );
  });

  it('lets the apply go on with the explicit label', () => {
    expect(protectedDestroyGate(destroys, [PROTECTED_DESTROY_LABEL], 'production-cluster').allowed).toBe(true);
  });

  it('does not gate plans without protected destroys', () => {
    expect(protectedDestroyGate([], [], 'staging-cluster')).toEqual({ allowed: true, destroys: [], message: 'staging-cluster: no protected resource is destroyed.' });
  });

  it('derives every protected name from platform-config', () => {
    const buckets = rules.find((r) => r.type === 'aws_s3_bucket')?.names;
    expect(buckets?.has(platform.names.stateBucket)).toBe(true);
    expect(buckets?.has(platform.namesOf('production').etcdBackupReplicaBucket as string)).toBe(true);
    expect(rules.find((r) => r.type === 'aws_autoscaling_group')?.names?.size).toBe(9);
  });
});
