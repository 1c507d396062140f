import { CLUSTER_STACK_OUTPUTS, describeScaleDayGrant, SCALE_DAY_ACCESS, SCALE_DAY_INGRESS, scaleDayProfileOf, type Platform } from '@platform/platform-config';
import type { KubeClient } from '../../io/kubectl';
import { sampleFrom, selectorOf } from './kube-state';
import { loadDeadlineSeconds, loadJobObjects, parseLoadSummary, SCALE_DAY_NAMESPACE, type LoadProfile } from './load-job';
import { judge, type ClusterSample, type ScaleDayLimits, type ScaleDayRecord, type ScaleDayVerdict } from './samples';

/**
 * What scale day's identity needs, one line per grant of platform-config SCALE_DAY_ACCESS (the
 * list k8s-addons ScaleDayAccess renders into RBAC): see docs/runbooks/scale-day.md, "Identity".
 */
export const SCALE_DAY_RBAC: readonly string[] = SCALE_DAY_ACCESS.grants.map(describeScaleDayGrant);

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
  /** The ingress path k6 requests: the app's CPU-consuming endpoint, or the HPA has nothing to scale on. @default '/' */
  readonly path?: string;
  /** HTTP method k6 sends. @default 'GET' */
  readonly method?: 'GET' | 'POST';
  readonly limits: Omit<ScaleDayLimits, 'scaleOutSeconds'>;
  readonly runId: string;
  readonly log?: (line: string) => void;
}

/**
 * The app through this cluster's own ingress, asked for by its hostname: the public load balancer,
 * except the profile's CPU-costly path, which the ingress controller serves only on its internal
 * entrypoint (platform-config SCALE_DAY_INGRESS; no public route may fork CPU burners).
 */
export function scaleDayTarget(platform: Platform, cluster: string, outputs: Record<string, unknown>, path = '/'): { url: string; host: string } {
  const stack = platform.namesOf(cluster).stack;
  const host = platform.names.appHostname;
  if (!host) throw new Error('settings.dns is not set: the app has no hostname to load');
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/.test(path)) throw new Error(`--path ${path}: expected an absolute URL path such as /api/items?limit=100`);
  const profile = scaleDayProfileOf(platform.cluster(cluster));
  if (profile.cpuConsumer && path.split('?')[0] === profile.path.split('?')[0]) {
    const { service, namespace, port } = SCALE_DAY_INGRESS;
    return { url: `http://${service}.${namespace}.svc.cluster.local:${port}${path}`, host };
  }
  const ingress = outputs[CLUSTER_STACK_OUTPUTS.ingressDnsName];
  if (typeof ingress !== 'string' || ingress === '') throw new Error(`stack ${stack} has no output ${CLUSTER_STACK_OUTPUTS.ingressDnsName}; apply it first`);
  return { url: `https://${ingress}${path}`, host };
}

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const items = (list: unknown): Array<Record<string, unknown>> => (Array.isArray(obj(list).items) ? (obj(list).items as unknown[]).map(obj) : []);

/** Starts the load Job, samples the cluster until it ends, reads k6's windows, and judges the run. */
export async function runScaleDay(options: ScaleDayOptions): Promise<{ record: ScaleDayRecord; verdict: ScaleDayVerdict }> {
  const clock = options.clock ?? realClock;
  const { kube, phases } = options;
  const target = scaleDayTarget(options.platform, options.cluster, options.outputs, options.path);
  const app = SCALE_DAY_APP;
  let hpaObject: unknown;
  try {
    hpaObject = kube.getJson(['horizontalpodautoscaler', app.hpa, '-n', app.namespace]);
  } catch (error) {
    const message = (error as Error).message;
    // Fail before any load is started, saying what the identity lacks.
    if (/Forbidden/.test(message)) throw new Error(`${message}\nscale day's ServiceAccount (${SCALE_DAY_ACCESS.namespace}/${SCALE_DAY_ACCESS.serviceAccount}) may not do what scale day does: it needs ${SCALE_DAY_RBAC.join('; ')} (docs/runbooks/scale-day.md, "Identity")`);
    throw error;
  }
  const hpaSpec = obj(obj(hpaObject).spec);
  const hpa = { name: `${app.namespace}/${app.hpa}`, minReplicas: Number(hpaSpec.minReplicas ?? 1), maxReplicas: Number(hpaSpec.maxReplicas ?? 1) };
  const expect = options.limits.expectReplicas;
  if (expect !== undefined && (expect > hpa.maxReplicas || expect <= hpa.minReplicas)) throw new Error(`--expect-replicas ${expect}: the HPA ${hpa.name} scales between ${hpa.minReplicas} and ${hpa.maxReplicas}; expected more than its minimum and at most its maximum`);
  const appSelector = selectorOf(kube.getJson(['deployment', app.deployment, '-n', app.namespace]));
  const method = options.method ?? 'GET';
  const profile: LoadProfile = { ...target, method, rate: options.rate, ...phases, window: options.windowSeconds ?? 30 };
  const job = `load-${options.runId}`;
  const deadline = loadDeadlineSeconds(phases);
  const step = (options.sampleSeconds ?? 10) * 1000;
  const samples: ClusterSample[] = [];
  let totals: ScaleDayRecord['totals'] = null;
  let windows: ScaleDayRecord['load'] = [];
  let problem: string | undefined;
  const appliedAt = clock.now();
  let startedAt = appliedAt;
  const jobStatus = (): 'active' | 'succeeded' | 'failed' => {
    const status = obj(obj(kube.getJson(['job', job, '-n', SCALE_DAY_NAMESPACE])).status);
    return Number(status.succeeded ?? 0) > 0 ? 'succeeded' : Number(status.failed ?? 0) > 0 ? 'failed' : 'active';
  };
  const sinceApplied = (): number => (clock.now() - appliedAt) / 1000;
  kube.apply(loadJobObjects(job, profile));
  try {
    // The load starts when k6 runs, not when the Job is applied: on a full cluster its pod waits for a node.
    for (;;) {
      const phase = items(kube.getJson(['pods', '-n', SCALE_DAY_NAMESPACE, '-l', `job-name=${job}`])).map((p) => obj(p.status).phase);
      if (phase.includes('Running') || phase.includes('Succeeded') || phase.includes('Failed')) break;
      if (jobStatus() === 'failed' || sinceApplied() >= deadline) throw new Error(`the k6 pod never ran: the load Job ${SCALE_DAY_NAMESPACE}/${job} ${jobStatus() === 'failed' ? 'failed' : 'was still waiting'} after ${Math.round(sinceApplied())} s (its pod stayed ${phase[0] ?? 'uncreated'}; activeDeadlineSeconds ${deadline})`);
      await clock.sleep(step);
    }
    startedAt = clock.now();
    options.log?.(`load Job ${SCALE_DAY_NAMESPACE}/${job} running after ${Math.round(sinceApplied())} s: ${options.rate} req/s ${method} ${target.url}, ramp ${phases.rampUp} s, hold ${phases.hold} s, ramp down ${phases.rampDown} s`);
    for (;;) {
      const t = Math.round((clock.now() - startedAt) / 1000);
      samples.push(
        sampleFrom(
          t,
          kube.getJson(['horizontalpodautoscaler', app.hpa, '-n', app.namespace]),
          kube.getJson(['deployment', app.deployment, '-n', app.namespace]),
          kube.getJson(['pods', '-n', app.namespace, '-l', appSelector, '--field-selector=status.phase=Pending']),
          kube.getJson(['pods', '--all-namespaces', '--field-selector=status.phase=Pending']),
          kube.getJson(['nodes']),
        ),
      );
      // A Job that ends early (k6 crashed) ends the sampling too; the missing summary says why.
      const status = jobStatus();
      if (status === 'failed') problem = `the load Job ${SCALE_DAY_NAMESPACE}/${job} failed after ${t} s of load (k6 exited non-zero or hit activeDeadlineSeconds ${deadline}; see its logs)`;
      if (status !== 'active') break;
      // The Job's own deadline kills k6; waiting past it (and a grace for the controller) measures nothing more.
      if (sinceApplied() >= deadline + 30) throw new Error(`the load Job ${SCALE_DAY_NAMESPACE}/${job} was still active ${Math.round(sinceApplied())} s after it was applied, past its activeDeadlineSeconds ${deadline}`);
      await clock.sleep(step);
    }
    ({ windows, totals } = parseLoadSummary(kube.logs(SCALE_DAY_NAMESPACE, job)));
  } catch (error) {
    problem = problem ? `${problem}; ${(error as Error).message}` : (error as Error).message;
    options.log?.(`scale day incomplete: ${problem}`);
  } finally {
    // Clean up whatever happened; a failed delete must not hide the record.
    for (const kind of ['job', 'configmap']) {
      try {
        kube.delete(kind, SCALE_DAY_NAMESPACE, job);
      } catch (error) {
        options.log?.(`could not delete ${kind} ${SCALE_DAY_NAMESPACE}/${job}: ${(error as Error).message}`);
      }
    }
  }
  const record: ScaleDayRecord = {
    cluster: options.cluster,
    workload: `Deployment/${app.namespace}/${app.deployment}`,
    hpa,
    target: { ...target, method },
    startedAt: new Date(startedAt).toISOString(),
    loadStartWaitSeconds: Math.round((startedAt - appliedAt) / 1000),
    phases,
    rate: options.rate,
    limits: { ...options.limits, scaleOutSeconds: options.platform.cluster(options.cluster).objectives.scaleOutSeconds },
    samples,
    load: windows,
    totals,
    ...(problem ? { problem } : {}),
  };
  return { record, verdict: judge(record) };
}
