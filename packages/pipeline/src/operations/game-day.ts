import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { CLUSTER_STACK_OUTPUTS, type Platform } from '@platform/platform-config';
import { table } from '../io/markdown';
import { formatDuration, httpProbe, runProbes, summarizeProbes, type Availability, type Probe, type ProbeSample } from './probes';

/**
 * Game day: start the cluster's FIS AZ-failure experiment, probe the Kubernetes API and the
 * sample app for the whole experiment, and report availability. Stack outputs name what
 * to start and what to probe (platform-config CLUSTER_STACK_OUTPUTS): always the cluster's own endpoints,
 * never the global failover hostname, which answers from production whatever is tested.
 */

export interface GameDayTarget {
  readonly templateId: string;
  /** The cluster's own API endpoint (output api_endpoint), `/readyz`. */
  readonly apiUrl: string;
  /**
   * The sample app through this cluster's own ingress NLB, asked for the app's hostname
   * (Host header and TLS server name), so a staging or dr game day measures staging or dr and
   * not production behind the failover record. Undefined when the platform has no DNS
   * settings (no app hostname to ask for).
   */
  readonly app: { readonly url: string; readonly host: string } | undefined;
}

/** What to start and probe for a game day that takes `az` away. */
export function gameDayTarget(platform: Platform, cluster: string, az: string, outputs: Record<string, unknown>): GameDayTarget {
  const definition = platform.cluster(cluster);
  if (!definition.availabilityZones.includes(az)) {
    throw new Error(`availability zone ${JSON.stringify(az)} is not one of ${cluster}'s zones; expected one of ${definition.availabilityZones.join(', ')}`);
  }
  const stack = platform.namesOf(cluster).stack;
  const templateId = (outputs[CLUSTER_STACK_OUTPUTS.fisTemplateIdsByAz] as Record<string, unknown> | undefined)?.[az];
  if (typeof templateId !== 'string' || templateId === '') {
    throw new Error(`stack ${stack} has no output ${CLUSTER_STACK_OUTPUTS.fisTemplateIdsByAz}[${az}]; apply it first`);
  }
  const api = outputs[CLUSTER_STACK_OUTPUTS.apiEndpoint];
  if (typeof api !== 'string' || api === '') throw new Error(`stack ${stack} has no output ${CLUSTER_STACK_OUTPUTS.apiEndpoint}`);
  const apiUrl = api.startsWith('https://') ? `${api.replace(/\/$/, '')}/readyz` : `https://${api}:6443/readyz`;
  const host = platform.names.appHostname;
  if (!host) return { templateId, apiUrl, app: undefined };
  const ingress = outputs[CLUSTER_STACK_OUTPUTS.ingressDnsName];
  if (typeof ingress !== 'string' || ingress === '') throw new Error(`stack ${stack} has no output ${CLUSTER_STACK_OUTPUTS.ingressDnsName}; apply it first`);
  return { templateId, apiUrl, app: { url: `https://${ingress}/`, host } };
}

/**
 * GET without verifying the server certificate: the API server's CA is the cluster's own,
 * not in the runner's trust store, the ingress NLB's name is not on the app's certificate,
 * and availability is what is measured. `host` is sent as the Host header and TLS server
 * name (the ingress routes by host). `http:` URLs are accepted for tests on loopback.
 */
export function insecureHttpsProbe(url: string, options: { readonly host?: string } = {}): Probe {
  const send = url.startsWith('http:') ? httpRequest : request;
  const headers = options.host ? { host: options.host } : undefined;
  return (signal) =>
    new Promise((resolve, reject) => {
      const req = send(url, { method: 'GET', rejectUnauthorized: false, signal, headers, ...(options.host ? { servername: options.host } : {}) }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ok: (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300, detail: `HTTP ${res.statusCode}` }));
      });
      req.on('error', reject);
      req.end();
    });
}

export interface EndpointReport {
  readonly name: string;
  readonly url: string;
  readonly availability: Availability;
  readonly samples: readonly ProbeSample[];
}

export async function probeEndpoints(
  endpoints: readonly { name: string; url: string; probe?: Probe }[],
  options: { intervalMs: number; maxProbes: number; timeoutMs: number; shouldStop?: () => boolean | Promise<boolean> },
): Promise<EndpointReport[]> {
  return Promise.all(
    endpoints.map(async (e) => {
      const samples = await runProbes(e.probe ?? httpProbe(e.url), options);
      return { name: e.name, url: e.url, samples, availability: summarizeProbes(samples) };
    }),
  );
}

/** The part of `aws fis get-experiment` the report reads. */
export interface ExperimentState {
  readonly id: string;
  readonly state: { readonly status: string; readonly reason?: string };
  /** Per action name, as FIS reports it. */
  readonly actions?: Readonly<Record<string, { readonly actionId?: string; readonly state?: { readonly status: string; readonly reason?: string } }>>;
}

/**
 * What the experiment takes away (packages/aws-cluster AzFailureExperiment), so a reader does
 * not mistake the measured availability for that of a power loss.
 */
export const GAME_DAY_COVERAGE =
  "The experiment cuts the AZ's subnets off (all traffic, a network ACL) and fails the cluster's Auto Scaling launches there for its duration. " +
  'Instances keep running and their EBS volumes stay attached; load balancer nodes and other AWS-managed parts in the AZ keep running. See docs/runbooks/az-outage.md, "Game day".';

/** One line per FIS action: its final status, and FIS's reason when it did not complete. */
function actionLines(actions: ExperimentState['actions']): string[] {
  return Object.entries(actions ?? {}).map(([name, action]) => {
    const status = action.state?.status ?? 'unknown';
    const reason = status !== 'completed' && action.state?.reason ? `: ${action.state.reason}` : '';
    return `- \`${name}\`${action.actionId ? ` (\`${action.actionId}\`)` : ''}: ${status}${reason}`;
  });
}

export function renderGameDaySummary(input: { cluster: string; az: string; experimentId: string; finalState: string; reason?: string; actions?: ExperimentState['actions']; reports: readonly EndpointReport[] }): string {
  const rows = input.reports.map((r) => [
    r.name,
    r.url,
    `${r.availability.availabilityPercent.toFixed(2)} %`,
    `${r.availability.successful}/${r.availability.probes}`,
    formatDuration(r.availability.longestOutageMs),
    String(r.availability.outages),
    r.availability.endedDown ? 'still down' : 'up',
  ]);
  return [
    `## Game day: ${input.cluster} without ${input.az}`,
    '',
    `FIS experiment \`${input.experimentId}\` ended \`${input.finalState}\`${input.finalState !== 'completed' && input.reason ? `: ${input.reason}` : ''}.`,
    '',
    ...(input.actions ? [...actionLines(input.actions), ''] : []),
    GAME_DAY_COVERAGE,
    '',
    table(['endpoint', 'url', 'availability', 'ok probes', 'longest outage', 'outages', 'at the end'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'l']),
    '',
  ].join('\n');
}

/** The FIS calls a game day makes (`aws fis start-experiment` / `get-experiment`). */
export interface FisClient {
  startExperiment(templateId: string, tags: Readonly<Record<string, string>>): Promise<ExperimentState>;
  getExperiment(id: string): Promise<ExperimentState>;
}

/** FIS states after which the experiment does nothing more (API reference, ExperimentState). */
const FINAL_STATES = ['completed', 'stopped', 'failed', 'cancelled'];

export interface GameDayOptions {
  readonly platform: Platform;
  readonly cluster: string;
  readonly az: string;
  /** `terraform output -json` of the cluster's stack. */
  readonly outputs: Record<string, unknown>;
  readonly fis: FisClient;
  /** @default 2000 */
  readonly intervalMs?: number;
  /** Probing stops after this even if the experiment still runs. @default 30 */
  readonly maxMinutes?: number;
  /** How often FIS is asked for the experiment's state (its API is rate limited). @default 15000 */
  readonly statePollMs?: number;
  /** Probes per endpoint, by URL; tests point them at loopback. @default insecureHttpsProbe */
  readonly probeOf?: (url: string, host?: string) => Probe;
  readonly log?: (line: string) => void;
}

export interface GameDayResult {
  readonly experiment: ExperimentState;
  readonly reports: readonly EndpointReport[];
  readonly markdown: string;
  /** FIS ended `completed`. */
  readonly ok: boolean;
}

/** Starts the AZ-failure experiment, probes until it ends (or maxMinutes), and renders the report. */
export async function runGameDay(options: GameDayOptions): Promise<GameDayResult> {
  const target = gameDayTarget(options.platform, options.cluster, options.az, options.outputs);
  const probeOf = options.probeOf ?? ((url: string, host?: string) => insecureHttpsProbe(url, host ? { host } : {}));
  let experiment = await options.fis.startExperiment(target.templateId, { GameDay: `${options.cluster}-${options.az}` });
  const id = experiment.id;
  options.log?.(`FIS experiment ${id} started from template ${target.templateId}`);
  const intervalMs = options.intervalMs ?? 2000;
  const maxProbes = Math.ceil(((options.maxMinutes ?? 30) * 60_000) / intervalMs);
  const statePollMs = options.statePollMs ?? 15_000;
  let lastCheck = Date.now();
  const finished = async () => {
    if (Date.now() - lastCheck >= statePollMs) {
      lastCheck = Date.now();
      experiment = await options.fis.getExperiment(id);
    }
    return FINAL_STATES.includes(experiment.state.status);
  };
  const endpoints = [
    { name: 'Kubernetes API', url: target.apiUrl, probe: probeOf(target.apiUrl) },
    ...(target.app ? [{ name: `sample app (${target.app.host} via the cluster's ingress)`, url: target.app.url, probe: probeOf(target.app.url, target.app.host) }] : []),
  ];
  const reports = await probeEndpoints(endpoints, { intervalMs, maxProbes, timeoutMs: Math.min(5000, intervalMs), shouldStop: finished });
  const markdown = renderGameDaySummary({ cluster: options.cluster, az: options.az, experimentId: id, finalState: experiment.state.status, reason: experiment.state.reason, actions: experiment.actions, reports });
  return { experiment, reports, markdown, ok: experiment.state.status === 'completed' };
}
