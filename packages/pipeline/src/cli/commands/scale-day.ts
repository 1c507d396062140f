import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scaleDayProfileOf } from '@platform/platform-config';
import { kubectl, type KubeClient } from '../../io/kubectl';
import { stackOutputs } from '../../io/terraform';
import { renderChart } from '../../operations/scale-day/chart';
import { asScaleDay, scaleDayTokenSeconds } from '../../operations/scale-day/identity';
import { loadDeadlineSeconds } from '../../operations/scale-day/load-job';
import { runScaleDay, type Clock } from '../../operations/scale-day/run';
import type { ScaleDayRecord } from '../../operations/scale-day/samples';
import { renderScaleDaySummary } from '../../operations/scale-day/summary';
import { execOk } from '../../private/exec';
import { parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

const usage = (message: string): never => {
  throw new UsageError(message);
};

export interface ScaleDayCommandOptions {
  readonly cluster: string;
  readonly rampUp: number;
  readonly hold: number;
  readonly rampDown: number;
  readonly maxErrorRate: number;
  readonly maxP95Ms: number;
  readonly kubeconfig: string | undefined;
  readonly runId: string;
  /** Ingress path k6 requests. @default the cluster's scale-day profile (platform-config scaleDayProfileOf) */
  readonly path: string | undefined;
  /** HTTP method. @default the profile's */
  readonly method: 'GET' | 'POST' | undefined;
  /** Requests per second at the hold. @default the profile's */
  readonly rate: number | undefined;
  /** Desired replicas the HPA must reach within the objective; undefined: its maxReplicas. */
  readonly expectReplicas: number | undefined;
}

function number(option: string, value: string | undefined, fallback: number, check: (n: number) => boolean = (n) => n > 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`${option} ${value}: expected a positive number`);
  return n;
}

export interface ScaleDayDeps {
  /** The client scale day runs with. @default kubectl with scale day's own token, minted with --kubeconfig, else with the cluster's CI kubeconfig read from SSM */
  readonly kube?: KubeClient;
  /** @default `terraform output -json` of the cluster's stack */
  readonly outputs?: Record<string, unknown>;
  readonly clock?: Clock;
}

/** Writes the record, the chart and the summary into outDir. */
export function writeScaleDayArtifacts(outDir: string, record: ScaleDayRecord): { json: string; svg: string; markdown: string } {
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `scale-day-${record.cluster}`);
  const markdown = renderScaleDaySummary(record, `scale-day-${record.cluster}.svg`);
  writeFileSync(`${base}.json`, `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(`${base}.svg`, renderChart(record));
  writeFileSync(`${base}.md`, markdown);
  return { json: `${base}.json`, svg: `${base}.svg`, markdown };
}

/** Load the app through the cluster's ingress with k6 in the cluster; sample HPA, Pending pods and nodes per AZ; judge. Exit 1 when a limit is crossed. */
export function scaleDayCommand(deps: ScaleDayDeps = {}): Command<ScaleDayCommandOptions> {
  return {
    description: 'load the sample app through its ingress with k6 in the cluster, sample the scale-out, chart and judge it',
    parse(args) {
      const v = parseOptions(args, {
        cluster: { type: 'string' },
        rate: { type: 'string' },
        'ramp-up': { type: 'string' },
        hold: { type: 'string' },
        'ramp-down': { type: 'string' },
        'max-error-rate': { type: 'string' },
        'max-p95-ms': { type: 'string' },
        kubeconfig: { type: 'string' },
        'run-id': { type: 'string' },
        path: { type: 'string' },
        method: { type: 'string' },
        'expect-replicas': { type: 'string' },
      });
      if (!v.cluster) throw new UsageError('--cluster <name> is required');
      const runId = v['run-id'] ?? String(Date.now());
      if (!/^[a-z0-9-]{1,40}$/.test(runId)) throw new UsageError(`--run-id ${runId}: expected lowercase letters, digits and - (a Kubernetes name)`);
      return {
        cluster: v.cluster,
        rate: v.rate === undefined ? undefined : number('--rate', v.rate, 0),
        rampUp: number('--ramp-up', v['ramp-up'], 30),
        hold: number('--hold', v.hold, 600),
        rampDown: number('--ramp-down', v['ramp-down'], 60),
        maxErrorRate: number('--max-error-rate', v['max-error-rate'], 0.01, (n) => n >= 0 && n <= 1),
        maxP95Ms: number('--max-p95-ms', v['max-p95-ms'], 500),
        kubeconfig: v.kubeconfig,
        runId,
        path: v.path,
        method: v.method === undefined ? undefined : v.method === 'GET' || v.method === 'POST' ? v.method : usage(`--method ${v.method}: expected GET or POST`),
        expectReplicas: v['expect-replicas'] === undefined ? undefined : number('--expect-replicas', v['expect-replicas'], 0, (n) => Number.isInteger(n) && n > 0),
      };
    },
    async run(options, { platform, paths, actions, log }) {
      const definition = platform.cluster(options.cluster);
      const outputs = deps.outputs ?? stackOutputs(join(paths.stacksDir, platform.namesOf(options.cluster).stack));
      let kube = deps.kube;
      if (!kube) {
        let kubeconfig = options.kubeconfig;
        mkdirSync(paths.outDir, { recursive: true });
        if (!kubeconfig) {
          // The kubeconfig the cluster's initialiser publishes (platform-config names.ssm.ciKubeconfig).
          const text = execOk('aws', ['ssm', 'get-parameter', '--region', definition.region, '--name', platform.namesOf(options.cluster).ssm.ciKubeconfig, '--with-decryption', '--query', 'Parameter.Value', '--output', 'text']);
          kubeconfig = join(paths.outDir, `kubeconfig-${options.cluster}`);
          writeFileSync(kubeconfig, text, { mode: 0o600 });
        }
        // That identity only mints scale day's own token; the run holds exactly SCALE_DAY_ACCESS.grants.
        const seconds = scaleDayTokenSeconds(loadDeadlineSeconds({ rampUp: options.rampUp, hold: options.hold, rampDown: options.rampDown }));
        kube = asScaleDay({ kube: kubectl({ kubeconfig }), kubeconfigText: readFileSync(kubeconfig, 'utf8') }, paths.outDir, options.cluster, seconds, (path) => kubectl({ kubeconfig: path }));
      }
      // What the cluster's scale-day profile loads, unless the options say otherwise.
      const profile = scaleDayProfileOf(definition);
      const { record, verdict } = await runScaleDay({
        platform,
        cluster: options.cluster,
        outputs,
        kube,
        ...(deps.clock ? { clock: deps.clock } : {}),
        rate: options.rate ?? profile.rate,
        phases: { rampUp: options.rampUp, hold: options.hold, rampDown: options.rampDown },
        path: options.path ?? profile.path,
        method: options.method ?? profile.method,
        limits: {
          maxErrorRate: options.maxErrorRate,
          maxP95Ms: options.maxP95Ms,
          ...(options.expectReplicas !== undefined ? { expectReplicas: options.expectReplicas } : {}),
          // Judged only on the profile's own load: another path or rate may not reach that peak.
          expectNodeScaleOut: profile.expectNodeScaleOut && options.path === undefined && options.method === undefined && options.rate === undefined,
        },
        runId: options.runId,
        log,
      });
      const { markdown } = writeScaleDayArtifacts(paths.outDir, record);
      actions.summary(markdown);
      console.log(markdown);
      return verdict.ok ? 0 : 1;
    },
  };
}

/** Chart and summary again from a recorded file (docs/scale-day-example.svg is made this way). */
export function scaleDayReportCommand(): Command<{ record: string; svg: string | undefined; markdown: string | undefined }> {
  return {
    description: 'render the scale-day chart (SVG) and Markdown summary from a recorded sample file',
    parse(args) {
      const v = parseOptions(args, { record: { type: 'string' }, svg: { type: 'string' }, markdown: { type: 'string' } });
      if (!v.record) throw new UsageError('--record <scale-day-<cluster>.json> is required');
      return { record: v.record, svg: v.svg, markdown: v.markdown };
    },
    async run(options) {
      const record = JSON.parse(readFileSync(options.record, 'utf8')) as ScaleDayRecord;
      if (options.svg) writeFileSync(options.svg, renderChart(record));
      const markdown = renderScaleDaySummary(record, options.svg ?? 'scale-day.svg');
      if (options.markdown) writeFileSync(options.markdown, markdown);
      else console.log(markdown);
      return 0;
    },
  };
}
