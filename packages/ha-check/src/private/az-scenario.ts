import type { DeploymentModel } from '../model';
import type { Findings } from '../findings';
import type { Objectives } from '../objectives';
import { capacityRecoverySeconds } from '../recovery-times';
import type { AzScenario } from '../report-types';
import { capacityOutcome } from './capacity-analysis';
import { etcdOutcome, loadBalancerOf, loadBalancerOutcome } from './control-plane-analysis';
import { decideFlows, type FlowOptions } from './flow-analysis';
import { egressOutcome } from './network-analysis';
import { workloadOutcome, type WorkloadFacts } from './workload-analysis';

export function azScenario(model: DeploymentModel, facts: readonly WorkloadFacts[], az: string, grace: number, autoscaler: boolean, flowOptions: FlowOptions = {}): AzScenario {
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
  const flows = decideFlows(model.infra.network, az, flowOptions);
  const blocked = flows.filter((f) => !f.ok);
  const problems: string[] = [];
  if (!etcd.quorum) problems.push(`etcd loses quorum (${etcd.surviving}/${etcd.members} members, ${etcd.quorumNeeded} needed)`);
  if (!api.reachable) problems.push('API unreachable');
  if (ingress && !ingress.reachable) problems.push('app ingress unreachable');
  for (const f of blocked.filter((x) => x.required)) problems.push(`${f.flow} dropped: ${f.from} → ${f.to} at ${f.droppedAt}`);
  for (const e of egress.filter((x) => !x.ok)) problems.push(`no egress from ${e.subnet} (${e.az}) via ${e.via}`);
  if (!capacity.ok) problems.push(`${capacity.unplacedAfterScaleOut} pod(s) do not fit the surviving capacity`);
  for (const w of workloads.filter((x) => x.left === 0 && x.replicas > 0 && critical.has(x.id))) problems.push(`${w.id} down${w.canReschedule ? ' until rescheduled' : ''}`);
  return { id, kind: 'az-loss', lost: az, survives: problems.length === 0, problems, etcd, api, ingress, egress, capacity, workloads, recovery: { apiSeconds: api.rtoSeconds, podsSeconds, capacitySeconds, appSeconds }, flows: { decided: flows.length, blocked } };
}

export function scenarioFindings(scenarios: readonly AzScenario[], objectives: Objectives, findings: Findings): void {
  for (const s of scenarios) {
    if (!s.api.reachable && s.etcd.quorum) {
      findings.add('api.unreachable', s.api.loadBalancer ?? 'API endpoint', `losing ${s.lost} leaves no reachable API server behind the load balancer`, { scenarios: [s.id] });
    }
    if (s.ingress && !s.ingress.reachable) {
      findings.add('ingress.unreachable', s.ingress.loadBalancer ?? 'app ingress', `losing ${s.lost} leaves no healthy ingress target reachable through the load balancer: the app is down for its users`, { scenarios: [s.id] });
    }
    if (s.api.rtoSeconds !== null && objectives.apiRtoSeconds !== undefined && s.api.rtoSeconds > objectives.apiRtoSeconds) {
      findings.add('api.rto-exceeded', s.api.loadBalancer ?? 'API endpoint', `dead API servers leave the pool after ≈ ${s.api.rtoSeconds} s (health check interval × unhealthy threshold), above the API RTO of ${objectives.apiRtoSeconds} s`, { scenarios: [s.id] });
    }
    if (!s.capacity.ok) {
      findings.add('capacity.insufficient', 'worker pools', `after losing ${s.lost}, ${s.capacity.unplacedAfterScaleOut} pod(s) fit nowhere even with every surviving ASG at its maximum`, { scenarios: [s.id] });
    } else if (s.capacity.unplacedNow > 0 && s.recovery.appSeconds !== null && objectives.appRtoSeconds !== undefined && s.recovery.appSeconds > objectives.appRtoSeconds) {
      findings.add('capacity.headroom', 'worker pools', `after losing ${s.lost}, ${s.capacity.unplacedNow} pod(s) wait ≈ ${s.recovery.capacitySeconds} s for new nodes: app recovery ≈ ${s.recovery.appSeconds} s > ${objectives.appRtoSeconds} s`, { scenarios: [s.id] });
    }
    for (const w of s.workloads.filter((x) => x.lost > 0 && !x.canReschedule && x.left > 0 && /nodeTaintsPolicy/.test(x.reason ?? ''))) {
      findings.add('workload.spread-blocks-reschedule', w.id, `pods lost with ${s.lost} stay Pending: ${w.reason}`, { scenarios: [s.id] });
    }
  }
}
