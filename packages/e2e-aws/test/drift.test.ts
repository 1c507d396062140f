import { describe, expect, it } from 'vitest';
import { judgeDrift, type DriftReport } from '../src/drift';

const report = (exitCode: number, changed: string[] = []): DriftReport => ({ exitCode, counts: exitCode ? '0/41/0' : 'none', changed });
const expected = ['aws_vpc_security_group_ingress_rule.r (create: -)', 'aws_autoscaling_group.a (update: max_size)'];
const stacks = ['ci-identity', 'dr-cluster'];
const before = { 'ci-identity': report(0), 'dr-cluster': report(1) };

describe('judgeDrift', () => {
  it('passes when only the target shows the rule and the ASG max size beyond the artefacts', () => {
    expect(judgeDrift(stacks, before, { 'ci-identity': report(0), 'dr-cluster': report(1, [...expected].reverse()) }, 'dr-cluster', expected).ok).toBe(true);
  });

  it('fails when the ASG max size is missing, which the counts alone could not tell', () => {
    const verdict = judgeDrift(stacks, before, { 'ci-identity': report(0), 'dr-cluster': report(1, [expected[0]]) }, 'dr-cluster', expected);
    expect(verdict.ok).toBe(false);
    expect(verdict.reported).toEqual(['dr-cluster']);
  });

  it('fails when another stack changes too, or a stack already changed before', () => {
    expect(judgeDrift(stacks, before, { 'ci-identity': report(1, ['aws_iam_role.x (update: name)']), 'dr-cluster': report(1, expected) }, 'dr-cluster', expected).ok).toBe(false);
    expect(judgeDrift(stacks, { ...before, 'ci-identity': report(1, ['aws_iam_role.x (update: name)']) }, { 'ci-identity': report(0), 'dr-cluster': report(1, expected) }, 'dr-cluster', expected).cleanBefore).toBe(false);
  });
});
