import type { Findings } from '../findings';
import type { DeploymentModel, NodeGroupModel, PodTemplateModel, Resources, WorkloadModel } from '../model';
import type { Objectives } from '../objectives';
import { FAILOVER_TOOL_TERMS, RECOVERY_DEFAULTS } from '../recovery-times';
import type { ElasticityReport, ElasticityTerm, HpaPeak, PeakScenario, ScaleDayPlacement, ScaleDayScenario } from '../report-types';
import { AUTOSCALER_MAX_NODE_PROVISION_SECONDS, AUTOSCALER_SCAN_INTERVAL_SECONDS } from './autoscaler-config';
import { HPA_SCALE_UP_DEFAULTS, HPA_SYNC_PERIOD_SECONDS, scaleUpSteps, type ScaleUpCapacity } from './hpa-behavior';
import { METRICS_SERVER_RESOLUTION_SECONDS } from './metrics-server-config';
import { PlacementBaseline, simulateOn } from './node-simulation';
import { podTemplate } from './pod-templates';
import { roomPerNode } from './placement';

const BASIS = 'every HPA at its maxReplicas at the same time (the honest peak: one load hits every app), every other workload at its replicas, DaemonSets on every node; worker ASGs the cluster-autoscaler discovers at max_size';

/** The deployment with every HPA-owned workload at its maximum: the same model the AZ scenarios place. */
function atPeak(model: DeploymentModel, hpas: readonly WorkloadModel[]): DeploymentModel {
  const max = new Map(hpas.map((w) => [w.id, w.hpa?.maxReplicas ?? w.replicas]));
  const m = model.manifests;
  return {
    ...model,
    manifests: {
      ...m,
      podTemplates: m.podTemplates.map((t) => (max.has(t.id) ? podTemplate({ ...t, replicas: max.get(t.id) ?? t.replicas }) : t)),
      workloads: m.workloads.map((w) => (max.has(w.id) ? { ...w, replicas: max.get(w.id) ?? w.replicas } : w)),
    },
  };
}

function spreadOf(w: WorkloadModel): string {
  const parts: string[] = [];
  if (w.zoneSpread) parts.push(`zone spread maxSkew ${w.zoneSpread.maxSkew} (${w.zoneSpread.hard ? 'DoNotSchedule' : 'ScheduleAnyway'})`);
  if (w.zoneAntiAffinity) parts.push(`${w.zoneAntiAffinity} zone anti-affinity`);
  if (w.hostAntiAffinity) parts.push(`${w.hostAntiAffinity} host anti-affinity`);
  return parts.join(', ') || 'none';
}

/** The CPU utilisation target of an HPA (`Resource cpu 70% Utilization`), if it has one. */
function cpuTargetPercent(metrics: readonly string[]): number | undefined {
  const m = metrics.map((l) => /^Resource cpu (\d+(?:\.\d+)?)% Utilization$/i.exec(l)).find((x) => x !== null);
  return m ? Number(m[1]) : undefined;
}

/**
 * How one decision can grow this HPA (hpa-behavior ScaleUpCapacity): its pod's CPU ceiling (limits,
 * else the smallest worker's room) over its request and target. Undefined without a CPU
 * utilisation metric (another metric's ceiling is unknown: the policies alone bound the steps).
 */
function capacityOf(w: WorkloadModel, nodeRoomMilli: number, measuredAfterSeconds: number): (ScaleUpCapacity & { source: string }) | undefined {
  const target = cpuTargetPercent(w.hpa?.metrics ?? []);
  if (target === undefined || w.requests.cpuMilli <= 0) return undefined;
  const ceiling = w.cpuLimitMilli ?? nodeRoomMilli;
  const growthPerStep = ceiling / w.requests.cpuMilli / (target / 100);
  const why = w.cpuLimitMilli === undefined ? `no CPU limit on some container: the smallest worker's room ${nodeRoomMilli}m` : `CPU limits ${ceiling}m`;
  return { growthPerStep, measuredAfterSeconds, source: `${why} / request ${w.requests.cpuMilli}m / target ${target} % = ×${growthPerStep.toFixed(2)} per decision, new pods counted ${measuredAfterSeconds} s after it` };
}

function hpaPeak(w: WorkloadModel, syncSeconds: number, capacity: (ScaleUpCapacity & { source: string }) | undefined): HpaPeak {
  const hpa = w.hpa;
  if (!hpa) throw new Error(`${w.id}: no HPA`);
  const up = hpa.scaleUp ?? HPA_SCALE_UP_DEFAULTS;
  return {
    workload: w.id,
    hpa: hpa.name,
    minReplicas: hpa.minReplicas,
    maxReplicas: hpa.maxReplicas,
    metrics: hpa.metrics ?? [],
    requests: w.requests,
    peakRequests: { cpuMilli: w.requests.cpuMilli * hpa.maxReplicas, memoryMiB: w.requests.memoryMiB * hpa.maxReplicas },
    spread: spreadOf(w),
    steps: w.replicas >= hpa.maxReplicas ? [] : (scaleUpSteps(w.replicas, hpa.maxReplicas, up, syncSeconds, capacity) ?? []),
    ...(capacity ? { growth: capacity.source } : {}),
    ...(capacity && !(capacity.growthPerStep > 1) && w.replicas < hpa.maxReplicas ? { neverReachesMax: true } : {}),
    scaleUp: { stabilizationWindowSeconds: up.stabilizationWindowSeconds, selectPolicy: up.selectPolicy, policies: up.policies.map((p) => `${p.type} ${p.value} per ${p.periodSeconds} s`), source: up.source },
  };
}

/**
 * Every workload with an HPA at its maxReplicas, placed by the AZ scenarios' node simulation
 * (node-simulation.ts: the scheduler's filters, topology spread, the autoscaler growing the ASGs it
 * discovers to max_size): with every AZ up, then with each AZ lost. And the time from a load step to
 * the slowest HPA's last pod Ready, each term from the deployed configuration.
 */
export function elasticityAnalysis(model: DeploymentModel, objectives: Objectives, findings: Findings, scaleDay?: ScaleDayInput): ElasticityReport | undefined {
  const hpas = model.manifests.workloads.filter((w) => w.hpa !== undefined);
  if (hpas.length === 0) return undefined;
  const { infra, manifests } = model;
  const hints = { ...manifests.hints, ...infra.hints };
  const sync = hints.hpaSyncPeriodSeconds ?? HPA_SYNC_PERIOD_SECONDS;
  const workers = infra.nodeGroups.filter((g) => g.role === 'worker');
  const resolution = manifests.metricsServer?.resolutionSeconds ?? METRICS_SERVER_RESOLUTION_SECONDS;
  // A step's pods count once started, Ready and sampled for one full metric window.
  const measuredAfter = FAILOVER_TOOL_TERMS.podStartSeconds + FAILOVER_TOOL_TERMS.readinessSeconds + resolution;
  const nodeRoom = Math.min(...workers.map((g) => roomPerNode(g, manifests.daemonSets).cpuMilli), Number.MAX_SAFE_INTEGER);
  const peaks = hpas.map((w) => hpaPeak(w, sync, capacityOf(w, nodeRoom, measuredAfter)));
  const peakModel = atPeak(model, hpas);
  const baseline = new PlacementBaseline(peakModel);
  const maxPerAz = (az: string, groups: readonly NodeGroupModel[]): number => groups.filter((g) => g.azs.includes(az)).reduce((s, g) => s + Math.ceil(g.maxSize / Math.max(g.azs.length, 1)), 0);
  const capacityPerAz = infra.azs.map((az) => {
    const inAz = workers.filter((g) => g.azs.includes(az));
    const share = (g: NodeGroupModel): number => Math.ceil(g.maxSize / Math.max(g.azs.length, 1));
    return {
      az,
      maxNodes: maxPerAz(az, workers),
      cpuMilli: inAz.reduce((s, g) => s + roomPerNode(g, manifests.daemonSets).cpuMilli * share(g), 0),
      memoryMiB: inAz.reduce((s, g) => s + roomPerNode(g, manifests.daemonSets).memoryMiB * share(g), 0),
    };
  });
  const peakRequested = baseline.pods.reduce(
    (s, t) => ({ cpuMilli: s.cpuMilli + t.requests.cpuMilli * t.replicas, memoryMiB: s.memoryMiB + t.requests.memoryMiB * t.replicas }),
    { cpuMilli: 0, memoryMiB: 0 },
  );

  // The first template of each workload id (what a search of baseline.pods finds), and the HPAs' workloads: looked up per HPA per scenario.
  const templateById = new Map<string, PodTemplateModel>();
  for (const t of baseline.pods) if (!templateById.has(t.id)) templateById.set(t.id, t);
  const peakWorkloads = new Set(peaks.map((p) => p.workload));
  const metrics = manifests.metricsServer;
  const scan = manifests.autoscaler;
  // The slowest HPA and one that never reaches its maximum do not depend on the AZ lost: found once, each HPA's time computed once.
  const seconds = peaks.map(hpaSeconds);
  const slowest: HpaPeak | undefined = peaks[seconds.indexOf(Math.max(...seconds))];
  const never = peaks.find((p) => (p.scaleUp.selectPolicy === 'Disabled' || p.neverReachesMax) && p.maxReplicas > p.minReplicas);
  const scenarios: PeakScenario[] = [undefined, ...infra.azs].map((lost) => {
    // The lost AZ's Node objects deleted: the state the cluster settles in (the AZ scenarios judge the wait).
    const { outcome, scheduler } = simulateOn({ baseline, az: lost, nodeDeletionSeconds: lost === undefined ? null : 0 });
    const id = lost === undefined ? 'all-azs' : `az-loss:${lost}`;
    const alive = scheduler.nodes.filter((n) => n.az !== lost);
    const nodesPerAz = infra.azs.map((az) => ({ az, nodes: alive.filter((n) => n.role === 'worker' && n.az === az).length, maxNodes: az === lost ? 0 : maxPerAz(az, workers) }));
    // Every AZ with a node alive gets a key (in node order after the cluster's AZs), counted or not.
    const azKeys = [...new Set([...infra.azs, ...alive.map((n) => n.az)])];
    const podsPerAz = peaks.map((p) => {
      const t = templateById.get(p.workload);
      const counts = new Map<string, number>();
      if (t) for (const [n, c] of scheduler.countsByNode(t)) if (n.az !== lost) counts.set(n.az, (counts.get(n.az) ?? 0) + c);
      const perAz: Record<string, number> = {};
      for (const az of azKeys) perAz[az] = counts.get(az) ?? 0;
      return { workload: p.workload, perAz };
    });
    const needsNodes = outcome.waitsForScaleOut.some((w) => peakWorkloads.has(w));
    const terms: ElasticityTerm[] = [
      { name: 'metrics-server resolution', seconds: metrics?.resolutionSeconds ?? METRICS_SERVER_RESOLUTION_SECONDS, source: metrics ? `${metrics.resolutionSource} (${metrics.source})` : 'metrics-server default (none deployed)' },
      { name: 'HPA sync period', seconds: sync, source: hints.hpaSyncPeriodSeconds !== undefined ? 'configured (kube-controller-manager --horizontal-pod-autoscaler-sync-period)' : 'upstream default (the kubeadm configuration sets no --horizontal-pod-autoscaler-sync-period)' },
    ];
    if (slowest) {
      terms.push({ name: 'scale-up stabilization window', seconds: slowest.scaleUp.stabilizationWindowSeconds, source: `${slowest.scaleUp.source === 'behavior' ? 'configured' : 'API default'} (${slowest.hpa})` });
      // Each decision a term: the first is the sync above, each later one waits for the pods before it to be measured.
      const how = `${slowest.scaleUp.selectPolicy} of ${slowest.scaleUp.policies.join(', ')}${slowest.growth ? `; ${slowest.growth}` : ''}`;
      slowest.steps.forEach((s, i) => {
        const prev = i === 0 ? { atSeconds: 0, replicas: slowest.minReplicas } : slowest.steps[i - 1];
        terms.push({ name: `HPA step ${i + 1}: ${prev.replicas} → ${s.replicas}`, seconds: s.atSeconds - prev.atSeconds, source: `derived: ${slowest.workload} (${how})` });
      });
    }
    if (needsNodes) {
      terms.push({ name: 'cluster-autoscaler scan interval', seconds: scan?.scanIntervalSeconds ?? AUTOSCALER_SCAN_INTERVAL_SECONDS, source: scan ? `${scan.scanIntervalSource} (${scan.source})` : 'default' });
      // Balancing splits the scale-up over the similar groups, the dead AZ's too: that part never
      // registers, and the autoscaler re-plans on the survivors only after max-node-provision-time.
      if (lost !== undefined && scan?.balanceSimilarNodeGroups) {
        terms.push({ name: "cluster-autoscaler waiting on the lost AZ's ASG", seconds: scan.maxNodeProvisionSeconds ?? AUTOSCALER_MAX_NODE_PROVISION_SECONDS, source: `--max-node-provision-time with --balance-similar-node-groups (${scan.source})` });
      }
      terms.push({ name: 'EC2 launch', seconds: RECOVERY_DEFAULTS.instanceLaunchSeconds, source: 'assumed (RECOVERY_DEFAULTS.instanceLaunchSeconds)' });
      terms.push({ name: 'node boot, kubeadm join, CNI ready', seconds: RECOVERY_DEFAULTS.nodeBootstrapSeconds, source: "node-bootstrap's budget (RECOVERY_DEFAULTS.nodeBootstrapSeconds)" });
    }
    terms.push({ name: 'pod start (image pull, containers)', seconds: FAILOVER_TOOL_TERMS.podStartSeconds, source: 'assumed (FAILOVER_TOOL_TERMS.podStartSeconds)' });
    terms.push({ name: 'readiness', seconds: FAILOVER_TOOL_TERMS.readinessSeconds, source: 'the apps\' readiness period (FAILOVER_TOOL_TERMS.readinessSeconds)' });
    return {
      id,
      lost,
      fits: outcome.pending.length === 0,
      pending: outcome.pending,
      nodesPerAz,
      nodesAdded: outcome.nodesAdded,
      podsPerAz,
      waitsForScaleOut: outcome.waitsForScaleOut.filter((w) => peakWorkloads.has(w)),
      seconds: never ? null : terms.reduce((s, t) => s + t.seconds, 0),
      terms,
    };
  });

  for (const s of scenarios) {
    const scenarioIds = s.lost === undefined ? [] : [s.id];
    if (!s.fits) {
      const where = s.lost === undefined ? 'with every AZ up' : `after losing ${s.lost} (the surviving AZs' pools at max)`;
      const nodes = s.nodesPerAz.map((n) => `${n.az} ${n.nodes}/${n.maxNodes}`).join(', ');
      findings.add('elasticity.peak-does-not-fit', s.lost === undefined ? 'HPAs at max' : `HPAs at max, ${s.lost} lost`, `every HPA at its maximum ${where}: ${s.pending.map((p) => `${p.workload} ${p.pods} Pending (${p.reason})`).join('; ')}; worker nodes per AZ ${nodes}`, {
        scenarios: scenarioIds,
        ...(s.lost === undefined ? { severity: 'error' as const } : {}),
      });
    }
    const objective = objectives.scaleOutSeconds;
    if (objective !== undefined && (s.seconds === null || s.seconds > objective)) {
      const detail = s.seconds === null ? 'never: an HPA has scaleUp.selectPolicy Disabled, or its pods cannot use more than its CPU target' : `${s.seconds} s = ${s.terms.map((t) => `${t.name} ${t.seconds}`).join(' + ')}`;
      findings.add('elasticity.scale-out-slow', s.lost === undefined ? 'HPAs at max' : `HPAs at max, ${s.lost} lost`, `scale-out to every HPA's maximum takes ${detail}; the objective scaleOutSeconds is ${objective} s`, {
        scenarios: scenarioIds,
        // After an AZ loss, the AZ rule (an error only where the cluster promises to survive one), as for a peak that does not fit.
        ...(s.lost !== undefined ? { severity: findings.severityOf('az') } : {}),
      });
    }
  }
  if (objectives.scaleOutSeconds === undefined) {
    findings.add('elasticity.objective-undeclared', 'HPAs at max', `${peaks.length} HPA(s); with every AZ up the scale-out takes ${scenarios[0].seconds ?? 'forever'} s, held to no objective`);
  }
  const day = scaleDay ? scaleDayScenario(model, scaleDay, workers, maxPerAz) : undefined;
  return { basis: BASIS, hpas: peaks, capacityPerAz, peakRequested, scenarios, objectiveSeconds: objectives.scaleOutSeconds, ...(day ? { scaleDay: day } : {}) };
}

/** What scale day loads: one app (platform-config SCALE_DAY_ACCESS.app) and the load generator's pod beside it. */
export interface ScaleDayInput {
  /** The loaded app's workload id (`Deployment/web/web`). */
  readonly workload: string;
  /** The load Job's pod: its namespace and requests (platform-config SCALE_DAY_LOAD_POD). */
  readonly loadPod: { readonly namespace: string; readonly requests: Resources };
}

/**
 * Scale day's own peak: only the loaded app at its maxReplicas, every other workload at its current
 * replicas, with every AZ up; placed twice, the app alone and with the load pod (no spread, no
 * priority: it queues behind the app), so node scale-out is credited to the app only when the app
 * alone needs a node in every AZ (`nodeScaleOutInEveryAz`), and the load pod must still fit.
 */
function scaleDayScenario(model: DeploymentModel, input: ScaleDayInput, workers: readonly NodeGroupModel[], maxPerAz: (az: string, groups: readonly NodeGroupModel[]) => number): ScaleDayScenario | undefined {
  const app = model.manifests.workloads.find((w) => w.id === input.workload);
  if (!app?.hpa) return undefined;
  const appAtMax = atPeak(model, [app]);
  const loadPod = podTemplate({
    id: `Job/${input.loadPod.namespace}/scale-day-load`,
    kind: 'Deployment',
    replicas: 1,
    labels: { 'app.kubernetes.io/name': 'scale-day' },
    layer: 'scale-day',
    nodeSelector: {},
    nodeAffinityTerms: [],
    tolerations: [],
    spread: [],
    antiAffinity: [],
    hostNetwork: false,
    hostPorts: [],
    requests: input.loadPod.requests,
    priorityClassName: undefined,
  });
  const withLoad: DeploymentModel = { ...appAtMax, manifests: { ...appAtMax.manifests, podTemplates: [...appAtMax.manifests.podTemplates, loadPod] } };
  const place = (m: DeploymentModel): ScaleDayPlacement => {
    const baseline = new PlacementBaseline(m);
    const { outcome, scheduler } = simulateOn({ baseline, az: undefined, nodeDeletionSeconds: null });
    const count = (nodes: readonly { role: string; az: string }[], az: string): number => nodes.filter((n) => n.role === 'worker' && n.az === az).length;
    return {
      fits: outcome.pending.length === 0,
      pending: outcome.pending,
      nodesPerAz: m.infra.azs.map((az) => ({ az, standing: count(baseline.scheduler.nodes, az), atPeak: count(scheduler.nodes, az), maxNodes: maxPerAz(az, workers) })),
    };
  };
  const appAlone = place(appAtMax);
  const withLoadPod = place(withLoad);
  return {
    workload: app.id,
    replicas: app.hpa.maxReplicas,
    loadPod: { id: loadPod.id, requests: loadPod.requests },
    appAlone,
    withLoadPod,
    nodeScaleOutInEveryAz: appAlone.fits && appAlone.nodesPerAz.every((n) => n.atPeak > n.standing),
  };
}

function hpaSeconds(p: HpaPeak): number {
  return p.scaleUp.stabilizationWindowSeconds + stepSeconds(p);
}

/** When the last step lands after the controller's first decision (0: a single step, or already at max). */
function stepSeconds(p: HpaPeak): number {
  return p.steps.length > 0 ? p.steps[p.steps.length - 1].atSeconds : 0;
}
