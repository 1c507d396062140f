import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import type { Platform } from '@platform/platform-config';
import { table } from './markdown';
import { formatDuration, httpProbe, runProbes, summarizeProbes, type Availability, type Probe, type ProbeSample } from './probes';

/**
 * Game day: start the cluster's FIS AZ-failure experiment, probe the Kubernetes API and the
 * sample app for the whole experiment, and report availability. Stack outputs name what
 * to start and what to probe (see CLUSTER_OUTPUTS): always the cluster's own endpoints,
 * never the global failover hostname, which answers from production whatever is tested.
 */

/** Outputs of `<cluster>-cluster` this script reads (`terraform output -json`). */
export const CLUSTER_OUTPUTS = {
  apiEndpoint: 'api_endpoint',
  /** AZ -> id of the AZ-failure template that takes that AZ away (one per AZ). */
  fisTemplateIdsByAz: 'fis_experiment_template_ids',
  availabilityZones: 'availability_zones',
  /** The cluster's own ingress NLB: the app is probed there, with its hostname as Host and SNI. */
  ingressDnsName: 'ingress_load_balancer_dns_name',
} as const;

/** Outputs of the account stack (`ci-identity`) the repository variables are set from. */
export const CI_IDENTITY_OUTPUTS = { planRoleArn: 'plan_role_arn', applyRoleArn: 'apply_role_arn', driftRoleArn: 'drift_role_arn' } as const;

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
  const templateId = (outputs[CLUSTER_OUTPUTS.fisTemplateIdsByAz] as Record<string, unknown> | undefined)?.[az];
  if (typeof templateId !== 'string' || templateId === '') {
    throw new Error(`stack ${stack} has no output ${CLUSTER_OUTPUTS.fisTemplateIdsByAz}[${az}]; apply it first`);
  }
  const api = outputs[CLUSTER_OUTPUTS.apiEndpoint];
  if (typeof api !== 'string' || api === '') throw new Error(`stack ${stack} has no output ${CLUSTER_OUTPUTS.apiEndpoint}`);
  const apiUrl = api.startsWith('https://') ? `${api.replace(/\/$/, '')}/readyz` : `https://${api}:6443/readyz`;
  const host = platform.names.appHostname;
  if (!host) return { templateId, apiUrl, app: undefined };
  const ingress = outputs[CLUSTER_OUTPUTS.ingressDnsName];
  if (typeof ingress !== 'string' || ingress === '') throw new Error(`stack ${stack} has no output ${CLUSTER_OUTPUTS.ingressDnsName}; apply it first`);
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
