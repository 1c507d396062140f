import { describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { judgeDrift, pickDriftTargets, type DriftReport, type StateResource } from '../src/drift';

const report = (exitCode: number, changed: string[] = []): DriftReport => ({ exitCode, counts: exitCode ? '0/41/0' : 'none', changed });
const expected = ['aws_vpc_security_group_ingress_rule.r (create: -)', 'aws_autoscaling_group.a (update: max_size)'];
const stacks = ['ci-identity', 'dr-cluster'];
const before = { 'ci-identity': report(0), 'dr-cluster': report(0) };

describe('judgeDrift', () => {
  it("judges the command's own exit code: a cluster stack it already reports before the change fails the phase", () => {
    // What the run saw before the override silenced the artefacts: exit 1 with nothing beyond them.
    const verdict = judgeDrift(stacks, { ...before, 'dr-cluster': report(1) }, { 'ci-identity': report(0), 'dr-cluster': report(1, expected) }, 'dr-cluster', expected, false);
    expect(verdict.cleanBefore).toBe(false);
    expect(verdict.ok).toBe(false);
    // Only artefacts the override cannot express let the harness's filter decide.
    expect(judgeDrift(stacks, { ...before, 'dr-cluster': report(1) }, { 'ci-identity': report(0), 'dr-cluster': report(1, expected) }, 'dr-cluster', expected, true).ok).toBe(true);
  });

  it('fails when a stack other than the target exits 1, even with nothing in its plan the harness would count', () => {
    expect(judgeDrift(stacks, before, { 'ci-identity': report(1), 'dr-cluster': report(1, expected) }, 'dr-cluster', expected, false).reported).toEqual(['ci-identity', 'dr-cluster']);
  });

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

describe('pickDriftTargets', () => {
  const platform = defaultPlatform();
  const cluster = platform.cluster('staging');
  const names = platform.namesOf(cluster);
  const asg = (name: string, address = `aws_autoscaling_group.${name}`): StateResource => ({ type: 'aws_autoscaling_group', address, values: { name } });
  const rule = (address: string): StateResource => ({ type: 'aws_vpc_security_group_ingress_rule', address, values: {} });
  // State order (terraform show -json) puts workers first here: a "first ASG" pick would take a worker group.
  const resources = [asg('staging-workers-a', 'aws_autoscaling_group.a_workers'), rule('aws_vpc_security_group_ingress_rule.z'), asg(names.controlPlaneAsg(cluster.availabilityZones[1]!)), asg(names.controlPlaneAsg(cluster.availabilityZones[0]!)), rule('aws_vpc_security_group_ingress_rule.b')];

  it("picks the control-plane ASG of the cluster's first zone and the first rule by address, whatever the state order", () => {
    for (const order of [resources, [...resources].reverse()]) {
      const picked = pickDriftTargets(order, platform, names.stack);
      expect(picked.asg.values.name).toBe(names.controlPlaneAsg(cluster.availabilityZones[0]!));
      expect(picked.asg.values.name).toMatch(/control-plane/);
      expect(picked.rule.address).toBe('aws_vpc_security_group_ingress_rule.b');
    }
  });

  it('fails naming the ASG when the stack has no such control-plane group, and refuses a non-cluster stack', () => {
    expect(() => pickDriftTargets([asg('staging-workers-a'), rule('r.a')], platform, names.stack)).toThrow(`drift: ${names.stack} has no autoscaling group named ${names.controlPlaneAsg(cluster.availabilityZones[0]!)}`);
    expect(() => pickDriftTargets(resources, platform, 'ci-identity')).toThrow('drift: ci-identity is not a cluster stack');
  });
});
