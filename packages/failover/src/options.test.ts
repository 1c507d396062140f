import { describe, expect, it } from 'vitest';
import { defaultRunId, parseOptions } from './options';

describe('parseOptions', () => {
  it('fills documented defaults', () => {
    const o = parseOptions(['promote', '--standby', 'dr'], '/repo', new Date('2026-01-02T03:04:05.678Z'));
    expect(o).toMatchObject({ action: 'promote', standby: 'dr', dryRun: false, force: false, replaceDatabase: false, runId: '20260102t030405', clustersDir: '/repo/clusters', pollSeconds: 15, probeAttempts: 20, probePath: '/', fluxKustomization: 'apps' });
    expect(o.timeouts).toEqual({ asgSeconds: 900, nodesSeconds: 600, databaseSeconds: 1800, appSeconds: 600, dnsSeconds: 300 });
  });

  it.each([
    [['failover'], 'unknown action "failover"; expected promote or failback'],
    [['failback'], 'failback needs --primary <cluster>'],
    [['failback', '--primary', 'production', '--force'], '--force only applies to promote (fail-back never overrides health)'],
    [['promote', '--standby', 'dr', '--run-id', 'Bad_Id'], '--run-id: got "Bad_Id"; expected 1-24 lowercase letters, digits or "-" (it becomes part of Kubernetes names)'],
    [['promote', '--standby', 'dr', '--asg-timeout', '0'], '--asg-timeout: got "0"; expected a positive number'],
    [['promote', '--standby', 'dr', '--poll-seconds=-1'], '--poll-seconds: got "-1"; expected a non-negative number'],
    [['promote', '--standby', 'dr', '--probe-path', 'healthz'], '--probe-path: got "healthz"; expected a path starting with "/"'],
    [['promote', '--standby', 'dr', '--bogus'], "Unknown option '--bogus'"],
  ])('rejects %j', (argv, message) => {
    expect(() => parseOptions(argv, '/repo')).toThrow(message);
  });

  it('makes run ids usable in Kubernetes names', () => {
    expect(defaultRunId(new Date('2026-12-31T23:59:59Z'))).toMatch(/^[a-z0-9]+$/);
  });
});
