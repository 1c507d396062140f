import { describe, expect, it } from 'vitest';
import { closingTable, type StackRow } from '../src/closing-table';

const row = (stack: string, extra: Partial<StackRow> = {}): StackRow => ({ stack, excluded: [], changedAddresses: [], protectedAddresses: [], applied: 15, changesAfterApply: 0, destroy: 'clean', planChecks: { failed: 2, fresh: 0 }, ...extra });

describe('closingTable', () => {
  it('has one row per stack with the columns docs/e2e.md records, and the run time and peak memory', () => {
    const text = closingTable({
      rows: [row('ci-identity'), row('node-image-ap-northeast-2', { applied: 16, excluded: [{ address: 'a', because: 'b' }, { address: 'c', because: 'd' }] })],
      heading: '✅',
      seconds: 878.4,
      memoryPeak: { totalMiB: 1500, atPeak: { moto: 321 }, perGroup: { moto: 321 }, samples: 870, intervalMs: 1000 },
      peakMoto: 321,
      revision: 'abc1234',
    });
    expect(text).toContain('| stack | applied | excluded | changes after apply | destroy | checkov on plan (failed / new) |');
    expect(text).toContain('| ci-identity | 15 | 0 | 0 | clean | 2 / 0 |');
    expect(text).toContain('| node-image-ap-northeast-2 | 16 | 2 | 0 | clean | 2 / 0 |');
    expect(text).toContain('Result ✅, from abc1234');
    expect(text).toContain('- run time 878 s');
    expect(text).toMatch(/whole process tree .* 1500 MiB/);
    expect(text).toContain('- boot: not run');
  });

  it('marks a stack whose apply or destroy failed', () => {
    expect(closingTable({ rows: [row('dr-cluster', { applied: undefined, destroy: 'failed', error: 'x' })], heading: '❌', seconds: 1, revision: 'r' })).toContain('| dr-cluster | – | 0 | 0 | failed (error) | 2 / 0 |');
  });

  it('shows the raw results: the plan exit code, artefact-only resources, protected resources lifted for destroy', () => {
    const text = closingTable({
      rows: [row('dr-cluster', { planExitCode: 0, protectedAddresses: ['aws_kms_key.a', 'aws_s3_bucket.b'] }), row('staging-cluster', { planExitCode: 2, changesAfterApply: 0, artefactsIgnored: 50, destroy: undefined })],
      heading: '❌',
      seconds: 1,
      revision: 'r',
    });
    expect(text).toContain('| dr-cluster | 15 | 0 | 0 (plan exit 0) | clean (2 protected, lifted) | 2 / 0 |');
    expect(text).toContain('| staging-cluster | 15 | 0 | 0 (plan exit 2, 50 artefact-only) | – | 2 / 0 |');
  });
});
