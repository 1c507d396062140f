import { describe, expect, it } from 'vitest';
import { judgeIdempotence, type PlanJson } from '../src/plan-judge';

const update = (type: string, before: Record<string, unknown>, after: Record<string, unknown>, afterUnknown: Record<string, unknown> = {}): PlanJson['resource_changes'] => [
  { address: `${type}.x`, type, mode: 'managed', change: { actions: ['update'], before, after, after_unknown: afterUnknown } },
];

describe('judgeIdempotence', () => {
  it('ignores the description moto does not read back for a group-referencing rule', () => {
    const verdict = judgeIdempotence({ resource_changes: update('aws_vpc_security_group_ingress_rule', { description: null, referenced_security_group_id: 'sg-1', from_port: 443 }, { description: 'API', referenced_security_group_id: 'sg-1', from_port: 443 }) });
    expect(verdict.changed).toEqual([]);
    expect(verdict.ignored.map((i) => i.change.path)).toEqual(['description']);
  });

  it('counts a description change on a CIDR rule, which moto does read back', () => {
    const verdict = judgeIdempotence({ resource_changes: update('aws_vpc_security_group_ingress_rule', { description: null, cidr_ipv4: '10.0.0.0/16' }, { description: 'API', cidr_ipv4: '10.0.0.0/16' }) });
    expect(verdict.changed).toEqual([{ address: 'aws_vpc_security_group_ingress_rule.x', actions: 'update', paths: ['description'] }]);
  });

  it('counts any other attribute beside an artefact', () => {
    const verdict = judgeIdempotence({ resource_changes: update('aws_vpc_security_group_ingress_rule', { description: null, referenced_security_group_id: 'sg-1', to_port: 443 }, { description: 'API', referenced_security_group_id: 'sg-1', to_port: 444 }) });
    expect(verdict.changed[0].paths).toEqual(['to_port']);
  });

  it('ignores only the extra launch-template tag block moto copies into the template data, and the version that follows', () => {
    const instance = { resource_type: 'instance', tags: { Name: 'n' } };
    const extra = { resource_type: 'launch-template', tags: { Name: 'n' } };
    const lt = update('aws_launch_template', { tag_specifications: [instance, extra], default_version: 1, latest_version: 1 }, { tag_specifications: [instance] }, { default_version: true, latest_version: true });
    expect(judgeIdempotence({ resource_changes: lt }).changed).toEqual([]);
    // The plan JSON marks nested unknowns per element: a dropped element must still count.
    const dropped = update('aws_launch_template', { tag_specifications: [instance, extra] }, { tag_specifications: [instance] }, { tag_specifications: [{ tags: {} }] });
    expect(judgeIdempotence({ resource_changes: dropped }).ignored.map((i) => i.change.path)).toEqual(['tag_specifications']);
    const droppedReal = update('aws_launch_template', { tag_specifications: [instance, { ...instance, resource_type: 'volume' }] }, { tag_specifications: [instance] }, { tag_specifications: [{ tags: {} }] });
    expect(judgeIdempotence({ resource_changes: droppedReal }).changed[0].paths).toEqual(['tag_specifications']);
    const realChange = update('aws_launch_template', { tag_specifications: [instance, extra] }, { tag_specifications: [{ ...instance, tags: { Name: 'm' } }] });
    expect(judgeIdempotence({ resource_changes: realChange }).changed[0].paths).toEqual(['tag_specifications']);
  });

  it('ignores an ASG launch template version becoming unknown, not one changing to a known value', () => {
    const unknown = update('aws_autoscaling_group', { launch_template: [{ id: 'lt-1', version: '1' }] }, { launch_template: [{ id: 'lt-1' }] }, { launch_template: [{ version: true }] });
    expect(judgeIdempotence({ resource_changes: unknown }).changed).toEqual([]);
    const pinned = update('aws_autoscaling_group', { launch_template: [{ id: 'lt-1', version: '1' }] }, { launch_template: [{ id: 'lt-1', version: '2' }] });
    expect(judgeIdempotence({ resource_changes: pinned }).changed[0].paths).toEqual(['launch_template.*.version']);
  });

  it('counts creates, deletes and replacements whatever the attributes', () => {
    const verdict = judgeIdempotence({
      resource_changes: [
        { address: 'aws_s3_bucket.b', type: 'aws_s3_bucket', change: { actions: ['create'], before: null, after: {} } },
        { address: 'aws_kms_key.k', type: 'aws_kms_key', change: { actions: ['delete', 'create'], before: {}, after: {} } },
        { address: 'aws_vpc.v', type: 'aws_vpc', change: { actions: ['no-op'], before: {}, after: {} } },
      ],
    });
    expect(verdict.changed.map((c) => `${c.address} ${c.actions}`)).toEqual(['aws_s3_bucket.b create', 'aws_kms_key.k delete,create']);
  });
});
