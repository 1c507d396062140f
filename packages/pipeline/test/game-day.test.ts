import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { CLUSTER_STACK_OUTPUTS as CLUSTER_OUTPUTS } from '@platform/platform-config';
import { gameDayTarget, insecureHttpsProbe, GAME_DAY_COVERAGE, renderGameDaySummary } from '../src/operations/game-day';
import { summarizeProbes } from '../src/operations/probes';
import { synthInfraStacks } from './support/infra-synth';

const platform = defaultPlatform();
const CLUSTER = 'production';
const names = platform.namesOf(CLUSTER);
const [zoneA, zoneB] = platform.cluster(CLUSTER).availabilityZones;
const INGRESS = 'production-ingress-0123456789abcdef.elb.ap-northeast-2.amazonaws.com';
const outputs = { [CLUSTER_OUTPUTS.fisTemplateIdsByAz]: { [zoneA]: 'EXT1a2b3c' }, [CLUSTER_OUTPUTS.apiEndpoint]: 'api.production.internal', [CLUSTER_OUTPUTS.ingressDnsName]: INGRESS };

describe('the synthesized cluster stack', () => {
  let stackJson: Record<string, unknown>;
  beforeAll(() => {
    stackJson = synthInfraStacks()(names.stack);
  }, 120_000);

  it('outputs the template of each zone for game day to pick', () => {
    const output = (stackJson.output as Record<string, { value: unknown }>)[CLUSTER_OUTPUTS.fisTemplateIdsByAz];
    expect(Object.keys(output.value as Record<string, string>)).toEqual([...platform.cluster(CLUSTER).availabilityZones]);
    expect((stackJson.output as Record<string, unknown>)[CLUSTER_OUTPUTS.ingressDnsName]).toBeDefined();
  });
});

describe('gameDayTarget', () => {
  it('starts the template for its zone and probes the API readyz and the sample app through the cluster\'s own ingress', () => {
    expect(gameDayTarget(platform, CLUSTER, zoneA, outputs)).toEqual({
      templateId: 'EXT1a2b3c',
      apiUrl: 'https://api.production.internal:6443/readyz',
      app: { url: `https://${INGRESS}/`, host: platform.names.appHostname },
    });
  });

  it('probes staging and dr at their own ingress and API, never the failover hostname that answers from production', () => {
    for (const cluster of ['staging', 'dr']) {
      const [zone] = platform.cluster(cluster).availabilityZones;
      const own = { [CLUSTER_OUTPUTS.fisTemplateIdsByAz]: { [zone]: `EXT-${cluster}` }, [CLUSTER_OUTPUTS.apiEndpoint]: `api.${cluster}.internal`, [CLUSTER_OUTPUTS.ingressDnsName]: `${cluster}-ingress.elb.amazonaws.com` };
      const target = gameDayTarget(platform, cluster, zone, own);
      expect(target.apiUrl).toBe(`https://api.${cluster}.internal:6443/readyz`);
      expect(target.app).toEqual({ url: `https://${cluster}-ingress.elb.amazonaws.com/`, host: platform.names.appHostname });
      expect(target.app?.url).not.toContain(platform.names.appHostname as string);
      expect(target.templateId).toBe(`EXT-${cluster}`);
    }
  });

  it('asks for an apply when the stack has no ingress output', () => {
    const { [CLUSTER_OUTPUTS.ingressDnsName]: _ingress, ...withoutIngress } = outputs;
    expect(() => gameDayTarget(platform, CLUSTER, zoneA, withoutIngress)).toThrow(`stack ${names.stack} has no output ${CLUSTER_OUTPUTS.ingressDnsName}; apply it first`);
  });

  it('takes the template of the input zone out of the per-zone map, for every zone', () => {
    const zones = platform.cluster(CLUSTER).availabilityZones;
    const byAz = { ...outputs, [CLUSTER_OUTPUTS.fisTemplateIdsByAz]: Object.fromEntries(zones.map((z) => [z, `EXT-${z}`])) };
    for (const zone of zones) expect(gameDayTarget(platform, CLUSTER, zone, byAz).templateId).toBe(`EXT-${zone}`);
  });

  it('asks for an apply when the per-zone map has no template for the input zone', () => {
    expect(() => gameDayTarget(platform, CLUSTER, zoneB, outputs)).toThrow(`stack ${names.stack} has no output ${CLUSTER_OUTPUTS.fisTemplateIdsByAz}[${zoneB}]; apply it first`);
  });

  it('refuses a zone outside the cluster', () => {
    expect(() => gameDayTarget(platform, CLUSTER, 'us-east-1a', outputs)).toThrow(
      `availability zone "us-east-1a" is not one of production's zones; expected one of ${platform.cluster(CLUSTER).availabilityZones.join(', ')}`,
    );
  });

  it('asks for an apply when the stack has no template output', () => {
    expect(() => gameDayTarget(platform, CLUSTER, zoneA, { [CLUSTER_OUTPUTS.apiEndpoint]: 'x' })).toThrow(`stack ${names.stack} has no output ${CLUSTER_OUTPUTS.fisTemplateIdsByAz}[${zoneA}]; apply it first`);
  });
});

describe('the app probe', () => {
  it('asks the ingress for the app hostname (Host header), not for the load balancer name', async () => {
    const hosts: string[] = [];
    const server = createServer((req, res) => {
      hosts.push(req.headers.host ?? '');
      res.writeHead(req.headers.host === platform.names.appHostname ? 200 : 404);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      expect(await insecureHttpsProbe(url, { host: platform.names.appHostname })(new AbortController().signal)).toEqual({ ok: true, detail: 'HTTP 200' });
      expect(await insecureHttpsProbe(url)(new AbortController().signal)).toEqual({ ok: false, detail: 'HTTP 404' });
      expect(hosts[0]).toBe(platform.names.appHostname);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('renderGameDaySummary', () => {
  it('reports availability and the longest outage per endpoint', () => {
    const samples = [true, false, false, true, true].map((ok, i) => ({ at: i * 2000, ok, latencyMs: 3 }));
    const down = [true, true, false].map((ok, i) => ({ at: i * 500, ok, latencyMs: 3 }));
    const markdown = renderGameDaySummary({
      cluster: CLUSTER,
      az: zoneA,
      experimentId: 'EXP123',
      finalState: 'completed',
      reports: [
        { name: 'Kubernetes API', url: 'https://api/readyz', samples, availability: summarizeProbes(samples) },
        { name: 'sample app', url: 'https://app/', samples: down, availability: summarizeProbes(down) },
      ],
    });
    expect(markdown.split('\n')[0]).toBe(`## Game day: ${CLUSTER} without ${zoneA}`);
    expect(markdown).toContain('FIS experiment `EXP123` ended `completed`.');
    expect(markdown).toContain('| Kubernetes API | https://api/readyz | 60.00 % | 3/5 | 4.0 s | 1 | up |');
    expect(markdown).toContain('| sample app | https://app/ | 66.67 % | 2/3 | 0 ms | 1 | still down |');
    expect(markdown).toContain(GAME_DAY_COVERAGE);
  });

  it('names each FIS action\'s end and FIS\'s reason when the experiment did not complete', () => {
    const markdown = renderGameDaySummary({
      cluster: CLUSTER,
      az: zoneA,
      experimentId: 'EXP9',
      finalState: 'failed',
      reason: 'Experiment failed because one or more actions failed.',
      actions: {
        'disrupt-subnets': { actionId: 'aws:network:disrupt-connectivity', state: { status: 'completed', reason: 'Action was completed.' } },
        'no-capacity': { actionId: 'aws:ec2:asg-insufficient-instance-capacity-error', state: { status: 'failed', reason: 'Unable to inject errors: AccessDenied' } },
      },
      reports: [],
    });
    expect(markdown).toContain('FIS experiment `EXP9` ended `failed`: Experiment failed because one or more actions failed.');
    expect(markdown).toContain('- `disrupt-subnets` (`aws:network:disrupt-connectivity`): completed\n- `no-capacity` (`aws:ec2:asg-insufficient-instance-capacity-error`): failed: Unable to inject errors: AccessDenied\n');
  });
});
