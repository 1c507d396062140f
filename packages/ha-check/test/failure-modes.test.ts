import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, runHaCheck, type AzScenario, type RegionScenario } from '../src';
import { FAILURE_MODES } from './fixtures/failure-modes';
import { writeFixture } from './helpers';

const check = (options: Parameters<typeof writeFixture>[0], objectives = DEFAULT_OBJECTIVES) => {
  const paths = writeFixture(options);
  return runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives });
};
const az = (report: ReturnType<typeof check>, zone: string) => report.scenarios.find((s) => s.id === `az-loss:${zone}`) as AzScenario;

describe('the HA fixture', () => {
  const report = check({});

  it('meets the default objectives with no error', () => {
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(report.summary.objectivesMet).toBe(true);
  });

  it('survives every AZ loss with quorum, API, egress and capacity', () => {
    expect(report.azs).toEqual(['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c']);
    for (const zone of report.azs) {
      const s = az(report, zone);
      expect(s.problems).toEqual([]);
      expect(s.etcd).toEqual({ members: 3, lost: 1, surviving: 2, quorumNeeded: 2, quorum: true });
      expect(s.api).toMatchObject({ reachable: true, targetsLeft: 2, rtoSeconds: 20 });
      expect(s.egress.map((e) => e.ok)).toEqual([true, true]);
      expect(s.workloads.find((w) => w.id === 'Deployment/apps/web')).toEqual({ id: 'Deployment/apps/web', replicas: 3, lost: 1, left: 2, canReschedule: true, reason: undefined, pdb: 'exhausted', podRtoSeconds: 80 });
      // The add-ons' HelmReleases are workloads too, from their values: two replicas each, one per AZ at most.
      expect(s.workloads.filter((w) => w.id.startsWith('HelmRelease/')).map((w) => [w.id, w.replicas, w.lost])).toEqual([
        ['HelmRelease/kube-system/cluster-autoscaler', 2, 1],
        ['HelmRelease/kube-system/metrics-server', 2, 1],
        ['HelmRelease/kube-system/aws-ebs-csi-driver:controller', 2, 1],
        ['HelmRelease/kube-system/coredns', 2, 1],
        ['HelmRelease/kube-system/aws-node-termination-handler', 2, 1],
      ]);
      expect(s.recovery).toEqual({ apiSeconds: 20, podsSeconds: 80, capacitySeconds: 0, nodeDeletionSeconds: 125, appSeconds: 80 });
    }
  });

  it('reports the region: standby unknown without objectives, backups replicated to Tokyo, RPO from the user-data timer', () => {
    const region = report.scenarios.find((s) => s.kind === 'region-loss') as RegionScenario;
    expect(region.backupReplicas).toEqual([{ source: 'hakube-fixture-etcd-backups-ap-northeast-2', destination: 'hakube-fixture-etcd-backups-ap-northeast-1', region: 'ap-northeast-1' }]);
    // RPO: the 15 min timer plus the S3 replication lag (no Replication Time Control: the typical 15 min).
    expect(region).toMatchObject({ snapshotIntervalMinutes: 15, snapshotIntervalSource: 'terraform', rpoMinutes: 30, standbyCluster: undefined });
    expect(region.rpo).toEqual({ etcdRestored: true, etcdMinutes: 15, databaseMinutes: undefined, replicationLagMinutes: 15, minutes: 30, objectiveMinutes: undefined });
  });
});

describe('failure modes', () => {
  it.each(FAILURE_MODES.map((m) => [m.name, m] as const))('%s', (_name, mode) => {
    const report = check(mode.options);
    const finding = report.findings.find((f) => f.id === mode.finding.id && f.subject === mode.finding.subject);
    expect(finding, JSON.stringify(report.findings.map((f) => [f.id, f.subject]))).toBeDefined();
    if (mode.finding.message) expect(finding?.message).toMatch(mode.finding.message);
    expect(finding?.fix.length).toBeGreaterThan(10);
    // Warnings by scope: default tolerations within the RTO, a PDB that only blocks voluntary evictions (an AZ loss evicts no pod through the API).
    expect(report.summary.objectivesMet).toBe(['workload.default-tolerations', 'pdb.blocks-eviction'].includes(mode.finding.id));
    if (mode.finding.id === 'pdb.blocks-eviction') expect(finding?.severity).toBe('warning');
  });

  it('single NAT: losing the NAT AZ cuts egress of the other private subnets', () => {
    const s = az(check({ nat: 'single' }), 'ap-northeast-2a');
    expect(s.egress).toEqual([
      { subnet: 'fixture-private-b', az: 'ap-northeast-2b', via: 'fixture-nat-a', ok: false },
      { subnet: 'fixture-private-c', az: 'ap-northeast-2c', via: 'fixture-nat-a', ok: false },
    ]);
    expect(s.survives).toBe(false);
  });

  it('control plane 2+1: losing the AZ with two members loses quorum and the API; the other AZ does not', () => {
    const report = check({ controlPlaneAzs: ['ap-northeast-2a', 'ap-northeast-2a', 'ap-northeast-2b'] });
    expect(az(report, 'ap-northeast-2a').etcd).toMatchObject({ surviving: 1, quorum: false });
    expect(az(report, 'ap-northeast-2a').api.reachable).toBe(false);
    expect(az(report, 'ap-northeast-2a').recovery.apiSeconds).toBeNull();
    expect(az(report, 'ap-northeast-2b').etcd.quorum).toBe(true);
  });

  it('NLB in one subnet: losing that AZ takes the API away although etcd keeps quorum', () => {
    const s = az(check({ nlbAzs: ['ap-northeast-2a'] }), 'ap-northeast-2a');
    expect(s.etcd.quorum).toBe(true);
    expect(s.api).toMatchObject({ reachable: false, loadBalancerAzsLeft: [] });
  });

  it('single-replica StatefulSet on EBS cannot reschedule: the volume is stranded', () => {
    const s = az(check({ apps: [{ name: 'db', kind: 'StatefulSet', replicas: 1, hpaMax: 0, ebsGiB: 20, pdb: false }] }), 'ap-northeast-2a');
    expect(s.workloads[0]).toMatchObject({ lost: 1, left: 0, canReschedule: false, reason: 'zonal volume stranded in ap-northeast-2a' });
    expect(s.recovery.appSeconds).toBeNull();
  });

  it('default tolerations: pod RTO ≈ 340 s on Kubernetes 1.31 (40 s grace), and fails a 120 s app RTO', () => {
    const report = check({ apps: [{ name: 'web', tolerationSeconds: null }] }, { ...DEFAULT_OBJECTIVES, kubernetesVersion: '1.31.4', appRtoSeconds: 120 });
    expect(az(report, 'ap-northeast-2b').recovery.podsSeconds).toBe(340);
    const finding = report.findings.find((f) => f.id === 'workload.default-tolerations');
    expect(finding).toMatchObject({ severity: 'error' });
    expect(finding?.message).toContain('≈ 340 s (node-monitor grace 40 s + 300 s), above the app RTO of 120 s');
    expect(report.summary.objectivesMet).toBe(false);
  });

  it('a cluster that does not promise AZ loss gets warnings, not errors, for single NAT', () => {
    const report = check({ nat: 'single' }, { ...DEFAULT_OBJECTIVES, tolerateAzLoss: false });
    expect(report.findings.find((f) => f.id === 'nat.cross-az')?.severity).toBe('warning');
    expect(report.summary.objectivesMet).toBe(true);
  });

  it('capacity: one worker per AZ at its maximum cannot absorb a lost AZ of heavy pods', () => {
    const report = check({ workersPerAz: { min: 1, max: 1 }, apps: [{ name: 'heavy', replicas: 6, hpaMax: 0, cpu: '1500m', memory: '2Gi' }] });
    const s = az(report, 'ap-northeast-2a');
    // 2 heavy pods plus one pod of each two-replica add-on (autoscaler, metrics-server, EBS CSI controller, CoreDNS, termination handler).
    expect(s.capacity).toMatchObject({ ok: false, unplacedAfterScaleOut: 2, podsToReschedule: 7 });
    expect(report.findings.find((f) => f.id === 'capacity.insufficient')?.scenarios).toEqual(['az-loss:ap-northeast-2a', 'az-loss:ap-northeast-2b', 'az-loss:ap-northeast-2c']);
  });
});

describe('exit status follows the scenarios', () => {
  it('an AZ loss that does not survive while only warnings back it (a private subnet with no default route) fails the objectives', () => {
    const paths = writeFixture({});
    const file = join(paths.terraform, 'cdk.tf.json');
    const tf = JSON.parse(readFileSync(file, 'utf8')) as { resource: { aws_route: Record<string, unknown> } };
    delete tf.resource.aws_route.private_b_default;
    writeFileSync(file, JSON.stringify(tf));
    const report = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: DEFAULT_OBJECTIVES });
    expect(report.findings.find((f) => f.id === 'egress.no-default-route')?.severity).toBe('warning');
    const lostA = report.scenarios.find((s) => s.id === 'az-loss:ap-northeast-2a') as AzScenario;
    expect(lostA.survives).toBe(false);
    expect(report.findings.find((f) => f.id === 'scenario.not-survived' && f.subject === 'az-loss:ap-northeast-2a')).toMatchObject({ severity: 'error', message: 'az-loss:ap-northeast-2a does not survive: no egress from fixture-private-b (ap-northeast-2b) via none' });
    expect(report.summary.objectivesMet).toBe(false);
  });
});

describe('AWS routing semantics', () => {
  it('private subnets left on the VPC main route table, its default route to a NAT instance (ENI) in one AZ: that AZ takes their egress', () => {
    const paths = writeFixture({});
    const file = join(paths.terraform, 'cdk.tf.json');
    const tf = JSON.parse(readFileSync(file, 'utf8')) as { resource: Record<string, Record<string, unknown>> };
    for (const az of ['a', 'b', 'c']) {
      delete tf.resource.aws_route_table_association[`private_${az}`];
      delete tf.resource.aws_route[`private_${az}_default`];
    }
    tf.resource.aws_network_interface = { nat: { subnet_id: '${aws_subnet.public_a.id}', source_dest_check: false, tags: { Name: 'fixture-nat-instance' } } };
    tf.resource.aws_default_route_table = { main: { default_route_table_id: '${aws_vpc.vpc.default_route_table_id}', route: [{ cidr_block: '0.0.0.0/0', network_interface_id: '${aws_network_interface.nat.id}' }] } };
    writeFileSync(file, JSON.stringify(tf));
    const report = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: DEFAULT_OBJECTIVES });
    expect(report.findings.find((f) => f.id === 'nat.cross-az')).toMatchObject({ severity: 'error', subject: 'fixture-nat-instance', scenarios: ['az-loss:ap-northeast-2a'] });
    const lostA = report.scenarios.find((s) => s.id === 'az-loss:ap-northeast-2a') as AzScenario;
    expect(lostA.egress.map((e) => [e.subnet, e.via, e.ok])).toEqual([
      ['fixture-private-b', 'fixture-nat-instance', false],
      ['fixture-private-c', 'fixture-nat-instance', false],
    ]);
  });
});
