import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, runHaCheck, type AzScenario } from '../src';
import type { PodTemplateModel } from '../src/model';
import { Scheduler, type SimNode } from '../src/private/scheduler';
import { syntheticCluster, writeSyntheticCluster } from '../bench/synthetic-cluster';
import { tempDir } from './helpers';

type Cluster = ReturnType<typeof syntheticCluster>;
/** The fixture with one edit to the Deployment `web`'s pod spec, as a reviewer would make it. */
function checkWithWeb(edit: (podSpec: Record<string, unknown>, spec: Record<string, unknown>) => void) {
  const cluster: Cluster = syntheticCluster();
  const web = cluster.manifests.apps.find((o) => o.kind === 'Deployment' && (o.metadata as { name: string }).name === 'web') as { spec: Record<string, unknown> & { template: { spec: Record<string, unknown> } } };
  edit(web.spec.template.spec, web.spec);
  const paths = writeSyntheticCluster(tempDir(), cluster);
  return runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: DEFAULT_OBJECTIVES });
}
const WEB = 'Deployment/apps/web';
const poolTerm = (pool: string) => ({ matchExpressions: [{ key: 'node.platform.io/pool', operator: 'In', values: [pool] }] });

describe('required nodeSelectorTerms are ORed', () => {
  it('two terms that each name a pool no ASG has: no node qualifies (the terms are not ignored because there are several)', () => {
    const report = checkWithWeb((podSpec) => {
      delete podSpec.nodeSelector;
      podSpec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [poolTerm('gpu'), poolTerm('batch')] } } };
    });
    expect(report.findings.find((f) => f.id === 'workload.unschedulable' && f.subject === WEB)).toBeDefined();
  });
  it('one matching term is enough', () => {
    const report = checkWithWeb((podSpec) => {
      delete podSpec.nodeSelector;
      podSpec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [poolTerm('gpu'), poolTerm('general')] } } };
    });
    expect(report.findings.filter((f) => f.subject === WEB).map((f) => f.id)).not.toContain('workload.unschedulable');
    expect(report.summary.objectivesMet).toBe(true);
  });
});

describe('a hard zone spread whose maxSkew is at least the replica count', () => {
  it('constrains nothing (all 3 replicas may share one zone): no-zone-spread, and the AZ loss that takes them all fails', () => {
    const report = checkWithWeb((podSpec) => {
      (podSpec.topologySpreadConstraints as Array<Record<string, unknown>>)[0].maxSkew = 3;
    });
    const finding = report.findings.find((f) => f.id === 'workload.no-zone-spread' && f.subject === WEB);
    expect(finding?.message).toMatch(/maxSkew 3 ≥ 3 replicas/);
    const scenario = report.scenarios.find((s) => s.id.startsWith('az-loss:')) as AzScenario;
    expect(scenario.workloads.find((w) => w.id === WEB)).toMatchObject({ lost: 3, left: 0 });
    expect(report.summary.objectivesMet).toBe(false);
  });
  it('maxSkew 2 of 3 replicas still spreads (at most 2 in one zone): no finding', () => {
    const report = checkWithWeb((podSpec) => {
      (podSpec.topologySpreadConstraints as Array<Record<string, unknown>>)[0].maxSkew = 2;
    });
    expect(report.findings.find((f) => f.id === 'workload.no-zone-spread' && f.subject === WEB)).toBeUndefined();
  });
});

describe('minDomains (PodTopologySpread filter)', () => {
  const node = (name: string, az: string): SimNode => ({ name, group: 'workers', role: 'worker', az, labels: { 'topology.kubernetes.io/zone': az, 'kubernetes.io/hostname': name }, taints: [] });
  const template = (minDomains: number | undefined): PodTemplateModel => ({
    id: 'Deployment/apps/web',
    kind: 'Deployment',
    replicas: 4,
    labels: { app: 'web' },
    layer: 'apps',
    nodeSelector: {},
    nodeAffinityTerms: [],
    tolerations: [],
    spread: [{ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', selector: { matchLabels: { app: 'web' } }, minDomains, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore' }],
    antiAffinity: [],
    hostNetwork: false,
    hostPorts: [],
    requests: { cpuMilli: 0, memoryMiB: 0 },
  });
  const place = (minDomains: number | undefined) => {
    const s = new Scheduler();
    s.nodes.push(node('a-0', 'a'), node('a-1', 'a'), node('b-0', 'b'), node('b-1', 'b'));
    s.touch();
    return s.schedule(template(minDomains));
  };
  it('without it, two zones take 4 pods at skew 1', () => {
    expect(place(undefined).pending).toBe(0);
  });
  it('with more domains required than exist, the global minimum counts as 0: one pod per zone, the rest Pending', () => {
    const r = place(3);
    expect(r.placedOn).toHaveLength(2);
    expect(r.pending).toBe(2);
    expect(r.reasons.join('\n')).toMatch(/skew 2 > maxSkew 1/);
  });
});

describe('a spread constraint counts every matching pod, whenever its template first lands', () => {
  const ZONE = 'topology.kubernetes.io/zone';
  const node = (name: string, az: string): SimNode => ({ name, group: 'workers', role: 'worker', az, labels: { [ZONE]: az, 'kubernetes.io/hostname': name }, taints: [] });
  // web spreads over every `tier: frontend` pod of its namespace, its own and the api's.
  const template = (name: string, replicas: number, spread: boolean): PodTemplateModel => ({
    id: `Deployment/apps/${name}`,
    kind: 'Deployment',
    replicas,
    labels: { app: name, tier: 'frontend' },
    layer: 'apps',
    nodeSelector: {},
    nodeAffinityTerms: [],
    tolerations: [],
    spread: spread ? [{ topologyKey: ZONE, maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', selector: { matchLabels: { tier: 'frontend' } }, minDomains: undefined, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore' }] : [],
    antiAffinity: [],
    hostNetwork: false,
    hostPorts: [],
    requests: { cpuMilli: 0, memoryMiB: 0 },
  });
  const scheduler = (): Scheduler => {
    const s = new Scheduler();
    s.nodes.push(node('a-0', 'a'), node('b-0', 'b'), node('c-0', 'c'));
    s.touch();
    return s;
  };
  it('pods of a template first placed after the constraint was counted raise its zone’s count (skew 3 on b, 2 on a: only c fits)', () => {
    const s = scheduler();
    const web = template('web', 1, true);
    const api = template('api', 0, false);
    // web's first pod counts the constraint's domains (the cache), then api lands for the first time.
    expect(s.schedule(web).placedOn).toEqual(['a-0']);
    s.place(api, s.nodes[1]);
    s.place(api, s.nodes[1]);
    const [a, b, c] = s.nodes;
    expect(s.whyNot(web, b)).toBe('topology spread on topology.kubernetes.io/zone: skew 3 > maxSkew 1');
    expect(s.whyNot(web, a)).toBe('topology spread on topology.kubernetes.io/zone: skew 2 > maxSkew 1');
    expect(s.whyNot(web, c)).toBeUndefined();
    // The same answer as a scheduler that counts the domains only after every pod is placed.
    const fresh = scheduler();
    fresh.place(web, fresh.nodes[0]);
    fresh.place(api, fresh.nodes[1]);
    fresh.place(api, fresh.nodes[1]);
    expect(fresh.whyNot(web, fresh.nodes[1])).toBe(s.whyNot(web, b));
  });
});

describe('hostname anti-affinity and hostname spread (per node, not per pool)', () => {
  const HOST = 'kubernetes.io/hostname';
  const nodes = (): SimNode[] =>
    ['a-0', 'a-1', 'b-0'].map((name) => ({ name, group: 'workers', role: 'worker', az: name[0], labels: { 'topology.kubernetes.io/zone': name[0], [HOST]: name }, taints: [], allocatable: { cpuMilli: 4000, memoryMiB: 8192 } }));
  const base = (replicas: number): PodTemplateModel => ({
    id: 'Deployment/apps/web', kind: 'Deployment', replicas, labels: { app: 'web' }, layer: 'apps', nodeSelector: {}, nodeAffinityTerms: [], tolerations: [], spread: [], antiAffinity: [], hostNetwork: false, hostPorts: [], requests: { cpuMilli: 100, memoryMiB: 128 },
  });
  const run = (t: PodTemplateModel) => {
    const s = new Scheduler();
    s.nodes.push(...nodes());
    s.touch();
    return s.schedule(t);
  };
  it('required anti-affinity on the hostname: one pod per node, the fourth Pending although the nodes have room', () => {
    const r = run({ ...base(4), antiAffinity: [{ topologyKey: HOST, selector: { matchLabels: { app: 'web' } } }] });
    expect(new Set(r.placedOn).size).toBe(3);
    expect(r.pending).toBe(1);
    expect(r.reasons.join('\n')).toMatch(/required pod anti-affinity on kubernetes\.io\/hostname/);
  });
  it('a DoNotSchedule spread on the hostname counts a full node as a domain with 0 pods: 1 pod per other node, the rest Pending', () => {
    const s = new Scheduler();
    const [a0, a1, b0] = nodes();
    s.nodes.push(a0, a1, { ...b0, allocatable: { cpuMilli: 50, memoryMiB: 8192 } });
    s.touch();
    const r = s.schedule({ ...base(4), spread: [{ topologyKey: HOST, maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', selector: { matchLabels: { app: 'web' } }, minDomains: undefined, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore' }] });
    expect([...r.placedOn].sort()).toEqual(['a-0', 'a-1']);
    expect(r.pending).toBe(2);
    expect(r.reasons.join('\n')).toMatch(/a-0: topology spread on kubernetes\.io\/hostname: skew 2 > maxSkew 1/);
  });
});

describe('topology spread filters daemon pods too (issue #13 M3)', () => {
  const ZONE = 'topology.kubernetes.io/zone';
  const node = (name: string, labels: Record<string, string>): SimNode => ({ name, group: 'workers', role: 'worker', az: 'a', labels: { 'kubernetes.io/hostname': name, ...labels }, taints: [] });
  const agent = (whenUnsatisfiable: string): PodTemplateModel => ({
    id: 'DaemonSet/kube-system/agent', kind: 'DaemonSet', replicas: 0, labels: { app: 'agent' }, layer: 'infrastructure', nodeSelector: {}, nodeAffinityTerms: [], tolerations: [],
    spread: [{ topologyKey: ZONE, maxSkew: 1, whenUnsatisfiable, selector: { matchLabels: { app: 'agent' } }, minDomains: undefined, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore' }],
    antiAffinity: [], hostNetwork: false, hostPorts: [], requests: { cpuMilli: 0, memoryMiB: 0 },
  });
  const run = (t: PodTemplateModel) => {
    const s = new Scheduler();
    // Two nodes in one zone (a skew the constraint would refuse to a Deployment) and one without the zone label yet.
    s.nodes.push(node('a-0', { [ZONE]: 'a' }), node('a-1', { [ZONE]: 'a' }), node('new-0', {}));
    s.touch();
    return s.schedule(t);
  };
  it('a DoNotSchedule constraint leaves the daemon pod Pending on a node without the key (UnschedulableAndUnresolvable)', () => {
    const r = run(agent('DoNotSchedule'));
    expect(r.placedOn.sort()).toEqual(['a-0', 'a-1']);
    expect(r.pending).toBe(1);
    expect(r.reasons).toEqual([`new-0: no ${ZONE} label for its DoNotSchedule topology spread`]);
  });
  it('skew never holds a daemon pod back (its node affinity names one node: the only eligible domain); ScheduleAnyway places everywhere', () => {
    expect(run(agent('ScheduleAnyway')).placedOn.sort()).toEqual(['a-0', 'a-1', 'new-0']);
  });
});

describe("taints from kubeadm's join configuration", () => {
  it('a worker launch template whose JoinConfiguration registers a taint: pods that do not tolerate it have no node (no autoscaler tag needed)', () => {
    const cluster: Cluster = syntheticCluster();
    const templates = (cluster.terraform.resource as Record<string, Record<string, { user_data: string }>>).aws_launch_template;
    const join = ['  - path: /etc/node-bootstrap/kubeadm-join.yaml.tmpl', '    content: |', '      apiVersion: kubeadm.k8s.io/v1beta4', '      kind: JoinConfiguration', '      nodeRegistration:', '        taints:', '          - key: dedicated', '            value: batch', '            effect: NoSchedule', ''].join('\n');
    // Appended to the last string part of the base64gzip(join(...)) expression: one more write_files entry.
    templates.worker.user_data = templates.worker.user_data.replace(/"\]\)\)\}$/, `${JSON.stringify(join).slice(1, -1)}"]))}`);
    const paths = writeSyntheticCluster(tempDir(), cluster);
    const report = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: DEFAULT_OBJECTIVES });
    expect(report.findings.find((f) => f.id === 'workload.unschedulable' && f.subject === WEB)).toBeDefined();
    expect(report.summary.objectivesMet).toBe(false);
  });
});

describe('scope: a finding that does not affect the declared objectives', () => {
  it('an unrelated internal load balancer in one subnet is a warning with its consequence; the objectives are met', () => {
    const cluster: Cluster = syntheticCluster();
    const resources = cluster.terraform.resource as Record<string, Record<string, unknown>>;
    resources.aws_lb.metrics = { name: 'fixture-metrics', load_balancer_type: 'network', internal: true, subnets: ['${aws_subnet.private_a.id}'] };
    resources.aws_lb_target_group.metrics = { name: 'fixture-metrics', port: 9090, protocol: 'TCP', vpc_id: '${aws_vpc.vpc.id}' };
    resources.aws_lb_listener.metrics = { load_balancer_arn: '${aws_lb.metrics.arn}', port: 9090, protocol: 'TCP', default_action: [{ type: 'forward', target_group_arn: '${aws_lb_target_group.metrics.arn}' }] };
    const paths = writeSyntheticCluster(tempDir(), cluster);
    const report = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: DEFAULT_OBJECTIVES });
    const finding = report.findings.find((f) => f.id === 'nlb.single-az' && f.subject === 'fixture-metrics');
    expect(finding).toMatchObject({ severity: 'warning' });
    expect(finding?.message).toMatch(/one subnet \(ap-northeast-2a\): losing that AZ takes the endpoint away \(neither the API nor the app ingress/);
    expect(report.summary.objectivesMet).toBe(true);
  });
});
