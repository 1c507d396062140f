import { SCALE_DAY_ACCESS, CLUSTER_STACK_OUTPUTS, type Platform } from '@platform/platform-config';
import type { KubeClient } from '../../io/kubectl';
import { sampleFrom } from './kube-state';
import { loadJobObjects, parseLoadSummary, SCALE_DAY_NAMESPACE, type LoadProfile } from './load-job';
import { judge, type ClusterSample, type ScaleDayLimits, type ScaleDayRecord, type ScaleDayVerdict } from './samples';

/**
 * What scale day asks of the API (its identity needs exactly these). The CI kubeconfig in SSM is
 * the region-failover identity (k8s-addons FailoverAccess), which grants none of the scale-day
 * namespace writes: see docs/runbooks/scale-day.md, "Identity".
 */
export const SCALE_DAY_RBAC = [
  'get horizontalpodautoscalers.autoscaling (web)',
  'get deployments.apps (web)',
  'list pods (all namespaces)',
  'list nodes',
  'create/patch/get/delete configmaps, jobs.batch (scale-day)',
  'get pods/log (scale-day)',
] as const;

/** The app under load: the sample web app's HPA and Deployment. */
export const SCALE_DAY_APP = SCALE_DAY_ACCESS.app;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

export interface ScaleDayOptions {
  readonly platform: Platform;
  readonly cluster: string;
  /** `terraform output -json` of the cluster's stack (its ingress load balancer). */
  readonly outputs: Record<string, unknown>;
  readonly kube: KubeClient;
  readonly clock?: Clock;
  readonly rate: number;
  readonly phases: { readonly rampUp: number; readonly hold: number; readonly rampDown: number };
  /** Seconds between samples. @default 10 */
  readonly sampleSeconds?: number;
  /** Seconds per latency window. @default 30 */
  readonly windowSeconds?: number;
  /** Sampling goes on this long after the load ends (scale-down is not judged). @default 60 */
  readonly afterSeconds?: number;
  readonly limits: Omit<ScaleDayLimits, 'scaleOutSeconds'>;
  readonly runId: string;
  readonly log?: (line: string) => void;
}

/** The app through this cluster's own ingress load balancer, asked for by its hostname. */
export function scaleDayTarget(platform: Platform, cluster: string, outputs: Record<string, unknown>): { url: string; host: string } {
  const stack = platform.namesOf(cluster).stack;
  const host = platform.names.appHostname;
  if (!host) throw new Error('settings.dns is not set: the app has no hostname to load');
  const ingress = outputs[CLUSTER_STACK_OUTPUTS.ingressDnsName];
  if (typeof ingress !== 'string' || ingress === '') throw new Error(`stack ${stack} has no output ${CLUSTER_STACK_OUTPUTS.ingressDnsName}; apply it first`);
  return { url: `https://${ingress}/`, host };
}

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});

/** Starts the load Job, samples the cluster until it ends, reads k6's windows, and judges the run. */
export async function runScaleDay(options: ScaleDayOptions): Promise<{ record: ScaleDayRecord; verdict: ScaleDayVerdict }> {
  const clock = options.clock ?? realClock;
  const { kube, phases } = options;
  const target = scaleDayTarget(options.platform, options.cluster, options.outputs);
  const app = SCALE_DAY_APP;
  let hpaObject: unknown;
  try {
    hpaObject = kube.getJson(['horizontalpodautoscaler', app.hpa, '-n', app.namespace]);
  } catch (error) {
    const message = (error as Error).message;
    // Fail before any load is started, saying what the identity lacks.
    if (/Forbidden/.test(message)) throw new Error(`${message}\nthe kubeconfig's identity may not do what scale day does: it needs ${SCALE_DAY_RBAC.join('; ')} (docs/runbooks/scale-day.md, "Identity")`);
    throw error;
  }
  const hpaSpec = obj(obj(hpaObject).spec);
  const hpa = { name: `${app.namespace}/${app.hpa}`, minReplicas: Number(hpaSpec.minReplicas ?? 1), maxReplicas: Number(hpaSpec.maxReplicas ?? 1) };
  const profile: LoadProfile = { ...target, rate: options.rate, ...phases, window: options.windowSeconds ?? 30 };
  const job = `load-${options.runId}`;
  kube.apply(loadJobObjects(job, profile));
  const startedAt = clock.now();
  options.log?.(`load Job ${SCALE_DAY_NAMESPACE}/${job} started: ${options.rate} req/s, ramp ${phases.rampUp} s, hold ${phases.hold} s, ramp down ${phases.rampDown} s`);
  const total = phases.rampUp + phases.hold + phases.rampDown;
  const until = total + (options.afterSeconds ?? 60);
  const step = (options.sampleSeconds ?? 10) * 1000;
  const samples: ClusterSample[] = [];
  const finished = (): boolean => {
    const status = obj(obj(kube.getJson(['job', job, '-n', SCALE_DAY_NAMESPACE])).status);
    return Number(status.succeeded ?? 0) > 0 || Number(status.failed ?? 0) > 0;
  };
  for (;;) {
    const t = Math.round((clock.now() - startedAt) / 1000);
    samples.push(
      sampleFrom(
        t,
        kube.getJson(['horizontalpodautoscaler', app.hpa, '-n', app.namespace]),
        kube.getJson(['deployment', app.deployment, '-n', app.namespace]),
        kube.getJson(['pods', '--all-namespaces', '--field-selector=status.phase=Pending']),
        kube.getJson(['nodes']),
      ),
    );
    if (t >= until || (t >= total && finished())) break;
    await clock.sleep(step);
  }
  const { windows, totals } = parseLoadSummary(kube.logs(SCALE_DAY_NAMESPACE, job));
  kube.delete('job', SCALE_DAY_NAMESPACE, job);
  kube.delete('configmap', SCALE_DAY_NAMESPACE, job);
  const record: ScaleDayRecord = {
    cluster: options.cluster,
    workload: `Deployment/${app.namespace}/${app.deployment}`,
    hpa,
    target,
    startedAt: new Date(startedAt).toISOString(),
    phases,
    rate: options.rate,
    limits: { ...options.limits, scaleOutSeconds: options.platform.cluster(options.cluster).objectives.scaleOutSeconds },
    samples,
    load: windows,
    totals,
  };
  return { record, verdict: judge(record) };
}
