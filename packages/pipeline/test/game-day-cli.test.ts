import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLUSTER_STACK_OUTPUTS, defaultPlatform } from '@platform/platform-config';
import { gameDayCommand } from '../src/cli/commands/game-day';
import { main } from '../src/cli/main';
import type { ExperimentState, FisClient } from '../src/operations/game-day';
import { insecureHttpsProbe } from '../src/operations/game-day';
import { recordingActions } from './support/actions';

/**
 * pipeline:game-day end to end: FIS (a fake with FIS's documented states: initiating,
 * running, then completed or failed) and two loopback servers, one of which answers 503
 * while the experiment runs, as an app whose zone is gone would for a moment.
 */

const platform = defaultPlatform();
const CLUSTER = 'production';
const [zone] = platform.cluster(CLUSTER).availabilityZones;

/** Time-driven like the real service: the experiment runs for `runMs` after start, then ends `ends`. */
function fakeFis(runMs: number, ends: 'completed' | 'failed'): FisClient & { started: { templateId: string; tags: Record<string, string> }[]; status(): string; elapsed(): number } {
  let startedAt = 0;
  const started: { templateId: string; tags: Record<string, string> }[] = [];
  const state = (): ExperimentState => {
    const elapsed = Date.now() - startedAt;
    const status = elapsed < 20 ? 'initiating' : elapsed < runMs ? 'running' : ends;
    return { id: 'EXPfake1', state: { status, ...(status === 'failed' ? { reason: 'Experiment failed because one or more actions failed.' } : {}) }, actions: { 'disrupt-subnets': { actionId: 'aws:network:disrupt-connectivity', state: { status: status === 'initiating' ? 'pending' : status } } } };
  };
  return {
    started,
    status: () => state().state.status,
    elapsed: () => Date.now() - startedAt,
    async startExperiment(templateId, tags) {
      startedAt = Date.now();
      started.push({ templateId, tags: { ...tags } });
      return state();
    },
    async getExperiment(id) {
      if (id !== 'EXPfake1') throw new Error(`ResourceNotFoundException: experiment ${id}`);
      return state();
    },
  };
}

describe('pipeline:game-day with a fake FIS and loopback endpoints', () => {
  let api: Server;
  let app: Server;
  let fis: ReturnType<typeof fakeFis>;
  const ports: Record<string, number> = {};
  const listen = async (server: Server, name: string) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports[name] = (server.address() as AddressInfo).port;
  };

  beforeAll(async () => {
    api = createServer((_req, res) => res.writeHead(200).end('ok'));
    // The app fails for the first 300 ms of the experiment (its zone's pods are gone until rescheduled).
    app = createServer((_req, res) => res.writeHead(fis.status() === 'running' && fis.elapsed() < 300 ? 503 : 200).end());
    await listen(api, 'api');
    await listen(app, 'app');
  });
  afterAll(async () => {
    await Promise.all([api, app].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function run(ends: 'completed' | 'failed') {
    fis = fakeFis(900, ends);
    const outputs = { [CLUSTER_STACK_OUTPUTS.fisTemplateIdsByAz]: { [zone]: 'EXTzone' }, [CLUSTER_STACK_OUTPUTS.apiEndpoint]: 'api.production.internal', [CLUSTER_STACK_OUTPUTS.ingressDnsName]: 'ingress.elb.amazonaws.com' };
    // Each real URL is served by a loopback server (no TLS there); the Host header is kept.
    const probeOf = (url: string, host?: string) => insecureHttpsProbe(`http://127.0.0.1:${url.includes('readyz') ? ports.api : ports.app}/`, host ? { host } : {});
    const actions = recordingActions();
    const repo = mkdtempSync(join(tmpdir(), 'pipeline-game-day-'));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const code = await main(['game-day', '--cluster', CLUSTER, '--az', zone, '--interval-ms', '50', '--max-minutes', '1'], repo, platform, {
      actions,
      commands: { 'game-day': gameDayCommand({ fis, outputs, probeOf, statePollMs: 50 }) as never },
    });
    vi.restoreAllMocks();
    return { code, actions, repo };
  }

  it('starts the zone\'s template, probes until FIS says completed, and reports the app\'s outage (exit 0)', async () => {
    const { code, actions, repo } = await run('completed');
    expect(code).toBe(0);
    expect(fis.started).toEqual([{ templateId: 'EXTzone', tags: { GameDay: `${CLUSTER}-${zone}` } }]);
    const summary = actions.summaries.join('\n');
    expect(summary).toContain('FIS experiment `EXPfake1` ended `completed`.');
    expect(summary).toContain('| Kubernetes API | https://api.production.internal:6443/readyz |');
    const reports = JSON.parse(readFileSync(join(repo, 'dist', 'pipeline', `game-day-${CLUSTER}.json`), 'utf8')) as { name: string; availability: { outages: number; availabilityPercent: number } }[];
    const appReport = reports.find((r) => r.name.startsWith('sample app'));
    expect(appReport?.availability.outages).toBe(1);
    expect(appReport?.availability.availabilityPercent).toBeGreaterThan(0);
    expect(appReport?.availability.availabilityPercent).toBeLessThan(100);
  });

  it('exits 1 and gives FIS\'s reason when the experiment failed', async () => {
    const { code, actions } = await run('failed');
    expect(code).toBe(1);
    expect(actions.summaries.join('\n')).toContain('ended `failed`: Experiment failed because one or more actions failed.');
  });
});
