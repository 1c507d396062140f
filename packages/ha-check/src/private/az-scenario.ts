import type { DeploymentModel } from '../model';
import type { Findings } from '../findings';
import type { Objectives } from '../objectives';
import type { AzScenario } from '../report-types';
import { capacityOutcome } from './capacity-analysis';
import { etcdOutcome, loadBalancerOf, loadBalancerOutcome } from './control-plane-analysis';
import { decideFlows, type FlowOptions } from './flow-analysis';
import { egressOutcome } from './network-analysis';
import { nodeDeletionSeconds } from './node-lifecycle';
import { scaleOutSeconds, simulatePlacement, type PlacementBaseline } from './node-simulation';
import { workloadOutcome, type WorkloadFacts } from './workload-analysis';

export function azScenario(model: DeploymentModel, facts: readonly WorkloadFacts[], az: string, grace: number, autoscaler: boolean, baseline: PlacementBaseline, flowOptions: FlowOptions = {}): AzScenario {
  const id = `az-loss:${az}`;
  const controlPlane = model.infra.nodeGroups.filter((g) => g.role === 'control-plane');
  const etcd = etcdOutcome(controlPlane, az);
  const api = loadBalancerOutcome(model.infra, loadBalancerOf(model.infra, 'api'), 'control-plane', az, etcd.quorum);
  const ingressLb = loadBalancerOf(model.infra, 'ingress');
  const ingress = ingressLb ? loadBalancerOutcome(model.infra, ingressLb, 'worker', az, true) : undefined;
  const egress = egressOutcome(model.infra, az);
  const aggregate = capacityOutcome(model, facts, az, autoscaler);
  const cloudController = model.manifests.addons.some((a) => a.id === 'cloud-controller' && a.present);
  const deletion = nodeDeletionSeconds(model.infra, model.infra.nodeGroups.filter((g) => g.azs.includes(az)), cloudController);
  const placement = simulatePlacement({ baseline, az, nodeDeletionSeconds: deletion.seconds });
  // Reconcilers and dashboards (notCritical) degrade the cluster; the app and its recovery do not wait for them.
  const critical = new Set(facts.filter((f) => f.w.notCritical === undefined).map((f) => f.w.id));
  const known = new Set(facts.map((f) => f.w.id));
  const isCritical = (id: string): boolean => critical.has(id) || !known.has(id);
  const pods = (list: readonly { workload: string; pods: number }[]): number => list.filter((p) => isCritical(p.workload)).reduce((n, p) => n + p.pods, 0);
  const capacity = { ...aggregate, unplacedNow: pods(placement.pendingNow), unplacedAfterScaleOut: pods(placement.pending), ok: pods(placement.pending) === 0 };
  const waitsForDeletion = new Set(placement.waitsForNodeDeletion);
  const pending = new Map(placement.pending.map((p) => [p.workload, p]));
  const workloads = facts.map((f) => {
    const o = workloadOutcome(f, az, grace);
    if (o.lost === 0 || f.w.zonalVolumes.length > 0 || f.w.zoneAntiAffinity === 'required') return o;
    // The simulated scheduler decides where the lost pods go: now, after the dead Nodes are deleted, or not at all.
    const p = pending.get(f.w.id);
    const ignoresTaints = f.w.zoneSpread?.hard === true && f.w.zoneSpread.nodeTaintsPolicy !== 'Honor';
    if (p) return { ...o, canReschedule: false, reason: `${p.pods} pod(s) stay Pending: ${p.reason}${ignoresTaints && /topology spread/.test(p.reason) ? `; the unreachable Nodes of ${az} are never deleted and still count (nodeTaintsPolicy Ignore): nodeTaintsPolicy: Honor lets them reschedule` : ''}` };
    if (waitsForDeletion.has(f.w.id)) return { ...o, canReschedule: true, reason: `DoNotSchedule zone spread with nodeTaintsPolicy Ignore counts ${az}'s unreachable Nodes (0 pods) until they are deleted (≈ ${deletion.seconds} s: ${deletion.terms}); nodeTaintsPolicy: Honor skips them` };
    return { ...o, canReschedule: true, reason: undefined };
  });
  const affected = workloads.filter((w) => w.lost > 0 && critical.has(w.id));
  // Pods that cannot move but left survivors (zonal replicas) are degraded by design, not waiting.
  const podRtos = affected.filter((w) => w.canReschedule || w.left === 0).map((w) => w.podRtoSeconds);
  const podsSeconds = podRtos.includes(null) ? null : Math.max(0, ...(podRtos as number[]));
  const needsNodes = placement.waitsForScaleOut.some(isCritical);
  const capacitySeconds = needsNodes && placement.scanIntervalSeconds !== undefined ? scaleOutSeconds(placement.scanIntervalSeconds) : 0;
  const waitsDeletion = placement.waitsForNodeDeletion.some(isCritical);
  const stuck = affected.some((w) => !w.canReschedule && w.left === 0);
  const appSeconds =
    podsSeconds === null || stuck || !capacity.ok || (waitsDeletion && deletion.seconds === null) ? null : Math.max(podsSeconds + capacitySeconds, waitsDeletion ? (deletion.seconds as number) + (needsNodes ? capacitySeconds : 0) : 0);
  const flows = decideFlows(model.infra.network, az, flowOptions);
  const blocked = flows.filter((f) => !f.ok);
  const problems: string[] = [];
  if (!etcd.quorum) problems.push(`etcd loses quorum (${etcd.surviving}/${etcd.members} members, ${etcd.quorumNeeded} needed)`);
  if (!api.reachable) problems.push('API unreachable');
  if (ingress && !ingress.reachable) problems.push('app ingress unreachable');
  for (const f of blocked.filter((x) => x.required)) problems.push(`${f.flow} dropped: ${f.from} → ${f.to} at ${f.droppedAt}`);
  for (const e of egress.filter((x) => !x.ok)) problems.push(`no egress from ${e.subnet} (${e.az}) via ${e.via}`);
  if (!capacity.ok) problems.push(`${capacity.unplacedAfterScaleOut} pod(s) stay Pending: ${placement.pending.filter((p) => isCritical(p.workload)).map((p) => `${p.workload} (${p.pods})`).join(', ')}`);
  for (const w of workloads.filter((x) => x.left === 0 && x.replicas > 0 && critical.has(x.id))) problems.push(`${w.id} down${w.canReschedule ? ' until rescheduled' : ''}`);
  return { id, kind: 'az-loss', lost: az, survives: problems.length === 0, problems, etcd, api, ingress, egress, capacity, placement, workloads, recovery: { apiSeconds: api.rtoSeconds, podsSeconds, capacitySeconds, nodeDeletionSeconds: deletion.seconds, appSeconds }, flows: { decided: flows.length, blocked } };
}

export function scenarioFindings(scenarios: readonly AzScenario[], objectives: Objectives, findings: Findings): void {
  for (const s of scenarios) {
    if (!s.api.reachable && s.etcd.quorum) {
      findings.add('api.unreachable', s.api.loadBalancer ?? 'API endpoint', `losing ${s.lost} leaves no reachable API server behind the load balancer`, { scenarios: [s.id] });
    }
    if (s.ingress && !s.ingress.reachable) {
      findings.add('ingress.unreachable', s.ingress.loadBalancer ?? 'app ingress', `losing ${s.lost} leaves no healthy ingress target reachable through the load balancer: the app is down for its users`, { scenarios: [s.id] });
    }
    // Until the load balancer marks the dead AZ's targets unhealthy it still sends them a share of the requests.
    if (s.ingress?.rtoSeconds != null && objectives.appRtoSeconds !== undefined && s.ingress.rtoSeconds > objectives.appRtoSeconds) {
      findings.add('ingress.detection-exceeds-rto', s.ingress.loadBalancer ?? 'app ingress', `the ingress target group drops ${s.lost}'s dead targets after ≈ ${s.ingress.rtoSeconds} s (health check interval × unhealthy threshold), above the app RTO of ${objectives.appRtoSeconds} s on its own`, { scenarios: [s.id] });
    }
    if (s.api.rtoSeconds !== null && objectives.apiRtoSeconds !== undefined && s.api.rtoSeconds > objectives.apiRtoSeconds) {
      findings.add('api.rto-exceeded', s.api.loadBalancer ?? 'API endpoint', `dead API servers leave the pool after ≈ ${s.api.rtoSeconds} s (health check interval × unhealthy threshold), above the API RTO of ${objectives.apiRtoSeconds} s`, { scenarios: [s.id] });
    }
    if (!s.capacity.ok) {
      const stay = s.placement.pending.map((p) => `${p.workload} ${p.pods} (${p.reason})`).join('; ');
      findings.add('capacity.insufficient', 'worker pools', `after losing ${s.lost}, ${s.capacity.unplacedAfterScaleOut} pod(s) stay Pending on the simulated nodes even with the ASGs the autoscaler discovers at their maximum: ${stay}`, { scenarios: [s.id] });
    } else if (s.recovery.capacitySeconds > 0 && s.recovery.appSeconds !== null && objectives.appRtoSeconds !== undefined && s.recovery.appSeconds > objectives.appRtoSeconds) {
      const scan = s.placement.scanIntervalSeconds ?? 0;
      findings.add('capacity.headroom', 'worker pools', `after losing ${s.lost}, ${s.placement.waitsForScaleOut.join(', ')} wait for ${s.placement.nodesAdded.map((g) => `${g.nodes} new node(s) of ${g.group}`).join(', ')}: ≈ ${s.recovery.capacitySeconds} s (scan ${scan} s + launch + bootstrap): app recovery ≈ ${s.recovery.appSeconds} s > ${objectives.appRtoSeconds} s`, { scenarios: [s.id] });
    }
    for (const p of s.placement.preempted) {
      const left = s.placement.pending.find((x) => x.workload === p.workload);
      if (left) findings.add('workload.preempted', p.workload, `after losing ${s.lost}, ${p.pods} pod(s) preempted by higher-priority ${p.by.join(', ')} and ${left.pods} stay Pending (priority ${left.priority}): ${left.reason}`, { scenarios: [s.id] });
    }
    for (const id of s.placement.waitsForNodeDeletion) {
      const w = s.workloads.find((x) => x.id === id);
      if (!w || w.lost === 0) continue;
      const seconds = s.recovery.nodeDeletionSeconds === null || w.podRtoSeconds === null ? null : Math.max(s.recovery.nodeDeletionSeconds, w.podRtoSeconds);
      const exceeded = objectives.appRtoSeconds !== undefined && (seconds === null || seconds > objectives.appRtoSeconds);
      findings.add('workload.spread-waits-node-deletion', id, `after losing ${s.lost}, ${w.lost} pod(s) stay Pending until ${s.lost}'s Node objects are deleted: back after ≈ ${seconds ?? '∞'} s${exceeded ? `, above the app RTO of ${objectives.appRtoSeconds} s` : ''} (${w.reason})`, { scenarios: [s.id], severity: exceeded ? 'error' : 'warning' });
    }
    for (const w of s.workloads.filter((x) => x.lost > 0 && !x.canReschedule && x.left > 0 && /nodeTaintsPolicy/.test(x.reason ?? ''))) {
      findings.add('workload.spread-blocks-reschedule', w.id, `pods lost with ${s.lost} stay Pending: ${w.reason}`, { scenarios: [s.id] });
    }
  }
}
