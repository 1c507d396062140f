import { describe, expect, it } from 'vitest';
import { defaultRunId, parseOptions } from './options';

describe('parseOptions', () => {
  it('fills documented defaults', () => {
    const o = parseOptions(['promote', '--standby', 'dr'], '/repo', new Date('2026-01-02T03:04:05.678Z'));
    expect(o).toMatchObject({ action: 'promote', standby: 'dr', dryRun: false, force: false, drill: false, archivesFile: '/repo/packages/platform-config/src/database-archives.ts', replaceDatabase: false, runId: '20260102t030405', clustersDir: '/repo/clusters', pollSeconds: 15, probeAttempts: 20, probePath: '/', fluxKustomization: 'apps' });
    expect(o.timeouts).toEqual({ asgSeconds: 900, nodesSeconds: 600, databaseSeconds: 1800, appSeconds: 600, dnsSeconds: 300, demotionSeconds: 300 });
  });

  it.each([
    [['failover'], 'unknown action "failover"; expected promote, fence or failback'],
    [['failback'], 'failback needs --primary <cluster>'],
    [['fence'], 'fence needs --primary <cluster>'],
    [['failback', '--primary', 'production', '--force'], '--force only applies to promote (failback never overrides health or data checks)'],
    [['fence', '--primary', 'production', '--drill'], '--drill only applies to promote (fence never overrides health or data checks)'],
    [['promote', '--standby', 'dr', '--force', '--drill'], '--force and --drill exclude each other: --force fails over a broken primary, --drill never touches it'],
    [['promote', '--standby', 'dr', '--accept-data-loss-after', 'yes'], '--accept-data-loss-after: got "yes"; expected the newest WAL time the refusal printed, e.g. 2026-01-01T12:00:00Z'],
    [['promote', '--standby', 'dr', '--run-id', 'Bad_Id'], '--run-id: got "Bad_Id"; expected 1-24 lowercase letters, digits or "-" (it becomes part of Kubernetes names)'],
    [['promote', '--standby', 'dr', '--asg-timeout', '0'], '--asg-timeout: got "0"; expected a positive number'],
    [['promote', '--standby', 'dr', '--poll-seconds=-1'], '--poll-seconds: got "-1"; expected a non-negative number'],
    [['promote', '--standby', 'dr', '--probe-path', 'healthz'], '--probe-path: got "healthz"; expected a path starting with "/"'],
    [['promote', '--standby', 'dr', '--bogus'], "Unknown option '--bogus'"],
    [['promote', '--standby', 'dr', '--git', 'commit'], '--git: got "commit"; expected print (the commands are printed) or push (commit, push and move the deploy refs)'],
    [['promote', '--standby', 'dr', '--rebuild'], '--rebuild only applies to failback (promote never rebuilds the primary\'s database)'],
    [['fence', '--primary', 'production', '--git', 'push'], '--git only applies to promote and failback (fence records nothing in Git)'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseOptions(argv, '/repo')).toThrow(message);
  });

  it('makes run ids usable in Kubernetes names', () => {
    expect(defaultRunId(new Date('2026-12-31T23:59:59Z'))).toMatch(/^[a-z0-9]+$/);
  });
});
