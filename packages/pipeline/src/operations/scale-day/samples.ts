/**
 * What scale day records: the cluster sampled over time (HPA replicas, Pending pods, Ready worker
 * nodes per AZ) and the load generator's latency and errors per window. The recorded file is this
 * JSON (`scale-day-<cluster>.json`); the chart and the summary are generated from it alone.
 */

export interface ClusterSample {
  /** Seconds since the load started. */
  readonly t: number;
  /** The HPA's `status.currentReplicas` and `status.desiredReplicas`. */
  readonly replicas: number;
  readonly desiredReplicas: number;
  /** The Deployment's `status.readyReplicas`. */
  readonly readyReplicas: number;
  /** Pods in phase Pending, every namespace (shown, not judged: another team's Pending pod says nothing about this app). */
  readonly pendingPods: number;
  /** Pods of the app under load (the Deployment's selector) in phase Pending: what scale-out is judged on. */
  readonly appPendingPods: number;
  /** Ready worker nodes (no control-plane role) by `topology.kubernetes.io/zone`. */
  readonly nodesPerAz: Readonly<Record<string, number>>;
}

/** One window of the load generator's requests (k6 sub-metrics tagged by window). */
export interface LoadWindow {
  /** Seconds since the load started, the window's start. */
  readonly t: number;
  readonly seconds: number;
  readonly requests: number;
  /** 0..1 */
  readonly errorRate: number;
  readonly p95Ms: number;
}

export interface ScaleDayLimits {
  /** Largest share of failed requests over the run (0..1). */
  readonly maxErrorRate: number;
  /** Largest p95 latency over the run, ms. */
  readonly maxP95Ms: number;
  /** The cluster's objectives.scaleOutSeconds. */
  readonly scaleOutSeconds: number | undefined;
  /** Desired replicas the HPA must ask for (`--expect-replicas`) within the objective. @default - the HPA's maxReplicas */
  readonly expectReplicas?: number;
  /** The load's peak needs more workers than stand (the cluster's scale-day profile, from ha-check's elasticity): some AZ must gain a Ready worker. @default false */
  readonly expectNodeScaleOut?: boolean;
}

export interface ScaleDayRecord {
  /** Where the samples came from when not a cluster (a test double). @default - a real run */
  readonly source?: string;
  readonly cluster: string;
  /** `Deployment/<ns>/<name>` under load, and its HPA's bounds. */
  readonly workload: string;
  readonly hpa: { readonly name: string; readonly minReplicas: number; readonly maxReplicas: number };
  readonly target: { readonly url: string; readonly host: string; readonly method?: 'GET' | 'POST' };
  readonly startedAt: string;
  /** Seconds of each load phase. */
  readonly phases: { readonly rampUp: number; readonly hold: number; readonly rampDown: number };
  /** Requests per second at the hold. */
  readonly rate: number;
  readonly limits: ScaleDayLimits;
  readonly samples: readonly ClusterSample[];
  readonly load: readonly LoadWindow[];
  /** k6's totals over the run; null when k6 printed no summary (see `problem`). */
  readonly totals: { readonly requests: number; readonly errorRate: number; readonly p95Ms: number } | null;
  /** Seconds from applying the Job until its k6 pod was Running (the clock starts then). @default 0 */
  readonly loadStartWaitSeconds?: number;
  /** Why the run is incomplete (no k6 summary line, the Job failed or hit its deadline). @default - none */
  readonly problem?: string;
}

/** What a scale day measured and whether it passed. */
export interface ScaleDayVerdict {
  readonly ok: boolean;
  /** The most replicas the HPA asked for. */
  readonly peakDesired: number;
  /** Desired replicas the HPA had to reach (`limits.expectReplicas`, else its maxReplicas). */
  readonly expectReplicas: number;
  /** Seconds until the HPA first asked for `expectReplicas`; null: it never did. */
  readonly expectReachedSeconds: number | null;
  /** The HPA never asked for more than its minimum: the load did not exercise scale-out (inconclusive, a failure). */
  readonly noScaleOut: boolean;
  /**
   * Seconds from the load's start until the Deployment had every replica of that peak Ready with
   * none of the app's pods Pending; null: it never got there while sampled, or nothing scaled.
   */
  readonly scaleOutSeconds: number | null;
  /** Nodes added per AZ (most Ready during the run less Ready at the start). */
  readonly nodesAdded: Readonly<Record<string, number>>;
  /** Ready workers per AZ at the first sample and at most during the run. */
  readonly nodesPerAz: Readonly<Record<string, { readonly before: number; readonly peak: number }>>;
  /** Whether any AZ gained a Ready worker. */
  readonly nodesScaled: boolean;
  readonly failures: readonly string[];
}

/** The verdict, from the record alone. Inconclusive is not a pass: no scale-out, no k6 summary or a short run fail. */
export function judge(record: ScaleDayRecord): ScaleDayVerdict {
  const { samples, limits, totals } = record;
  const expectReplicas = limits.expectReplicas ?? record.hpa.maxReplicas;
  const peakDesired = Math.max(record.hpa.minReplicas, ...samples.map((s) => s.desiredReplicas));
  const noScaleOut = peakDesired <= record.hpa.minReplicas;
  const done = noScaleOut ? undefined : samples.find((s) => s.desiredReplicas >= peakDesired && s.readyReplicas >= peakDesired && s.appPendingPods === 0);
  const scaleOutSeconds = done?.t ?? null;
  const expectReachedSeconds = samples.find((s) => s.desiredReplicas >= expectReplicas)?.t ?? null;
  const azs = [...new Set(samples.flatMap((s) => Object.keys(s.nodesPerAz)))].sort();
  const first = samples[0]?.nodesPerAz ?? {};
  const nodesPerAz = Object.fromEntries(azs.map((az) => [az, { before: first[az] ?? 0, peak: Math.max(0, ...samples.map((s) => s.nodesPerAz[az] ?? 0)) }]));
  const nodesAdded = Object.fromEntries(azs.map((az) => [az, nodesPerAz[az]!.peak - nodesPerAz[az]!.before]));
  const nodesScaled = Object.values(nodesAdded).some((n) => n > 0);
  const failures: string[] = [];
  const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
  const objective = limits.scaleOutSeconds;
  if (record.problem) failures.push(record.problem);
  if (totals === null) failures.push('k6 printed no summary: error rate and latency were not measured');
  else {
    if (totals.errorRate > limits.maxErrorRate) failures.push(`error rate ${pct(totals.errorRate)} above the limit ${pct(limits.maxErrorRate)}`);
    if (totals.p95Ms > limits.maxP95Ms) failures.push(`p95 latency ${Math.round(totals.p95Ms)} ms above the limit ${limits.maxP95Ms} ms`);
  }
  if (noScaleOut) failures.push(`no scale-out observed: the HPA never asked for more than its minimum ${record.hpa.minReplicas} replicas (inconclusive: the load did not move it)`);
  else if (scaleOutSeconds === null) failures.push(`the HPA asked for ${peakDesired} replicas and never had them all Ready with none of the app's pods Pending`);
  else if (objective !== undefined && scaleOutSeconds > objective) failures.push(`scale-out took ${scaleOutSeconds} s, above the objective scaleOutSeconds ${objective} s`);
  if (!noScaleOut) {
    if (expectReachedSeconds === null) failures.push(`the HPA asked for at most ${peakDesired} replicas, never the expected ${expectReplicas}`);
    else if (objective !== undefined && expectReachedSeconds > objective) failures.push(`the HPA asked for the expected ${expectReplicas} replicas only after ${expectReachedSeconds} s, above the objective scaleOutSeconds ${objective} s`);
  }
  if (limits.expectNodeScaleOut && !nodesScaled && samples.length > 0) {
    const perAz = azs.map((az) => `${az} ${nodesPerAz[az]!.before} → ${nodesPerAz[az]!.peak}`).join(', ');
    failures.push(`no node scale-out: the profile expected the workers to grow at this peak (ha-check's elasticity adds nodes) and no AZ gained a Ready worker (before → peak: ${perAz})`);
  }
  return { ok: failures.length === 0, peakDesired, expectReplicas, expectReachedSeconds, noScaleOut, scaleOutSeconds, nodesAdded, nodesPerAz, nodesScaled, failures };
}
