import { describe, expect, it } from 'vitest';
import { CLUSTER_STACK_OUTPUTS, defaultPlatform } from '@platform/platform-config';
import { K6_IMAGE } from '../src/operations/scale-day/load-job';
import { runScaleDay } from '../src/operations/scale-day/run';
import { fakeCluster, type FakeClusterOptions } from './support/fake-cluster';

const platform = defaultPlatform();
const outputs = { [CLUSTER_STACK_OUTPUTS.ingressDnsName]: 'production-ingress-0123.elb.ap-northeast-2.amazonaws.com' };
const AZS = platform.cluster('production').availabilityZones;
const base: FakeClusterOptions = { azs: AZS, nodesPerAz: 2, maxPerAz: 10, podsPerNode: 4, minReplicas: 3, maxReplicas: 12, podRps: 50 };
const limits = { maxErrorRate: 0.01, maxP95Ms: 500 };

async function run(options: Partial<FakeClusterOptions>, rate = 550, phases = { rampUp: 60, hold: 600, rampDown: 60 }) {
  const fake = fakeCluster({ ...base, ...options });
  const result = await runScaleDay({ platform, cluster: 'production', outputs, kube: fake.kube, clock: fake.clock, rate, phases, limits, runId: 'r1' });
  return { ...result, fake };
}

describe('scale day against a cluster that behaves like the API', () => {
  it('probe', async () => {
    for (const [o, rate] of [[{ podRps: 100 }, 900], [{ nodesPerAz: 1, podsPerNode: 2, podRps: 100 }, 900], [{ podRps: 100 }, 1800]] as const) {
      const { record, verdict } = await run(o, rate, { rampUp: 30, hold: 600, rampDown: 60 });
      console.log(JSON.stringify(verdict), record.samples.filter((_, i) => i % 3 === 0).map((s) => `${s.t}:${s.replicas}/${s.desiredReplicas}/${s.readyReplicas} p${s.pendingPods} ${Object.values(s.nodesPerAz).join(',')}`).join(' | '), JSON.stringify(record.totals), record.load.map((w) => w.p95Ms).join(','));
    }
    expect(K6_IMAGE).toMatch(/@sha256:/);
  });
});
