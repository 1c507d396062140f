import { describe, expect, it } from 'vitest';
import { changeKind, renderPlanLines, summarizePlan } from '../src/pull-request/plan-summary';
import { change, recordedPlan } from './support/plans';

describe('summarizePlan', () => {
  it('counts the recorded offline plan of ci-identity as Terraform does', () => {
    const summary = summarizePlan(recordedPlan());
    expect({ add: summary.add, change: summary.change, destroy: summary.destroy }).toEqual({ add: 6, change: 0, destroy: 0 });
    expect(summary.changes.map((c) => c.type)).toContain('aws_iam_openid_connect_provider');
    expect(summary.deletions).toEqual([]);
    expect(summary.hasChanges).toBe(true);
  });

  it('counts a replacement as one add and one destroy, and lists deletions and replacements apart', () => {
    const summary = summarizePlan({
      resource_changes: [
        change('aws_instance', 'a', ['delete', 'create'], { id: 'i-1' }),
        change('aws_instance', 'b', ['create', 'delete'], { id: 'i-2' }),
        change('aws_s3_bucket', 'c', ['delete'], { bucket: 'x' }),
        change('aws_vpc', 'd', ['update'], { id: 'vpc-1' }),
        change('aws_subnet', 'e', ['no-op'], { id: 's' }),
        { ...change('aws_ami', 'f', ['read']), mode: 'data' },
      ],
    });
    expect({ add: summary.add, change: summary.change, destroy: summary.destroy }).toEqual({ add: 2, change: 1, destroy: 3 });
    expect(summary.replacements.map((r) => r.address)).toEqual(['aws_instance.a', 'aws_instance.b']);
    expect(summary.deletions.map((r) => r.address)).toEqual(['aws_s3_bucket.c']);
    expect(renderPlanLines(summary)).toContain('-/+ aws_instance.a');
  });

  it('reports no changes for an all no-op plan', () => {
    expect(summarizePlan({ resource_changes: [change('aws_vpc', 'v', ['no-op'])] }).hasChanges).toBe(false);
  });

  it('rejects actions it does not know, naming them', () => {
    expect(() => changeKind(['explode'])).toThrow('unknown Terraform plan actions ["explode"]; expected one of create, update, delete, read, no-op, forget, [delete,create], [create,delete]');
  });
});
