import { describe, expect, it } from 'vitest';
import { nodeListings, pendingSegmentNote, readyWorkersPerZone, stepDone, stepText } from '../src/failover';

// Lines as the run logs the tool's runner (packages/failover runner.ts), from the 2026-12-05 run.
const lines = [
  '  [promote] [1/13] preflight: Route 53 sees the primary unhealthy (or --force / --drill); AWS credentials work; the standby API is ready',
  '  [promote]     done in 19.8 s',
  '  [promote] [2/13] archive-freshness: the replica replayed the newest WAL segment archived in the folder it follows (any age)',
  '  [promote] FAILED at step archive-freshness: s3://b/postgres/orders/orders/wals/ holds neither the segment orders-1 replayed last',
  '  [promote] not started: mark-promoted, scale-workers, nodes-ready',
];

describe('stepDone', () => {
  it('is true only for a step whose heading is followed by done, before a failure or the next step', () => {
    expect(stepDone(lines, 'preflight')).toBe(true);
    expect(stepDone(lines, 'archive-freshness')).toBe(false);
    // Listed as not started: a step in the plan is not a step that ran.
    expect(stepDone(lines, 'nodes-ready')).toBe(false);
  });
});

describe('what the nodes-ready check reads', () => {
  const promote = [
    '  [promote] [13/14] deploy-refs: the deploy refs name the standby',
    '  [promote]     done in 1.0 s',
    '  [promote] [14/14] nodes-ready: each zone has at least the planned number of Ready worker nodes',
    '  [promote]     WARNING: full capacity not reached: timed out; dr serves on its standing workers',
    '  [promote]     done in 90.2 s',
  ];

  it("keeps a step's own lines, so a WARNING that still ends in done is visible", () => {
    expect(stepDone(promote, 'nodes-ready')).toBe(true);
    expect(stepText(promote, 'nodes-ready')).toBe('WARNING: full capacity not reached: timed out; dr serves on its standing workers done in 90.2 s');
    expect(stepText(promote, 'deploy-refs')).toBe('done in 1.0 s');
  });

  it('counts the Node listings of one step only', () => {
    const calls = new Map([
      ['preflight', ['kubectl --context dr get nodes -o json']],
      ['nodes-ready', ['kubectl --kubeconfig /k --context dr get nodes -o json', 'kubectl --kubeconfig /k --context dr get nodes -o json', 'aws autoscaling describe-auto-scaling-groups']],
    ]);
    expect(nodeListings(calls, 'nodes-ready')).toBe(2);
    expect(nodeListings(calls, 'scale-workers')).toBe(0);
  });

  it('counts Ready workers per zone, leaving out control planes and NotReady Nodes', () => {
    const node = (zone: string, ready: string, controlPlane = false) => ({
      metadata: { labels: { 'topology.kubernetes.io/zone': zone, ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}) } },
      status: { conditions: [{ type: 'Ready', status: ready }] },
    });
    expect([...readyWorkersPerZone([node('a', 'True'), node('a', 'False'), node('b', 'True', true), node('b', 'True')])]).toEqual([['a', 1], ['b', 1]]);
  });
});

describe('pendingSegmentNote', () => {
  it("reads archive-freshness's note on segments the replica has not replayed (the tool's wording, packages/failover archive-freshness.ts)", () => {
    const note =
      'orders-1 replayed up to 0/1000200 (segment 000000010000000000000001); 1 newer segment(s) archived, the newest s3://b/postgres/orders/orders/wals/0000000100000000/000000010000000000000002.gz written 2026-12-05T11:40:01Z (3 s ago): within 450 s, the replica replays them before it promotes; expected data loss ≤ 303 s of writes';
    expect(pendingSegmentNote(note)).toEqual({ count: 1, object: 's3://b/postgres/orders/orders/wals/0000000100000000/000000010000000000000002.gz', written: '2026-12-05T11:40:01Z', age: 3, within: true });
    // The caught-up branch has no pending segment.
    expect(pendingSegmentNote('orders-1 replayed up to 0/200 (segment 000000010000000000000000) written 2026-12-05T11:40:01Z, the newest segment in s3://b/x/wals/: the replica has everything archived')).toBeUndefined();
  });
});
