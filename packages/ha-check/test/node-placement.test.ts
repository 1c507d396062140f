import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, runHaCheck, type AzScenario } from '../src';
import { HaCheckInputError } from '../src/input-error';
import { autoscalerFromArgs, autoscalerFromValues, discovers } from '../src/private/autoscaler-config';
import { desiredHealthy, disruptionsAllowed } from '../src/private/pdb-budget';
import { writeFixture } from './helpers';

const A = 'ap-northeast-2a';
const check = (options: Parameters<typeof writeFixture>[0], objectives = DEFAULT_OBJECTIVES) => {
  const paths = writeFixture(options);
  return runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives });
};
const lose = (report: ReturnType<typeof check>, zone = A) => report.scenarios.find((s) => s.id === `az-loss:${zone}`) as AzScenario;
const finding = (report: ReturnType<typeof check>, id: string, subject?: string) => report.findings.find((f) => f.id === id && (subject === undefined || f.subject === subject));

describe('pods on simulated nodes', () => {
  it('places pods per node, not on pooled capacity: two 2500m pods never share a 4-vCPU node', () => {
    // 2 nodes per AZ hold 7.6 vCPU of room each pool: pooled, 3 pods of 2500m fit per pool (9); per node only 1 (6).
    const report = check({ workersPerAz: { min: 2, max: 2 }, apps: [{ name: 'big', replicas: 7, hpaMax: 0, spread: 'none', cpu: '2500m', memory: '1Gi' }] });
    expect(finding(report, 'capacity.baseline-short')?.message).toMatch(/^1 pod\(s\) do not fit the nodes running before any failure: Deployment\/apps\/big 1 \(insufficient cpu/);
  });

  it('scales the ASGs the autoscaler discovers up to their maximum and holds the time it takes (scan 10 s + launch 90 s + boot 120 s) to the app RTO', () => {
    const heavy = { name: 'heavy', replicas: 6, hpaMax: 0, cpu: '1500m', memory: '2Gi' } as const;
    const report = check({ workersPerAz: { min: 1, max: 3 }, apps: [heavy] }, { ...DEFAULT_OBJECTIVES, appRtoSeconds: 120 });
    const s = lose(report);
    expect(s.placement.pendingNow.map((p) => [p.workload, p.pods])).toEqual([['Deployment/apps/heavy', 2]]);
    expect(s.placement.nodesAdded.reduce((n, g) => n + g.nodes, 0)).toBeGreaterThan(0);
    expect(s.placement.pending).toEqual([]);
    expect(s.placement.waitsForScaleOut).toEqual(['Deployment/apps/heavy']);
    expect(s.recovery).toMatchObject({ podsSeconds: 80, capacitySeconds: 220, appSeconds: 300 });
    expect(finding(report, 'capacity.headroom')).toMatchObject({ severity: 'error' });
    expect(finding(report, 'capacity.headroom')?.message).toContain('app recovery ≈ 300 s > 120 s');
  });

  it('a pool whose ASG lacks a tag the autoscaler discovers by is never grown: the mismatch is a finding and the pods stay Pending', () => {
    const report = check({ workersPerAz: { min: 1, max: 3 }, autoscalerDiscoveryTags: ['k8s.io/cluster-autoscaler/enabled', 'k8s.io/cluster-autoscaler/other-cluster'], apps: [{ name: 'heavy', replicas: 6, hpaMax: 0, cpu: '1500m', memory: '2Gi' }] });
    expect(finding(report, 'autoscaler.discovery-mismatch', 'fixture-general-a')).toMatchObject({ severity: 'error' });
    expect(finding(report, 'autoscaler.discovery-mismatch', 'fixture-general-a')?.message).toContain('it lacks k8s.io/cluster-autoscaler/other-cluster');
    const s = lose(report);
    expect(s.placement.nodesAdded).toEqual([]);
    expect(s.placement.pending.map((p) => [p.workload, p.pods])).toEqual([['Deployment/apps/heavy', 2]]);
    expect(s.capacity.ok).toBe(false);
    expect(finding(report, 'capacity.insufficient')?.message).toMatch(/Deployment\/apps\/heavy 2 \(insufficient cpu/);
  });

  it('the shipped discovery (enabled + the cluster tag) finds the fixture pools: no mismatch', () => {
    expect(finding(check({}), 'autoscaler.discovery-mismatch')).toBeUndefined();
  });

  it('when capacity stays short, a higher PriorityClass preempts lower pods (kube-scheduler), and the preempted workload is what stays Pending', () => {
    const report = check({
      workersPerAz: { min: 1, max: 1 },
      priorityClasses: { 'business-critical': 100_000 },
      apps: [
        { name: 'batch', replicas: 3, hpaMax: 0, cpu: '1500m', memory: '2Gi' },
        { name: 'orders', replicas: 3, hpaMax: 0, cpu: '1500m', memory: '2Gi', priorityClassName: 'business-critical' },
      ],
    });
    const s = lose(report);
    expect(s.placement.preempted).toEqual([{ workload: 'Deployment/apps/batch', pods: 1, by: ['Deployment/apps/orders'] }]);
    expect(s.placement.pending.map((p) => [p.workload, p.pods, p.priority])).toEqual([['Deployment/apps/batch', 2, 0]]);
    expect(s.workloads.find((w) => w.id === 'Deployment/apps/orders')).toMatchObject({ canReschedule: true });
    expect(finding(report, 'workload.preempted', 'Deployment/apps/batch')?.message).toMatch(/1 pod\(s\) preempted by higher-priority Deployment\/apps\/orders and 2 stay Pending \(priority 0\)/);
  });
});

describe('nodeTaintsPolicy and the lost AZ’s Node objects', () => {
  it('Ignore (the default): the unreachable Nodes still count their zone with 0 pods, so the lost pod waits for their deletion (≈ 125 s) — above a 120 s app RTO', () => {
    const report = check({ apps: [{ name: 'web', nodeTaintsPolicy: 'Ignore' }] }, { ...DEFAULT_OBJECTIVES, appRtoSeconds: 120 });
    const s = lose(report);
    expect(s.placement.pendingNow.map((p) => p.workload)).toContain('Deployment/apps/web');
    expect(s.placement.waitsForNodeDeletion).toEqual(['Deployment/apps/web']);
    expect(s.recovery.nodeDeletionSeconds).toBe(125);
    expect(s.recovery.appSeconds).toBe(125);
    const f = finding(report, 'workload.spread-waits-node-deletion', 'Deployment/apps/web');
    expect(f).toMatchObject({ severity: 'error' });
    expect(f?.message).toContain('back after ≈ 125 s, above the app RTO of 120 s');
    expect(f?.message).toContain('125 s = EC2 status check 60 s + termination 60 s + cloud controller monitor period 5 s');
  });

  it('Honor: the unreachable Nodes are not a domain, the pod moves at once', () => {
    const s = lose(check({ apps: [{ name: 'web', nodeTaintsPolicy: 'Honor' }] }, { ...DEFAULT_OBJECTIVES, appRtoSeconds: 120 }));
    expect(s.placement.waitsForNodeDeletion).toEqual([]);
    expect(s.recovery.appSeconds).toBe(80);
  });

  it('a pod that needs both a new node and the dead Nodes gone waits for both: deletion 125 s + scale-out 220 s', () => {
    const report = check({ workersPerAz: { min: 1, max: 3 }, apps: [{ name: 'heavy', replicas: 6, hpaMax: 0, cpu: '1500m', memory: '2Gi', nodeTaintsPolicy: 'Ignore' }] }, { ...DEFAULT_OBJECTIVES, appRtoSeconds: 120 });
    const s = lose(report);
    expect(s.placement.waitsForNodeDeletion).toEqual(['Deployment/apps/heavy']);
    expect(s.placement.waitsForScaleOut).toEqual(['Deployment/apps/heavy']);
    expect(s.recovery).toMatchObject({ capacitySeconds: 220, nodeDeletionSeconds: 125, appSeconds: 345 });
    expect(finding(report, 'capacity.headroom')?.message).toMatch(/Deployment\/apps\/heavy wait for .*new node\(s\) of fixture-general-.*≈ 220 s .*app recovery ≈ 345 s > 120 s/);
  });

  it('without a cloud controller nothing deletes the Nodes: the pod stays Pending and the spread finding names nodeTaintsPolicy', () => {
    const report = check({ addons: ['cluster-autoscaler', 'coredns', 'metrics-server', 'ebs-csi'], apps: [{ name: 'web', nodeTaintsPolicy: 'Ignore' }] });
    const s = lose(report);
    expect(s.recovery.nodeDeletionSeconds).toBeNull();
    expect(s.workloads.find((w) => w.id === 'Deployment/apps/web')).toMatchObject({ canReschedule: false });
    expect(finding(report, 'workload.spread-blocks-reschedule', 'Deployment/apps/web')?.message).toContain('nodeTaintsPolicy: Honor lets them reschedule');
  });
});

describe('PDB percentages, rounded as the disruption controller does', () => {
  it('rounds both percentages up (GetScaledValueFromIntOrPercent with roundUp)', () => {
    expect(desiredHealthy({ name: 'x', minAvailable: undefined, maxUnavailable: '34%' }, 3)).toBe(1); // 3 - ceil(1.02)
    expect(desiredHealthy({ name: 'x', minAvailable: '90%', maxUnavailable: undefined }, 3)).toBe(3); // ceil(2.7)
    expect(desiredHealthy({ name: 'x', minAvailable: '50%', maxUnavailable: undefined }, 3)).toBe(2);
    expect(disruptionsAllowed({ name: 'x', minAvailable: undefined, maxUnavailable: '10%' }, 3, 3)).toBe(1);
  });

  it('maxUnavailable 34% of 3 still allows a disruption with the 2 left after an AZ loss (floor would say exhausted)', () => {
    const w = lose(check({ apps: [{ name: 'web', pdb: { maxUnavailable: '34%' } }] })).workloads.find((x) => x.id === 'Deployment/apps/web');
    expect(w).toMatchObject({ left: 2, pdb: 'ok' });
  });

  it('minAvailable 90% of 3 rounds up to 3: every drain stalls', () => {
    const report = check({ apps: [{ name: 'web', pdb: { minAvailable: '90%' } }] });
    expect(finding(report, 'pdb.blocks-eviction', 'Deployment/apps/web')).toMatchObject({ severity: 'warning' });
    expect(lose(report).workloads.find((x) => x.id === 'Deployment/apps/web')?.pdb).toBe('blocks-all-evictions');
  });

  it('maxUnavailable 10% of 3 rounds up to 1: drains proceed, no finding', () => {
    expect(finding(check({ apps: [{ name: 'web', pdb: { maxUnavailable: '10%' } }] }), 'pdb.blocks-eviction')).toBeUndefined();
  });

  it('a bound the API server rejects (a string that is no percentage) is bad input naming the field', () => {
    expect(() => check({ apps: [{ name: 'web', pdb: { maxUnavailable: '1' } }] })).toThrow(new HaCheckInputError('PodDisruptionBudget/apps/web: spec.maxUnavailable: expected a whole number ≥ 0 or a percentage ("50%"), got "1"'));
  });
});

describe('cluster-autoscaler configuration, as the chart and the binary read it', () => {
  const tags = { 'k8s.io/cluster-autoscaler/enabled': 'owned', 'k8s.io/cluster-autoscaler/production': 'owned' };

  it('chart values: the default tags need autoDiscovery.clusterName (templated in), extraArgs.scan-interval is a Go duration', () => {
    const a = autoscalerFromValues({ autoDiscovery: { clusterName: 'production' }, extraArgs: { 'scan-interval': '1m30s' } }, 'HelmRelease/kube-system/cluster-autoscaler');
    expect(a).toMatchObject({ discoveryTags: ['k8s.io/cluster-autoscaler/enabled', 'k8s.io/cluster-autoscaler/production'], scanIntervalSeconds: 90, scanIntervalSource: 'configured' });
    expect(discovers(a, 'production-general-a', tags)).toBe(true);
    expect(discovers(a, 'staging-general-a', { 'k8s.io/cluster-autoscaler/enabled': 'owned', 'k8s.io/cluster-autoscaler/staging': 'owned' })).toBe(false);
    // Without clusterName the chart renders no --node-group-auto-discovery: nothing is discovered.
    const none = autoscalerFromValues({}, 'HelmRelease/kube-system/cluster-autoscaler');
    expect(none).toMatchObject({ discoveryTags: undefined, scanIntervalSeconds: 10, scanIntervalSource: 'default', maxNodeProvisionSeconds: 900, balanceSimilarNodeGroups: false });
    // The dead-AZ wait: --max-node-provision-time (a Go duration) and --balance-similar-node-groups.
    expect(autoscalerFromValues({ extraArgs: { 'max-node-provision-time': '10m', 'balance-similar-node-groups': true } }, 'x')).toMatchObject({ maxNodeProvisionSeconds: 600, balanceSimilarNodeGroups: true });
    expect(autoscalerFromArgs(['--max-node-provision-time=5m', '--balance-similar-node-groups'], 'x')).toMatchObject({ maxNodeProvisionSeconds: 300, balanceSimilarNodeGroups: true });
    expect(discovers(none, 'production-general-a', tags)).toBe(false);
  });

  it('a command line: asg:tag= keys (and key=value), --nodes by name, --scan-interval', () => {
    const a = autoscalerFromArgs(['./cluster-autoscaler', '--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/production=owned', '--nodes=1:10:burst-pool', '--scan-interval=20s'], 'Deployment/kube-system/cluster-autoscaler');
    expect(a).toMatchObject({ groupNames: ['burst-pool'], scanIntervalSeconds: 20 });
    expect(discovers(a, 'production-general-a', tags)).toBe(true);
    expect(discovers(a, 'production-general-a', { ...tags, 'k8s.io/cluster-autoscaler/production': 'shared' })).toBe(false);
    expect(discovers(a, 'burst-pool', {})).toBe(true);
  });

  it('a configured scan interval is the first term of the scale-out time', () => {
    const paths = writeFixture({ workersPerAz: { min: 1, max: 3 }, apps: [{ name: 'heavy', replicas: 6, hpaMax: 0, cpu: '1500m', memory: '2Gi' }] });
    const file = `${paths.manifests}/infrastructure/resources.yaml`;
    const text = readFileSync(file, 'utf8').replace('autoDiscovery:', 'extraArgs:\n      scan-interval: 1m\n    autoDiscovery:');
    writeFileSync(file, text);
    const report = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: DEFAULT_OBJECTIVES });
    expect(lose(report).recovery.capacitySeconds).toBe(270);
    expect(report.assumptions.capacityRecoverySeconds).toBe(270);
  });
});
