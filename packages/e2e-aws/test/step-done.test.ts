import { describe, expect, it } from 'vitest';
import { stepDone } from '../src/failover';

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
