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
  /** Pods in phase Pending, every namespace. */
  readonly pendingPods: number;
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
}

export interface ScaleDayRecord {
  /** Where the samples came from when not a cluster (a test double). @default - a real run */
  readonly source?: string;
  readonly cluster: string;
  /** `Deployment/<ns>/<name>` under load, and its HPA's bounds. */
  readonly workload: string;
  readonly hpa: { readonly name: string; readonly minReplicas: number; readonly maxReplicas: number };
  readonly target: { readonly url: string; readonly host: string };
  readonly startedAt: string;
  /** Seconds of each load phase. */
  readonly phases: { readonly rampUp: number; readonly hold: number; readonly rampDown: number };
  /** Requests per second at the hold. */
  readonly rate: number;
  readonly limits: ScaleDayLimits;
  readonly samples: readonly ClusterSample[];
  readonly load: readonly LoadWindow[];
  /** k6's totals over the run. */
  readonly totals: { readonly requests: number; readonly errorRate: number; readonly p95Ms: number };
}

/** What a scale day measured and whether it passed. */
export interface ScaleDayVerdict {
  readonly ok: boolean;
  /** The most replicas the HPA asked for. */
  readonly peakDesired: number;
  /**
   * Seconds from the load's start until the Deployment had every replica of that peak Ready with
   * nothing Pending; null: it never got there while sampled.
   */
  readonly scaleOutSeconds: number | null;
  /** Nodes added per AZ (most Ready during the run less Ready at the start). */
  readonly nodesAdded: Readonly<Record<string, number>>;
  readonly failures: readonly string[];
}

/** The verdict, from the record alone. */
export function judge(record: ScaleDayRecord): ScaleDayVerdict {
  const { samples, limits, totals } = record;
  const peakDesired = Math.max(record.hpa.minReplicas, ...samples.map((s) => s.desiredReplicas));
  const done = samples.find((s) => s.desiredReplicas >= peakDesired && s.readyReplicas >= peakDesired && s.pendingPods === 0);
  const scaleOutSeconds = peakDesired > record.hpa.minReplicas ? (done?.t ?? null) : 0;
  const azs = [...new Set(samples.flatMap((s) => Object.keys(s.nodesPerAz)))].sort();
  const first = samples[0]?.nodesPerAz ?? {};
  const nodesAdded = Object.fromEntries(azs.map((az) => [az, Math.max(0, ...samples.map((s) => s.nodesPerAz[az] ?? 0)) - (first[az] ?? 0)]));
  const failures: string[] = [];
  const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
  if (totals.errorRate > limits.maxErrorRate) failures.push(`error rate ${pct(totals.errorRate)} above the limit ${pct(limits.maxErrorRate)}`);
  if (totals.p95Ms > limits.maxP95Ms) failures.push(`p95 latency ${Math.round(totals.p95Ms)} ms above the limit ${limits.maxP95Ms} ms`);
  if (peakDesired > record.hpa.minReplicas && scaleOutSeconds === null) failures.push(`the HPA asked for ${peakDesired} replicas and never had them all Ready with nothing Pending`);
  else if (limits.scaleOutSeconds !== undefined && scaleOutSeconds !== null && scaleOutSeconds > limits.scaleOutSeconds) failures.push(`scale-out took ${scaleOutSeconds} s, above the objective scaleOutSeconds ${limits.scaleOutSeconds} s`);
  return { ok: failures.length === 0, peakDesired, scaleOutSeconds, nodesAdded, failures };
}
