import { basename } from 'node:path';
import { Findings, type Severity } from './findings';
import type { DeploymentModel, InfraModel, LoadBalancerModel, LoadBalancerRole, NodeGroupModel } from './model';
import type { Objectives } from './objectives';
import { eligibleGroups, place } from './private/placement';
import { workloadFacts, workloadFindings, workloadOutcome, type WorkloadFacts } from './private/workload-analysis';
import { RECOVERY_DEFAULTS, capacityRecoverySeconds } from './recovery-times';
import { regionScenario } from './private/region-analysis';
import type { AzScenario, AzTopology, CapacityOutcome, EgressOutcome, EtcdOutcome, LoadBalancerOutcome, Report } from './report-types';

export interface AnalyzeOptions {
  readonly objectives: Objectives;
  readonly cluster?: string;
}

/** Nodes an ASG loses with `az`: all when it lives there alone, its even share when it spans AZs. */
function nodesLost(group: NodeGroupModel, az: string, count: number): number {
  if (!group.azs.includes(az)) return 0;
  return group.azs.length === 1 ? count : Math.ceil(count / group.azs.length);
}

function etcdOutcome(controlPlane: readonly NodeGroupModel[], az: string | undefined): EtcdOutcome {
  const members = controlPlane.reduce((s, g) => s + g.desired, 0);
  const lost = az === undefined ? members : controlPlane.reduce((s, g) => s + nodesLost(g, az, g.desired), 0);
  const quorumNeeded = Math.floor(members / 2) + 1;
  return { members, lost, surviving: members - lost, quorumNeeded, quorum: members > 0 && members - lost >= quorumNeeded };
}

function loadBalancerOf(infra: InfraModel, role: LoadBalancerRole): LoadBalancerModel | undefined {
  return infra.loadBalancers.find((lb) => lb.role === role);
}

/** Node groups registered with the load balancer's target groups; else the role that serves it (API servers, or workers for NodePorts). */
function targetsOf(infra: InfraModel, lb: LoadBalancerModel | undefined, fallback: NodeGroupModel['role']): NodeGroupModel[] {
  const tgs = new Set(lb?.targetGroups.map((t) => t.address) ?? []);
  const registered = infra.nodeGroups.filter((g) => g.targetGroups.some((t) => tgs.has(t)));
  return registered.length > 0 ? registered : infra.nodeGroups.filter((g) => g.role === fallback);
}

/**
 * Whether clients still reach a healthy target through `lb` after losing `az`, and how long the
 * dead targets take to leave the pool. `serving`: the targets can answer at all (API: etcd quorum).
 */
function loadBalancerOutcome(infra: InfraModel, lb: LoadBalancerModel | undefined, fallback: NodeGroupModel['role'], az: string, serving: boolean): LoadBalancerOutcome {
  const targets = targetsOf(infra, lb, fallback);
  const azsLeft = (lb?.azs ?? []).filter((z) => z !== az);
  const surviving = targets.flatMap((g) => {
    const left = g.desired - nodesLost(g, az, g.desired);
    return left > 0 ? g.azs.filter((z) => z !== az).map((z) => [z, left] as const) : [];
  });
  const reachableTargets = lb?.crossZone ? surviving : surviving.filter(([z]) => azsLeft.includes(z));
  const targetsLeft = targets.reduce((s, g) => s + g.desired - nodesLost(g, az, g.desired), 0);
  const reachable = lb !== undefined && azsLeft.length > 0 && reachableTargets.length > 0 && serving;
  const hc = lb?.targetGroups[0]?.healthCheck;
  const touched = (lb?.azs.includes(az) ?? false) || targets.some((g) => g.azs.includes(az));
  const detect = hc ? hc.intervalSeconds * hc.unhealthyThreshold : 0;
  return { reachable, loadBalancer: lb?.name, loadBalancerAzsLeft: azsLeft, targetsLeft, rtoSeconds: reachable ? (touched ? detect : 0) : null };
}

function egressOutcome(infra: InfraModel, az: string): EgressOutcome[] {
  const nats = new Map(infra.natGateways.map((n) => [n.address, n]));
  return infra.subnets
    .filter((s) => !s.public && s.az !== az)
    .map((s) => {
      const r = s.defaultRoute;
      if (r.kind === 'nat') {
        const nat = nats.get(r.natGateway);
        return { subnet: s.name, az: s.az, via: nat?.name ?? r.natGateway, ok: nat !== undefined && nat.az !== az };
      }
      if (r.kind === 'other') return { subnet: s.name, az: s.az, via: `other:${r.target}`, ok: true };
      return { subnet: s.name, az: s.az, via: r.kind, ok: r.kind === 'internet-gateway' };
    });
}

function capacityOutcome(model: DeploymentModel, facts: readonly WorkloadFacts[], az: string | undefined, autoscaler: boolean): CapacityOutcome {
  const groups = model.infra.nodeGroups;
  const now = new Map<NodeGroupModel, number>();
  const max = new Map<NodeGroupModel, number>();
  for (const g of groups) {
    now.set(g, g.desired - (az ? nodesLost(g, az, g.desired) : 0));
    // A single-AZ ASG in the lost AZ cannot launch anywhere else; a multi-AZ one rebalances.
    const canGrow = autoscaler && g.autoscaled;
    const ceiling = az && g.azs.length === 1 && g.azs[0] === az ? 0 : canGrow ? g.maxSize : g.desired;
    max.set(g, Math.max(now.get(g) ?? 0, ceiling));
  }
  const demand = facts.map((f) => ({ pods: f.running - (az && f.w.zonalVolumes.length > 0 ? (f.zones.includes(az) ? f.worstZoneLoss : 0) : 0), per: f.w.requests, groups: f.groups.length > 0 ? f.groups : eligibleGroups(f.w, groups) }));
  const nowFit = place(demand, now, model.manifests.daemonSets);
  const maxFit = place(demand, max, model.manifests.daemonSets);
  const podsToReschedule = az ? facts.reduce((s, f) => s + (f.zones.includes(az) ? f.worstZoneLoss : 0), 0) : 0;
  return {
    podsToReschedule,
    requested: nowFit.requested,
    allocatableNow: nowFit.allocatable,
    allocatableAfterScaleOut: maxFit.allocatable,
    unplacedNow: nowFit.unplaced,
    unplacedAfterScaleOut: maxFit.unplaced,
    ok: maxFit.unplaced === 0,
  };
}

function azScenario(model: DeploymentModel, facts: readonly WorkloadFacts[], az: string, grace: number, autoscaler: boolean): AzScenario {
  const id = `az-loss:${az}`;
  const controlPlane = model.infra.nodeGroups.filter((g) => g.role === 'control-plane');
  const etcd = etcdOutcome(controlPlane, az);
  const api = loadBalancerOutcome(model.infra, loadBalancerOf(model.infra, 'api'), 'control-plane', az, etcd.quorum);
  const ingressLb = loadBalancerOf(model.infra, 'ingress');
  const ingress = ingressLb ? loadBalancerOutcome(model.infra, ingressLb, 'worker', az, true) : undefined;
  const egress = egressOutcome(model.infra, az);
  const capacity = capacityOutcome(model, facts, az, autoscaler);
  const workloads = facts.map((f) => workloadOutcome(f, az, grace));
  // Reconcilers and dashboards (notCritical) degrade the cluster; the app and its recovery do not wait for them.
  const critical = new Set(facts.filter((f) => f.w.notCritical === undefined).map((f) => f.w.id));
  const affected = workloads.filter((w) => w.lost > 0 && critical.has(w.id));
  // Pods that cannot move but left survivors (zonal replicas) are degraded by design, not waiting.
  const podRtos = affected.filter((w) => w.canReschedule || w.left === 0).map((w) => w.podRtoSeconds);
  const podsSeconds = podRtos.includes(null) ? null : Math.max(0, ...(podRtos as number[]));
  const capacitySeconds = capacity.unplacedNow > 0 ? capacityRecoverySeconds() : 0;
  const stuck = affected.some((w) => !w.canReschedule && w.left === 0);
  const appSeconds = podsSeconds === null || stuck || !capacity.ok ? null : podsSeconds + capacitySeconds;
  const problems: string[] = [];
  if (!etcd.quorum) problems.push(`etcd loses quorum (${etcd.surviving}/${etcd.members} members, ${etcd.quorumNeeded} needed)`);
  if (!api.reachable) problems.push('API unreachable');
  if (ingress && !ingress.reachable) problems.push('app ingress unreachable');
  for (const e of egress.filter((x) => !x.ok)) problems.push(`no egress from ${e.subnet} (${e.az}) via ${e.via}`);
  if (!capacity.ok) problems.push(`${capacity.unplacedAfterScaleOut} pod(s) do not fit the surviving capacity`);
  for (const w of workloads.filter((x) => x.left === 0 && x.replicas > 0 && critical.has(x.id))) problems.push(`${w.id} down${w.canReschedule ? ' until rescheduled' : ''}`);
  return { id, kind: 'az-loss', lost: az, survives: problems.length === 0, problems, etcd, api, ingress, egress, capacity, workloads, recovery: { apiSeconds: api.rtoSeconds, podsSeconds, capacitySeconds, appSeconds } };
}

function infraFindings(model: DeploymentModel, findings: Findings, sev: Severity): void {
  const { infra } = model;
  const azCount = infra.azs.length;
  const controlPlane = infra.nodeGroups.filter((g) => g.role === 'control-plane');
  const members = controlPlane.reduce((s, g) => s + g.desired, 0);
  if (members === 0) {
    findings.add({ id: 'control-plane.missing', severity: sev, subject: 'control plane', message: 'no control-plane ASG found (ASG names containing "control-plane")', fix: 'Synthesize the control-plane ASGs (one per AZ) before running ha-check.' });
  } else {
    const perAz = new Map<string, number>();
    for (const g of controlPlane) for (const az of g.azs) perAz.set(az, (perAz.get(az) ?? 0) + nodesLost(g, az, g.desired));
    const killers = [...perAz].filter(([az]) => !etcdOutcome(controlPlane, az).quorum).map(([az]) => az);
    if (killers.length > 0) {
      const layout = [...perAz].sort().map(([az, n]) => `${az}: ${n}`).join(', ');
      findings.add({
        id: 'control-plane.az-spread',
        severity: sev,
        subject: 'control plane',
        message: `${members} control-plane node(s) in ${perAz.size} AZ(s) (${layout}): losing ${killers.join(' or ')} loses etcd quorum`,
        fix: 'Run 3 (or 5) control-plane nodes, one ASG per AZ, across at least 3 AZs.',
        scenarios: killers.map((az) => `az-loss:${az}`),
      });
    }
    if (members % 2 === 0) findings.add({ id: 'control-plane.even-members', severity: 'warning', subject: 'control plane', message: `${members} etcd members: an even count tolerates no more failures than ${members - 1}`, fix: 'Use an odd number of control-plane nodes (3 or 5).' });
  }
  const lb = loadBalancerOf(infra, 'api');
  if (!lb) {
    findings.add({ id: 'api.no-load-balancer', severity: sev, subject: 'API endpoint', message: 'no network load balancer listening on 6443 found', fix: 'Front the API servers with an NLB across every AZ (TCP 6443).' });
  }
  for (const nlb of infra.loadBalancers) {
    if (nlb.azs.length < 2) {
      findings.add({ id: 'nlb.single-az', severity: sev, subject: nlb.name, message: `network load balancer in ${nlb.azs.length === 1 ? `one subnet (${nlb.azs[0]})` : 'no known subnet'}: losing that AZ takes the endpoint away`, fix: 'Attach one subnet per AZ to the load balancer (subnets / subnet_mapping).', scenarios: nlb.azs.map((az) => `az-loss:${az}`) });
    } else if (nlb.azs.length < azCount) {
      findings.add({ id: 'nlb.missing-azs', severity: 'warning', subject: nlb.name, message: `load balancer in ${nlb.azs.length} of ${azCount} AZs (${nlb.azs.join(', ')})`, fix: 'Attach a subnet in every AZ the cluster uses.' });
    }
    if (nlb.role !== 'other' && !nlb.crossZone) {
      findings.add({ id: 'nlb.cross-zone-off', severity: 'warning', subject: nlb.name, message: `cross-zone load balancing is off: each NLB node only sends to ${nlb.role === 'api' ? 'API servers' : 'ingress targets'} in its own AZ`, fix: 'Set enable_cross_zone_load_balancing = true.' });
    }
  }
  const subnetsByNat = new Map<string, string[]>();
  for (const s of infra.subnets) {
    if (s.public || s.defaultRoute.kind !== 'nat') continue;
    const nat = infra.natGateways.find((n) => n.address === (s.defaultRoute as { natGateway: string }).natGateway);
    if (nat && nat.az !== s.az) subnetsByNat.set(nat.address, [...(subnetsByNat.get(nat.address) ?? []), `${s.name} (${s.az})`]);
  }
  for (const [address, subnets] of subnetsByNat) {
    const nat = infra.natGateways.find((n) => n.address === address)!;
    findings.add({
      id: 'nat.cross-az',
      severity: sev,
      subject: nat.name,
      message: `NAT gateway in ${nat.az} also serves private subnets in other AZs: ${subnets.join(', ')}; losing ${nat.az} cuts their egress`,
      fix: 'Use a NAT gateway per AZ and route each private subnet to its own AZ\'s NAT (nat: per-az).',
      scenarios: [`az-loss:${nat.az}`],
    });
  }
  for (const s of infra.subnets.filter((x) => !x.public && x.defaultRoute.kind === 'none')) {
    findings.add({ id: 'egress.no-default-route', severity: 'warning', subject: s.name, message: `private subnet in ${s.az} has no default route: nodes there cannot pull images${s.s3Endpoint ? ' (S3 is reachable through the gateway endpoint)' : ''}`, fix: 'Route 0.0.0.0/0 to the NAT gateway in the same AZ.' });
  }
  for (const g of infra.nodeGroups.filter((x) => x.unknownInstanceTypes.length > 0)) {
    findings.add({ id: 'capacity.unknown-instance-type', severity: 'warning', subject: g.name, message: `instance type(s) ${g.unknownInstanceTypes.join(', ')} not in ha-check's table: counted as zero capacity`, fix: 'Use an instance type listed in platform-config INSTANCE_TYPES (or add it there).' });
  }
  const workerAzs = new Set(infra.nodeGroups.filter((g) => g.role === 'worker' && g.maxSize > 0).flatMap((g) => g.azs));
  if (infra.nodeGroups.some((g) => g.role === 'worker') && workerAzs.size < 2) {
    findings.add({ id: 'workers.single-az', severity: sev, subject: 'worker pools', message: `workers only in ${[...workerAzs].join(', ') || 'no AZ'}`, fix: 'Create one worker ASG per pool and AZ.' });
  }
}

function addonFindings(model: DeploymentModel, findings: Findings, sev: Severity): boolean {
  const present = new Map(model.manifests.addons.map((a) => [a.id, a.present]));
  if (!present.get('cloud-controller')) {
    findings.add({
      id: 'addon.cloud-controller-missing',
      severity: 'error',
      subject: 'aws-cloud-controller-manager',
      message: 'no cloud controller manager: nodes get no topology.kubernetes.io/zone labels (and stay uninitialized with --cloud-provider=external), so no zone spread rule can work',
      fix: 'Deploy the AWS cloud controller manager (HelmRelease aws-cloud-controller-manager) on the control plane.',
    });
  }
  if (!present.get('cluster-autoscaler')) {
    findings.add({ id: 'addon.cluster-autoscaler-missing', severity: 'warning', subject: 'cluster-autoscaler', message: 'no cluster-autoscaler: capacity lost with an AZ is not replaced in the surviving AZs', fix: 'Deploy cluster-autoscaler with --balance-similar-node-groups and ASG auto-discovery.' });
  }
  if (!present.get('coredns')) {
    findings.add({ id: 'addon.coredns-unmanaged', severity: 'warning', subject: 'coredns', message: 'CoreDNS is not in the manifests: kubeadm\'s default has 2 replicas without zone spread or PDB', fix: 'Manage CoreDNS from Git with zone topology spread and a PodDisruptionBudget.' });
  }
  if (!present.get('metrics-server') && model.manifests.workloads.some((w) => w.hpa)) {
    findings.add({ id: 'addon.metrics-server-missing', severity: sev, subject: 'metrics-server', message: 'HorizontalPodAutoscalers exist but no metrics-server: they cannot scale', fix: 'Deploy metrics-server (2 replicas, zone spread).' });
  }
  if (!present.get('ebs-csi') && model.manifests.workloads.some((w) => w.zonalVolumes.length > 0)) {
    findings.add({ id: 'addon.ebs-csi-missing', severity: sev, subject: 'aws-ebs-csi-driver', message: 'workloads claim EBS volumes but no EBS CSI driver is deployed', fix: 'Deploy the AWS EBS CSI driver.' });
  }
  for (const release of model.manifests.unanalysedCharts) {
    findings.add({ id: 'addon.chart-not-analysed', severity: 'info', subject: release, message: 'no model of this chart: its replicas, spread, PDB, tolerations and requests are not analysed (counted for presence only)', fix: 'Add an extractor for the chart to CHART_WORKLOADS (packages/ha-check/src/private/chart-workloads.ts).' });
  }
  return present.get('cluster-autoscaler') ?? false;
}

function scenarioFindings(scenarios: readonly AzScenario[], objectives: Objectives, findings: Findings, sev: Severity): void {
  for (const s of scenarios) {
    if (!s.api.reachable && s.etcd.quorum) {
      findings.add({ id: 'api.unreachable', severity: sev, subject: s.api.loadBalancer ?? 'API endpoint', message: `losing ${s.lost} leaves no reachable API server behind the load balancer`, fix: 'Spread the NLB subnets and the API servers over every AZ (cross-zone on).', scenarios: [s.id] });
    }
    if (s.ingress && !s.ingress.reachable) {
      findings.add({ id: 'ingress.unreachable', severity: sev, subject: s.ingress.loadBalancer ?? 'app ingress', message: `losing ${s.lost} leaves no healthy ingress target reachable through the load balancer: the app is down for its users`, fix: 'Give the ingress NLB a subnet in every AZ, cross-zone on, and register the worker ASGs of every AZ with its target groups.', scenarios: [s.id] });
    }
    if (s.api.rtoSeconds !== null && objectives.apiRtoSeconds !== undefined && s.api.rtoSeconds > objectives.apiRtoSeconds) {
      findings.add({ id: 'api.rto-exceeded', severity: 'error', subject: s.api.loadBalancer ?? 'API endpoint', message: `dead API servers leave the pool after ≈ ${s.api.rtoSeconds} s (health check interval × unhealthy threshold), above the API RTO of ${objectives.apiRtoSeconds} s`, fix: 'Use a 10 s health-check interval and an unhealthy threshold of 2 on the API target group.', scenarios: [s.id] });
    }
    if (!s.capacity.ok) {
      findings.add({ id: 'capacity.insufficient', severity: sev, subject: 'worker pools', message: `after losing ${s.lost}, ${s.capacity.unplacedAfterScaleOut} pod(s) fit nowhere even with every surviving ASG at its maximum`, fix: 'Raise maxPerAz of the worker pools or lower the pods\' requests.', scenarios: [s.id] });
    } else if (s.capacity.unplacedNow > 0 && s.recovery.appSeconds !== null && objectives.appRtoSeconds !== undefined && s.recovery.appSeconds > objectives.appRtoSeconds) {
      findings.add({ id: 'capacity.headroom', severity: 'error', subject: 'worker pools', message: `after losing ${s.lost}, ${s.capacity.unplacedNow} pod(s) wait ≈ ${s.recovery.capacitySeconds} s for new nodes: app recovery ≈ ${s.recovery.appSeconds} s > ${objectives.appRtoSeconds} s`, fix: 'Keep enough spare capacity per AZ (minPerAz) to absorb one AZ\'s pods.', scenarios: [s.id] });
    }
    for (const w of s.workloads.filter((x) => x.lost > 0 && !x.canReschedule && x.left > 0 && /nodeTaintsPolicy/.test(x.reason ?? ''))) {
      findings.add({ id: 'workload.spread-blocks-reschedule', severity: 'warning', subject: w.id, message: `pods lost with ${s.lost} stay Pending: ${w.reason}`, fix: 'Set nodeTaintsPolicy: Honor on the zone topologySpreadConstraint.', scenarios: [s.id] });
    }
  }
}

function topology(infra: InfraModel): AzTopology[] {
  const lb = loadBalancerOf(infra, 'api');
  const ingress = loadBalancerOf(infra, 'ingress');
  const natAz = new Map(infra.natGateways.map((n) => [n.address, n.az]));
  const nodesIn = (role: NodeGroupModel['role'], az: string): number => infra.nodeGroups.filter((g) => g.role === role).reduce((s, g) => s + nodesLost(g, az, g.desired), 0);
  return infra.azs.map((az) => ({
    az,
    controlPlaneNodes: nodesIn('control-plane', az),
    workerNodes: nodesIn('worker', az),
    natGateways: infra.natGateways.filter((n) => n.az === az).map((n) => n.name),
    apiLoadBalancer: lb?.azs.includes(az) ?? false,
    ingressLoadBalancer: ingress?.azs.includes(az) ?? false,
    egressViaAzs: [
      ...new Set(
        infra.subnets
          .filter((s) => s.az === az && !s.public && s.defaultRoute.kind === 'nat')
          .map((s) => natAz.get((s.defaultRoute as { natGateway: string }).natGateway) ?? 'unknown'),
      ),
    ].sort(),
  }));
}

/** Simulates losing each AZ and the region; findings carry the verdict. */
export function analyze(model: DeploymentModel, options: AnalyzeOptions): Report {
  const { objectives } = options;
  const findings = new Findings();
  const sev: Severity = objectives.tolerateAzLoss ? 'error' : 'warning';
  const graceFound = model.infra.hints.nodeMonitorGracePeriodSeconds ?? model.manifests.hints.nodeMonitorGracePeriodSeconds;
  const grace = graceFound ?? RECOVERY_DEFAULTS.nodeMonitorGracePeriodSeconds(objectives.kubernetesVersion);
  const tolFound = model.infra.hints.defaultUnreachableTolerationSeconds ?? model.manifests.hints.defaultUnreachableTolerationSeconds;
  const defaultToleration = tolFound ?? RECOVERY_DEFAULTS.unreachableTolerationSeconds;

  for (const p of model.infra.preferredPlans) {
    findings.add({ id: 'terraform.plan-preferred', severity: 'info', subject: p.skipped, message: `not loaded: the plan beside it (${p.plans.map((f) => basename(f)).join(', ')}) is what will be deployed, and loading both would count every resource twice`, fix: 'Nothing to fix; pass the cdk.tf.json file itself to judge the synthesized stack instead.' });
  }
  infraFindings(model, findings, sev);
  const autoscaler = addonFindings(model, findings, sev);
  const facts = model.manifests.workloads.map((w) => workloadFacts(w, model.infra.nodeGroups, defaultToleration));
  for (const f of facts) workloadFindings(f, findings, sev, grace, objectives.appRtoSeconds);
  for (const pdb of model.manifests.orphanPdbs) findings.add({ id: 'pdb.selects-nothing', severity: 'info', subject: pdb, message: 'PodDisruptionBudget selects no Deployment or StatefulSet in the manifests', fix: 'Fix its selector or remove it.' });

  const azScenarios = model.infra.azs.map((az) => azScenario(model, facts, az, grace, autoscaler));
  scenarioFindings(azScenarios, objectives, findings, sev);
  const baseline = capacityOutcome(model, facts, undefined, autoscaler);
  if (baseline.unplacedNow > 0) findings.add({ id: 'capacity.baseline-short', severity: 'warning', subject: 'worker pools', message: `${baseline.unplacedNow} pod(s) do not fit the nodes running before any failure`, fix: 'Raise minPerAz or lower requests.' });
  const region = regionScenario(model, objectives, findings, options.cluster);

  const list = findings.list();
  const count = (s: string): number => list.filter((f) => f.severity === s).length;
  return {
    schemaVersion: 1,
    cluster: options.cluster,
    region: model.infra.region,
    azs: model.infra.azs,
    objectives,
    summary: {
      objectivesMet: count('error') === 0,
      errors: count('error'),
      warnings: count('warning'),
      infos: count('info'),
      terraformResources: model.infra.resourceCount,
      kubernetesObjects: model.manifests.objectCount,
      workloads: model.manifests.workloads.length,
      nodeGroups: model.infra.nodeGroups.length,
    },
    assumptions: {
      nodeMonitorGracePeriodSeconds: grace,
      nodeMonitorGracePeriodSource: graceFound !== undefined ? 'synthesized output' : `Kubernetes default for ${objectives.kubernetesVersion ?? 'current versions'}`,
      defaultUnreachableTolerationSeconds: defaultToleration,
      defaultUnreachableTolerationSource: tolFound !== undefined ? 'synthesized output' : 'DefaultTolerationSeconds admission default',
      capacityRecoverySeconds: capacityRecoverySeconds(),
    },
    topology: topology(model.infra),
    scenarios: [...azScenarios, region],
    findings: list,
  };
}
