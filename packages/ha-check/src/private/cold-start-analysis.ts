import type { Findings } from '../findings';
import type { DeploymentModel, NodeGroupModel, PodTemplateModel } from '../model';
import type { ColdStartOutcome, ColdStartReport, FlowOutcome } from '../report-types';
import { Scheduler, simNode, type SimNode } from './scheduler';

const NOT_READY = 'node.kubernetes.io/not-ready';
const UNINITIALIZED = 'node.cloudprovider.kubernetes.io/uninitialized';
/** Labels the cloud controller sets when it initializes a node; kubelet with --cloud-provider=external sets none of them. */
const CLOUD_LABELS = ['topology.kubernetes.io/zone', 'topology.kubernetes.io/region', 'node.kubernetes.io/instance-type'];

/** A node as it registers: its group's labels less what the cloud controller adds, NotReady and uninitialized. */
function joiningNode(group: NodeGroupModel, az: string, name: string, region: string | undefined): { node: SimNode; cloudLabels: Record<string, string> } {
  const labels: Record<string, string> = { ...group.labels, 'kubernetes.io/hostname': name };
  for (const k of CLOUD_LABELS) delete labels[k];
  const cloudLabels: Record<string, string> = {
    'topology.kubernetes.io/zone': az,
    ...(region ? { 'topology.kubernetes.io/region': region } : {}),
    ...(group.instanceTypes.length === 1 ? { 'node.kubernetes.io/instance-type': group.instanceTypes[0] } : {}),
  };
  return {
    // Day 0 simulates no resources: no allocatable.
    node: simNode(name, group.name, group.role, az, labels, [...group.taints, { key: NOT_READY, value: '', effect: 'NoSchedule' }, { key: UNINITIALIZED, value: 'true', effect: 'NoSchedule' }], undefined),
    cloudLabels,
  };
}

/** What a pending pod waits for, from why it does not fit: the taint or label some add-on lifts. */
function waitsFor(reason: string): 'cni' | 'cloud-controller' | undefined {
  if (reason.includes(`${NOT_READY}:`)) return 'cni';
  if (reason.includes(UNINITIALIZED) || CLOUD_LABELS.some((l) => reason.includes(`no ${l} label`) || reason.includes(`${l}=`))) return 'cloud-controller';
  return undefined;
}

const LIFTS = { cni: 'node Ready (the CNI lifts not-ready)', 'cloud-controller': 'zone labels and no uninitialized taint (the cloud controller)' } as const;

class Boot {
  readonly scheduler = new Scheduler();
  readonly steps: string[] = [];
  private readonly cloudLabels = new Map<SimNode, Record<string, string>>();
  private readonly pendingReasons = new Map<PodTemplateModel, string[]>();

  constructor(public templates: readonly PodTemplateModel[]) {}

  addNode(n: { node: SimNode; cloudLabels: Record<string, string> }): void {
    this.scheduler.nodes.push(n.node);
    this.scheduler.touch();
    this.cloudLabels.set(n.node, n.cloudLabels);
  }

  ready(node: SimNode): boolean {
    return !node.taints.some((t) => t.key === NOT_READY);
  }

  initialized(node: SimNode): boolean {
    return !node.taints.some((t) => t.key === UNINITIALIZED);
  }

  private lift(): boolean {
    let changed = false;
    const cni = this.templates.filter((t) => t.provides === 'cni');
    const ipam = this.templates.filter((t) => t.provides === 'cni-ipam');
    const ipamRunning = ipam.filter((t) => this.scheduler.count(t) > 0);
    for (const node of this.scheduler.nodes.filter((n) => !this.ready(n))) {
      const agent = cni.find((t) => this.scheduler.count(t, node) > 0);
      // cluster-pool IPAM: the agent waits for the operator to hand the node its pod CIDR.
      if (agent && (ipam.length === 0 || ipamRunning.length > 0)) {
        node.taints = node.taints.filter((t) => t.key !== NOT_READY);
        this.scheduler.touch();
        this.steps.push(`${node.name} Ready: ${agent.id} runs on it${ipamRunning.length > 0 ? `, ${ipamRunning[0].id} allocated its pod CIDR` : ''}`);
        changed = true;
      }
    }
    const ccm = this.templates.find((t) => t.provides === 'cloud-controller' && this.scheduler.count(t) > 0);
    if (ccm) {
      for (const node of this.scheduler.nodes.filter((n) => !this.initialized(n))) {
        node.taints = node.taints.filter((t) => t.key !== UNINITIALIZED);
        node.labels = { ...node.labels, ...this.cloudLabels.get(node) };
        this.scheduler.touch();
        this.steps.push(`${node.name} initialized by ${ccm.id}: ${node.az} zone label, uninitialized taint lifted`);
        changed = true;
      }
    }
    return changed;
  }

  /** Schedules every template and lifts taints until nothing changes. */
  /** Workloads with every replica placed: nothing the boot lifts can change them (no preemption here). */
  private readonly done = new Set<PodTemplateModel>();

  run(templates: readonly PodTemplateModel[], verbose: boolean): void {
    for (let round = 0; round < 50; round++) {
      let changed = false;
      let placed = 0;
      for (const t of templates) {
        if (this.done.has(t)) continue;
        const r = this.scheduler.schedule(t);
        if (t.kind !== 'DaemonSet' && r.pending === 0) this.done.add(t);
        if (r.placedOn.length > 0) {
          changed = true;
          placed += r.placedOn.length;
          if (verbose) this.steps.push(`${t.id} scheduled on ${[...new Set(r.placedOn)].join(', ')}${r.pending > 0 ? ` (${r.pending} Pending)` : ''}`);
        }
        if (r.pending > 0) this.pendingReasons.set(t, r.reasons);
        else this.pendingReasons.delete(t);
      }
      if (!verbose && placed > 0) this.steps.push(`${placed} pod(s) of ${templates.length} workload(s) scheduled`);
      if (!this.lift() && !changed) return;
    }
  }

  pending(templates: readonly PodTemplateModel[]): ColdStartOutcome['pending'] {
    return templates.filter((t) => this.pendingReasons.has(t)).map((t) => ({ pod: t.id, layer: t.layer, reasons: this.pendingReasons.get(t) ?? [] }));
  }
}

/** The add-ons that lift a taint and are Pending waiting for another lift: the cycle that blocks the boot, or the lift nothing provides. */
function blockage(pending: ColdStartOutcome['pending'], templates: readonly PodTemplateModel[]): string[] {
  const providers = (p: 'cni' | 'cloud-controller'): PodTemplateModel[] => templates.filter((t) => t.provides === p || (p === 'cni' && t.provides === 'cni-ipam'));
  const lines: string[] = [];
  const waitGraph = new Map<'cni' | 'cloud-controller', Array<'cni' | 'cloud-controller'>>();
  for (const lift of ['cni', 'cloud-controller'] as const) {
    const own = providers(lift);
    if (own.length === 0) {
      lines.push(`nothing provides ${LIFTS[lift]}: no ${lift === 'cni' ? 'CNI' : 'cloud controller'} in the bootstrap add-ons`);
      continue;
    }
    for (const t of own) {
      const p = pending.find((x) => x.pod === t.id);
      if (!p) continue;
      const waits = [...new Set(p.reasons.map(waitsFor).filter((w): w is 'cni' | 'cloud-controller' => w !== undefined))];
      lines.push(`${t.id} (gives ${LIFTS[lift]}) is Pending: ${p.reasons.join('; ')}${waits.length > 0 ? ` — it waits for ${waits.map((w) => LIFTS[w]).join(' and ')}` : ''}`);
      for (const w of waits) waitGraph.set(lift, [...(waitGraph.get(lift) ?? []), w]);
    }
  }
  // A lift waiting on another that waits back on it: the cycle no amount of waiting breaks.
  const cyclic = (['cni', 'cloud-controller'] as const).filter((a) => (waitGraph.get(a) ?? []).some((b) => b === a || (waitGraph.get(b) ?? []).includes(a)));
  if (cyclic.length > 0) lines.unshift(`cycle: ${cyclic.map((c) => (c === 'cni' ? 'CNI' : 'cloud controller')).join(' → ')} → ${cyclic[0] === 'cni' ? 'CNI' : 'cloud controller'}`);
  return lines;
}

function fixFor(pending: ColdStartOutcome['pending'], templates: readonly PodTemplateModel[]): string {
  const fixes: string[] = [];
  for (const p of pending.filter((x) => templates.some((t) => t.id === x.pod && t.provides))) {
    for (const reason of [...new Set(p.reasons.map((r) => r.slice(r.indexOf(': ') + 2)))]) {
      const taint = /^untolerated taint (\S+)$/.exec(reason);
      const spread = /^no (\S+) label for its DoNotSchedule topology spread$/.exec(reason);
      if (taint) fixes.push(`tolerate ${taint[1]} in ${p.pod}`);
      else if (spread) fixes.push(`make the ${spread[1]} spread of ${p.pod} ScheduleAnyway (only the cloud controller sets that label)`);
    }
  }
  return fixes.length > 0 ? `${[...new Set(fixes)].join('; ')}.` : 'Let the CNI and the cloud controller schedule on a NotReady, uninitialized control-plane node with no zone label.';
}

/**
 * Day 0: the first control-plane node alone with the bootstrap add-ons, to a fixed point; then
 * every other node joins and the Flux layers apply in order; then a worker of each pool joins
 * the running cluster. Scheduling constraints only (capacity is judged by the AZ scenarios).
 */
export function coldStart(model: DeploymentModel, findings: Findings, flows: readonly FlowOutcome[] = []): ColdStartReport {
  const { infra, manifests } = model;
  const region = infra.region;
  const boot = infra.bootstrapAddons;
  const controlPlane = [...infra.nodeGroups.filter((g) => g.role === 'control-plane')].sort((a, b) => a.name.localeCompare(b.name));
  const first = controlPlane[0];
  if (!first || boot.length === 0) {
    return { bootstrapSource: infra.bootstrapSource, firstControlPlane: undefined, workerJoins: [] };
  }
  // kubeadm init on the first node: its kubelet registers (and kubeadm waits for the API) through
  // the configured endpoint. A node → API flow that endpoint drops (hairpin, security group, DNS)
  // leaves no node to schedule on.
  const label = `${first.name} (${first.azs[0]})`;
  const toApi = flows.find((f) => f.id === 'node-to-api' && !f.ok && (f.from === first.name || f.from === label));
  if (toApi) {
    const why = `kubeadm init on ${first.name}-0 cannot reach the API through ${toApi.to}: dropped at ${toApi.droppedAt}: ${toApi.reason}`;
    findings.add('cold-start.blocked', 'first control-plane node', `the first control-plane node never registers: ${why}`, { vars: { fix: toApi.fix ?? '' } });
    return { bootstrapSource: infra.bootstrapSource, firstControlPlane: { node: `${first.name}-0`, ok: false, steps: [why], pending: [], blockedBy: [why] }, workerJoins: [] };
  }
  const sim = new Boot(boot);
  sim.addNode(joiningNode(first, first.azs[0] ?? 'unknown', `${first.name}-0`, region));
  sim.steps.push(`${first.name}-0 registers: ${sim.scheduler.nodes[0].taints.map((t) => `${t.key}:${t.effect}`).join(', ')}; no zone label`);
  sim.run(boot, true);
  const firstNode = sim.scheduler.nodes[0];
  const up = sim.ready(firstNode) && sim.initialized(firstNode);
  const bootPending = sim.pending(boot);
  const firstOutcome: ColdStartOutcome = { node: firstNode.name, ok: up, steps: [...sim.steps], pending: bootPending, blockedBy: up ? [] : blockage(bootPending, boot) };
  if (!up) {
    findings.add('cold-start.blocked', 'first control-plane node', `the first control-plane node never becomes ${sim.ready(firstNode) ? '' : 'Ready'}${!sim.ready(firstNode) && !sim.initialized(firstNode) ? ' nor ' : ''}${sim.initialized(firstNode) ? '' : 'initialized'}: ${firstOutcome.blockedBy.join(' | ')}`, { vars: { fix: fixFor(bootPending, boot) } });
    return { bootstrapSource: infra.bootstrapSource, firstControlPlane: firstOutcome, workerJoins: [] };
  }

  // The rest of the cluster joins the running first node; then Flux applies its layers in order,
  // a HelmRelease of a bootstrap add-on's release taking it over (Helm upgrades the same release).
  const full = sim;
  full.steps.length = 0;
  for (const g of infra.nodeGroups) {
    g.azs.forEach((az) => {
      const perAz = g.azs.length === 1 ? g.desired : Math.ceil(g.desired / g.azs.length);
      for (let i = 0; i < perAz; i++) {
        const name = `${g.name}${g.azs.length > 1 ? `-${az}` : ''}-${i}`;
        if (name !== firstNode.name) full.addNode(joiningNode(g, az, name, region));
      }
    });
  }
  full.steps.push(`${full.scheduler.nodes.length - 1} more node(s) join: NotReady, uninitialized, no zone label`);
  full.run(boot, false);
  const releaseOf = (t: PodTemplateModel): string => t.id.replace(/^(bootstrap|HelmRelease)\//, '');
  let active: PodTemplateModel[] = [...boot];
  for (const layer of manifests.fluxLayers) {
    const inLayer = manifests.podTemplates.filter((t) => t.layer === layer);
    if (inLayer.length === 0) continue;
    const taken = new Set(inLayer.map(releaseOf));
    active = [...active.filter((t) => !(t.layer === 'bootstrap' && taken.has(releaseOf(t)))), ...inLayer];
    full.templates = active;
    full.steps.push(`Flux layer ${layer}: ${inLayer.length} workload(s)${[...taken].some((r) => boot.some((t) => releaseOf(t) === r)) ? ` (takes over ${boot.filter((t) => taken.has(releaseOf(t))).map((t) => t.id).join(', ')})` : ''}`);
    full.run(active, false);
  }
  const notUp = full.scheduler.nodes.filter((n) => !full.ready(n) || !full.initialized(n));
  const pending = full.pending(active);
  const clusterOutcome: ColdStartOutcome = { node: 'all nodes', ok: notUp.length === 0, steps: full.steps, pending, blockedBy: notUp.map((n) => `${n.name}: ${full.ready(n) ? '' : 'not Ready'}${full.initialized(n) ? '' : ' uninitialized'}`.trim()) };
  if (notUp.length > 0) {
    findings.add('cold-start.blocked', 'joining nodes', `${notUp.length} node(s) never come up after the first: ${clusterOutcome.blockedBy.slice(0, 5).join('; ')} (${blockage(pending, active).join(' | ')})`, { vars: { fix: fixFor(pending, active) } });
  }
  for (const p of pending.filter((x) => !active.find((t) => t.id === x.pod)?.provides)) {
    findings.add('cold-start.pending', p.pod, `stays Pending once the cluster is up (Flux layer ${p.layer}): ${[...new Set(p.reasons.map((r) => r.slice(r.indexOf(': ') + 2)))].join('; ')}`);
  }

  // A worker of each pool joining the running cluster: its daemon pods must land for it to turn Ready.
  const workerJoins: ColdStartOutcome[] = [];
  for (const g of infra.nodeGroups.filter((x) => x.role === 'worker' && x.maxSize > 0)) {
    const before = full.steps.length;
    const joining = joiningNode(g, g.azs[0] ?? 'unknown', `${g.name}-joining`, region);
    full.addNode(joining);
    full.run(active, false);
    const node = joining.node;
    const ok = full.ready(node) && full.initialized(node);
    const agentReasons = full.pending(active.filter((t) => t.provides === 'cni'));
    const outcome: ColdStartOutcome = { node: node.name, ok, steps: full.steps.slice(before), pending: agentReasons, blockedBy: ok ? [] : [`${node.name}: ${full.ready(node) ? '' : 'not Ready'}${full.initialized(node) ? '' : ' uninitialized'}`.trim(), ...agentReasons.flatMap((p) => p.reasons.filter((r) => r.startsWith(node.name)))] };
    workerJoins.push(outcome);
    if (!ok) findings.add('cold-start.blocked', `worker join: ${g.name}`, `a new ${g.name} node never comes up: ${outcome.blockedBy.join('; ')}`, { vars: { fix: fixFor(agentReasons, active) } });
  }
  return { bootstrapSource: infra.bootstrapSource, firstControlPlane: firstOutcome, cluster: clusterOutcome, workerJoins };
}
