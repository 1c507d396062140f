import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCALE_DAY_ACCESS, SCALE_DAY_LOAD_POD } from '@platform/platform-config';
import type { LoadWindow } from './samples';

/** k6, pinned by digest (the multi-arch index of grafana/k6:1.7.1); Renovate bumps tag and digest together. */
export const K6_IMAGE = 'grafana/k6:1.7.1@sha256:4fd3a694926b064d3491d9b02b01cde886583c4931f1223816e3d9a7bdfa7e0f';
/** GitOps owns the namespace (k8s-addons ScaleDayAccess, Pod Security `restricted`); the tool only runs in it. */
export const SCALE_DAY_NAMESPACE = SCALE_DAY_ACCESS.namespace;
/** The committed k6 script (assets/scale-day/load.js). */
export const LOAD_SCRIPT = join(__dirname, '..', '..', '..', 'assets', 'scale-day', 'load.js');

export interface LoadProfile {
  /** The ingress URL, path included (`--path`: the app's CPU-consuming endpoint). */
  readonly url: string;
  readonly host: string;
  /** HTTP method of every request. @default 'GET' */
  readonly method?: 'GET' | 'POST';
  /** Requests per second at the hold. */
  readonly rate: number;
  readonly rampUp: number;
  readonly hold: number;
  readonly rampDown: number;
  /** Seconds per latency window. */
  readonly window: number;
}

/** The Job's activeDeadlineSeconds: the run's length and a margin for a pod waiting on a full cluster. */
export function loadDeadlineSeconds(profile: Pick<LoadProfile, 'rampUp' | 'hold' | 'rampDown'>): number {
  return profile.rampUp + profile.hold + profile.rampDown + 300;
}

/** The objects that run the load in the cluster: the script as a ConfigMap and a Job, in the namespace GitOps owns. */
export function loadJobObjects(name: string, profile: LoadProfile, script = readFileSync(LOAD_SCRIPT, 'utf8')): object[] {
  const labels = { 'app.kubernetes.io/name': 'scale-day', 'app.kubernetes.io/instance': name };
  const env = { TARGET_URL: profile.url, HOST: profile.host, METHOD: profile.method ?? 'GET', RATE: profile.rate, RAMP_UP: profile.rampUp, HOLD: profile.hold, RAMP_DOWN: profile.rampDown, WINDOW: profile.window };
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: SCALE_DAY_NAMESPACE, labels }, data: { 'load.js': script } },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: SCALE_DAY_NAMESPACE, labels },
      spec: {
        backoffLimit: 0,
        // The run's length and a margin (also for k6 Pending on a full cluster); a hung k6 is killed rather than loading the app forever.
        activeDeadlineSeconds: loadDeadlineSeconds(profile),
        ttlSecondsAfterFinished: 86_400,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            // k6 never calls the API: no token in the pod.
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 12345, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'k6',
                image: K6_IMAGE,
                args: ['run', '--quiet', '--no-color', '/scripts/load.js'],
                env: Object.entries(env).map(([k, v]) => ({ name: k, value: String(v) })),
                resources: { requests: { cpu: `${SCALE_DAY_LOAD_POD.cpuMilli}m`, memory: `${SCALE_DAY_LOAD_POD.memoryMiB}Mi` }, limits: { memory: `${SCALE_DAY_LOAD_POD.memoryLimitMiB}Mi` } },
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
                volumeMounts: [{ name: 'script', mountPath: '/scripts', readOnly: true }],
              },
            ],
            volumes: [{ name: 'script', configMap: { name } }],
          },
        },
      },
    },
  ];
}

/** The summary line load.js's handleSummary prints, from the Job's logs. */
export function parseLoadSummary(logs: string): { windows: LoadWindow[]; totals: { requests: number; errorRate: number; p95Ms: number } } {
  const line = logs.split('\n').reverse().find((l) => l.startsWith('SCALE_DAY_SUMMARY '));
  if (!line) throw new Error('the load Job printed no SCALE_DAY_SUMMARY line (k6 did not finish; see its logs)');
  const parsed = JSON.parse(line.slice('SCALE_DAY_SUMMARY '.length)) as { windows: LoadWindow[]; totals: { requests: number; errorRate: number; p95Ms: number } };
  return { windows: parsed.windows, totals: parsed.totals };
}
