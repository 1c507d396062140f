import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, formatMarkdown, runHaCheck } from '../src';
import { writeFixture } from './helpers';

const check = (options: Parameters<typeof writeFixture>[0]) => {
  const paths = writeFixture(options);
  return runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: DEFAULT_OBJECTIVES });
};
const blocked = (report: ReturnType<typeof check>) => report.findings.filter((f) => f.id === 'cold-start.blocked');

describe('cold start (day 0)', () => {
  it('HA bootstrap values: the first node comes up, then the cluster, then a joining worker; the report shows the order', () => {
    const report = check({});
    const first = report.coldStart.firstControlPlane;
    expect(first?.ok).toBe(true);
    expect(first?.steps).toEqual([
      'fixture-control-plane-a-0 registers: node-role.kubernetes.io/control-plane:NoSchedule, node.kubernetes.io/not-ready:NoSchedule, node.cloudprovider.kubernetes.io/uninitialized:NoSchedule; no zone label',
      'bootstrap/kube-system/cilium:agent scheduled on fixture-control-plane-a-0',
      // Required host anti-affinity: one operator per node, the second waits for another node.
      'bootstrap/kube-system/cilium:operator scheduled on fixture-control-plane-a-0 (1 Pending)',
      'bootstrap/kube-system/aws-cloud-controller-manager scheduled on fixture-control-plane-a-0',
      'fixture-control-plane-a-0 Ready: bootstrap/kube-system/cilium:agent runs on it, bootstrap/kube-system/cilium:operator allocated its pod CIDR',
      'fixture-control-plane-a-0 initialized by bootstrap/kube-system/aws-cloud-controller-manager: ap-northeast-2a zone label, uninitialized taint lifted',
      'bootstrap/flux-system/flux-operator scheduled on fixture-control-plane-a-0',
    ]);
    expect(report.coldStart.cluster?.ok).toBe(true);
    expect(report.coldStart.cluster?.steps).toContain('Flux layer infrastructure: 7 workload(s) (takes over bootstrap/kube-system/aws-cloud-controller-manager)');
    expect(report.coldStart.workerJoins.map((w) => [w.node, w.ok])).toEqual([
      ['fixture-general-a-joining', true],
      ['fixture-general-b-joining', true],
      ['fixture-general-c-joining', true],
    ]);
    expect(blocked(report)).toEqual([]);
    expect(report.findings.filter((f) => f.id === 'cold-start.pending')).toEqual([]);
    expect(formatMarkdown(report)).toMatch(/#### Cold start \(day 0\)[\s\S]*```mermaid\nflowchart TD\n {2}s0\["1\. fixture-control-plane-a-0 registers/);
  });

  it("today's shipped values deadlock: the operator's hard zone spread waits for the cloud controller, which waits for Ready", () => {
    const report = check({ bootstrap: 'deadlock' });
    const [f] = blocked(report);
    expect(f).toMatchObject({ severity: 'error', subject: 'first control-plane node' });
    expect(f.message).toMatch(/never becomes Ready nor initialized: cycle: CNI → cloud controller → CNI/);
    expect(f.message).toMatch(/bootstrap\/kube-system\/cilium:operator .* Pending: fixture-control-plane-a-0: no topology\.kubernetes\.io\/zone label for its DoNotSchedule topology spread — it waits for zone labels/);
    expect(f.message).toMatch(/bootstrap\/kube-system\/aws-cloud-controller-manager .* Pending: fixture-control-plane-a-0: untolerated taint node\.kubernetes\.io\/not-ready:NoSchedule — it waits for node Ready/);
    expect(f.fix).toBe('make the topology.kubernetes.io/zone spread of bootstrap/kube-system/cilium:operator ScheduleAnyway (only the cloud controller sets that label); tolerate node.kubernetes.io/not-ready:NoSchedule in bootstrap/kube-system/aws-cloud-controller-manager.');
    expect(report.coldStart.cluster).toBeUndefined();
    expect(formatMarkdown(report)).toContain('BLOCKED (fixture-control-plane-a-0): cycle: CNI → cloud controller → CNI');
  });

  it('a bootstrap add-on that cannot tolerate an uninitialized node, with a cloud controller that cannot tolerate a NotReady one', () => {
    const [f] = blocked(check({ bootstrap: 'operator-no-uninitialized' }));
    expect(f.message).toMatch(/cilium:operator .* untolerated taint node\.cloudprovider\.kubernetes\.io\/uninitialized=true:NoSchedule/);
    expect(f.fix).toContain('tolerate node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule in bootstrap/kube-system/cilium:operator');
  });

  it('one missing toleration is an order, not a deadlock: the cloud controller waits for Ready, the CNI does not wait for it', () => {
    const report = check({ bootstrap: 'ccm-not-ready' });
    expect(blocked(report)).toEqual([]);
    const steps = report.coldStart.firstControlPlane?.steps ?? [];
    expect(steps.findIndex((s) => s.includes('aws-cloud-controller-manager scheduled'))).toBeGreaterThan(steps.findIndex((s) => s.includes('Ready:')));
  });

  it('a hard zone spread alone waits for the cloud controller, which does not wait for it', () => {
    const report = check({ bootstrap: 'operator-zone-spread' });
    expect(blocked(report)).toEqual([]);
    const steps = report.coldStart.firstControlPlane?.steps ?? [];
    expect(steps.findIndex((s) => s.includes('cilium:operator scheduled'))).toBeGreaterThan(steps.findIndex((s) => s.includes('initialized by')));
  });

  it('a worker pool whose taint the CNI agent does not tolerate never turns Ready when it joins', () => {
    const report = check({ bootstrap: 'agent-no-worker-taint', workerTaints: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }] });
    const join = blocked(report).find((f) => f.subject === 'worker join: fixture-general-a');
    expect(join?.message).toMatch(/fixture-general-a-joining: not Ready; fixture-general-a-joining: untolerated taint dedicated=batch:NoSchedule/);
    expect(join?.fix).toBe('tolerate dedicated=batch:NoSchedule in bootstrap/kube-system/cilium:agent.');
  });
});
