import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Commands, Journal, NodesReady, parseOptions, resolvePair, runSteps } from '@platform/failover';
import { defaultPlatform, type ClusterDefinition } from '@platform/platform-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../src/fake-kube-api';
import { nodeReads, syncNodes, type AsgInstance } from '../src/fake-kube/nodes';
import { clusterAsgs } from '../src/node-sync';

const repoRoot = resolve(__dirname, '../../..');
const platform = defaultPlatform();
const dr = platform.cluster('dr');
const names = platform.namesOf(dr);
const [az1, az2] = dr.availabilityZones as [string, string];
const pool = dr.workerPools[0]!;
const instance = (id: string, az: string, asg: string, state = 'running'): AsgInstance => ({ instanceId: id, availabilityZone: az, asg, state, privateDnsName: `ip-10-0-0-${id.slice(-1)}.${dr.region}.compute.internal` });

describe("Nodes from moto's ASG instances, read by the failover tool's own nodes-ready step", () => {
  const work = mkdtempSync(join(tmpdir(), 'fake-nodes-'));
  let api: FakeKubeApi;
  const { controlPlane } = clusterAsgs(platform, dr);

  beforeAll(async () => {
    api = await FakeKubeApi.start(dr.name, [], { tickMs: 200 });
    writeFileSync(join(work, 'config'), api.kubeconfig());
  });
  afterAll(async () => {
    await api.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function nodesReady(perZone: Map<string, number>): Promise<{ ok: boolean; lines: string[] }> {
    const options = parseOptions(['promote', '--standby', dr.name, '--force', '--nodes-timeout', '3', '--poll-seconds', '1', '--out-dir', join(work, 'out')], repoRoot);
    const steps = [new NodesReady({ name: 'nodes-ready', side: 'standby', perZone: () => perZone })];
    const journal = new Journal('nodes test', steps, false);
    const cli = new Commands({ dryRun: false, env: { ...process.env, KUBECONFIG: join(work, 'config'), KUBECACHEDIR: join(work, 'cache') } });
    const lines: string[] = [];
    const ok = await runSteps(
      steps,
      { platform, ...resolvePair(platform, options), options, cli, facts: {}, namesOf: (c: ClusterDefinition) => platform.namesOf(c), sleep: (s: number) => new Promise((r) => setTimeout(r, s * 1000)), now: () => performance.now() / 1000, clock: () => new Date() },
      journal,
      (line) => lines.push(line),
    );
    return { ok, lines };
  }

  it('registers running instances as Ready Nodes named by private DNS name, zoned by their AZ; control planes labelled and not counted', async () => {
    const { added } = syncNodes(api, [instance('i-1', az1, names.controlPlaneAsg(az1)), instance('i-2', az1, names.workerAsg(pool, az1)), instance('i-3', az2, names.workerAsg(pool, az2)), instance('i-4', az2, names.workerAsg(pool, az2), 'pending')], (a) => controlPlane.has(a));
    expect(added.sort()).toEqual([1, 2, 3].map((n) => `ip-10-0-0-${n}.${dr.region}.compute.internal`));
    const node = api.read({ apiVersion: 'v1', kind: 'Node', name: `ip-10-0-0-3.${dr.region}.compute.internal` })!;
    expect((node.metadata as { labels: Record<string, string> }).labels['topology.kubernetes.io/zone']).toBe(az2);
    expect((node.spec as { providerID: string }).providerID).toBe(`aws:///${az2}/i-3`);
    expect((await nodesReady(new Map([[az1, 1], [az2, 1]]))).ok).toBe(true);
    // The pending instance is no Node yet and the control plane does not count: two Ready workers in az2 are not there.
    expect((await nodesReady(new Map([[az1, 1], [az2, 2]]))).ok).toBe(false);
  });

  it('removes the Node of an instance moto terminated, and nodes-ready then waits for that zone', async () => {
    const { removed } = syncNodes(api, [instance('i-1', az1, names.controlPlaneAsg(az1)), instance('i-2', az1, names.workerAsg(pool, az1), 'terminated'), instance('i-3', az2, names.workerAsg(pool, az2))], (a) => controlPlane.has(a));
    expect(removed).toEqual([`ip-10-0-0-2.${dr.region}.compute.internal`]);
    const run = await nodesReady(new Map([[az1, 1], [az2, 1]]));
    expect(run.ok).toBe(false);
    expect(run.lines.join('\n')).toContain(`${az1} 0/1`);
  });

  it('registers a Node launched during the run NotReady (CNI not up) until its Nodes were read, so nodes-ready has to poll', async () => {
    const joining = new Map<string, number>();
    const instances = [instance('i-1', az1, names.controlPlaneAsg(az1)), instance('i-5', az1, names.workerAsg(pool, az1)), instance('i-3', az2, names.workerAsg(pool, az2))];
    const name = `ip-10-0-0-5.${dr.region}.compute.internal`;
    const ready = () => ((api.read({ apiVersion: 'v1', kind: 'Node', name })?.status as { conditions: { type: string; status: string }[] }).conditions.find((c) => c.type === 'Ready')?.status);
    expect(syncNodes(api, instances, (a) => controlPlane.has(a), joining).added).toEqual([name]);
    expect(ready()).toBe('False');
    // Syncs with nobody reading do not make it Ready: it stays NotReady until a reader has seen it so.
    expect(syncNodes(api, instances, (a) => controlPlane.has(a), joining).readied).toEqual([]);
    const timer = setInterval(() => syncNodes(api, instances, (a) => controlPlane.has(a), joining), 1500);
    const before = nodeReads(api);
    try {
      const run = await nodesReady(new Map([[az1, 1], [az2, 1]]));
      expect(run.ok).toBe(true);
      expect(run.lines.join('\n')).toContain(`${az1} 1/1`);
    } finally {
      clearInterval(timer);
    }
    expect(ready()).toBe('True');
    expect(nodeReads(api) - before).toBeGreaterThan(1);
  });
});
