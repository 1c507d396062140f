import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runWithFakes } from './harness';
import { backupIn, scenario } from './scenario';

const platform = defaultPlatform();
const marker = platform.namesOf(platform.cluster('dr')).ssm.promotedMarker;
const prod = 'kubectl --context production';

describe('fence --primary production (Seoul is back while dr serves)', () => {
  it('stops the apps under a field manager Flux keeps, backs the database up, then hibernates it', async () => {
    const run = await runWithFakes(['fence', '--primary', 'production', '--poll-seconds', '0'], scenario({ ingress: '127.0.0.1:9' }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([
      'aws sts get-caller-identity --region ap-northeast-1 --output json',
      `aws ssm get-parameter --region ap-northeast-1 --name ${marker} --query Parameter.Value --output text`,
      `${prod} get --raw=/readyz`,
      `${prod} get clusters.postgresql.cnpg.io orders -n data --ignore-not-found -o json`,
      `${prod} get kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --ignore-not-found -o name`,
      `${prod} patch kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --type merge -p {"spec":{"suspend":true}} --field-manager=platform-failover`,
      `${prod} patch deployment orders-api -n data --type merge -p {"spec":{"replicas":0}} --field-manager=platform-failover`,
      `${prod} patch deployment web -n web --type merge -p {"spec":{"replicas":0}} --field-manager=platform-failover`,
      // Before each of its own changes to the database: does dr still serve (no fail-back started)?
      `aws ssm get-parameter --region ap-northeast-1 --name ${marker} --query Parameter.Value --output text`,
      `${prod} get clusters.postgresql.cnpg.io orders -n data --ignore-not-found -o name`,
      `${prod} apply -f ${join(run.outDir, 'production-orders-fenced-r1.yaml')}`,
      // CNPG's Backup goes running → completed.
      `${prod} get backups.postgresql.cnpg.io/orders-fenced-r1 -n data -o json`,
      `${prod} get backups.postgresql.cnpg.io/orders-fenced-r1 -n data -o json`,
      `aws ssm get-parameter --region ap-northeast-1 --name ${marker} --query Parameter.Value --output text`,
      `${prod} get clusters.postgresql.cnpg.io orders -n data --ignore-not-found -o name`,
      `${prod} annotate clusters.postgresql.cnpg.io orders -n data cnpg.io/hibernation=on --overwrite --field-manager=platform-failover`,
    ]);
    // The backup carries the label fail-back looks for before it deletes anything.
    const backup = parse(readFileSync(join(run.outDir, 'production-orders-fenced-r1.yaml'), 'utf8'));
    expect(backup).toMatchObject({ kind: 'Backup', metadata: { labels: { 'failover.platform.io/purpose': 'fenced' } }, spec: { cluster: { name: 'orders' }, method: 'barmanObjectStore' } });
  });

  it('refuses to fence a primary whose standby is not promoted (it may be serving)', async () => {
    const notPromoted = { tool: 'aws' as const, match: '^ssm get-parameter', responses: [{ stderr: 'An error occurred (ParameterNotFound) when calling the GetParameter operation: \n', code: 254 }] };
    const run = await runWithFakes(['fence', '--primary', 'production'], scenario({ ingress: '127.0.0.1:9', extra: [notPromoted] }));
    // Exit 3: nothing to fence (the scheduled workflow treats it as success).
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`FAILED at step preflight: dr is not promoted (${marker}:`);
    expect(run.stdout).toContain('nothing to fence yet: dr is not promoted');
    expect(run.calls.filter((c) => c.startsWith('kubectl'))).toEqual([]);
  });

  it.each([
    ['a promotion still under way (users may still reach production)', 'run r1: dr promoting for production (production may still serve)'],
    ['a drill (production serves throughout)', 'run r1: drill: dr promoted in a drill, production serves'],
  ])('leaves production alone while the marker records %s: exit 3, no cluster call', async (_label, value) => {
    const promoting = { tool: 'aws' as const, match: '^ssm get-parameter', responses: [{ stdout: `${value}\n` }] };
    const run = await runWithFakes(['fence', '--primary', 'production'], scenario({ ingress: '127.0.0.1:9', extra: [promoting] }));
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`FAILED at step preflight: dr does not serve yet (${marker} = ${value}): production may be the region users reach; refusing to fence it`);
    expect(run.calls.filter((c) => c.startsWith('kubectl'))).toEqual([]);
  });

  it.each([
    ['before the backup', ['serves'], 'backup-primary-database', 0],
    ['between the backup and the hibernation', ['serves', 'serves'], 'hibernate-primary-database', 1],
  ])('stops when a fail-back marks the standby failing back %s: exit 3, the database left to the fail-back', async (_label, servesReads, step, backups) => {
    const serves = 'run r0: dr serves for production since 2026-01-01T11:00:00Z';
    const failingBack = 'run r0: dr failing back to production, served since 2026-01-01T11:00:00Z';
    // What the fail-back's mark-failing-back wrote while this fence was running.
    const race = { tool: 'aws' as const, match: '^ssm get-parameter', responses: [...servesReads.map(() => ({ stdout: `${serves}\n` })), { stdout: `${failingBack}\n` }] };
    const run = await runWithFakes(['fence', '--primary', 'production', '--poll-seconds', '0'], scenario({ ingress: '127.0.0.1:9', extra: [race] }));
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`FAILED at step ${step}: ${marker} = ${JSON.stringify(failingBack)}: dr no longer serves, a fail-back is under way; the fence stops here`);
    expect(run.calls.filter((c) => c.includes(' apply -f '))).toHaveLength(backups);
    expect(run.calls.some((c) => c.includes(' annotate '))).toBe(false);
  });

  it('does not hibernate when the backup fails: the step says so and the apps stay at zero', async () => {
    const run = await runWithFakes(['fence', '--primary', 'production', '--poll-seconds', '0'], scenario({ ingress: '127.0.0.1:9', backupPolls: [backupIn('running'), backupIn('failed', { error: 'WAL archiving is failing' })] }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED at step backup-primary-database: backup orders-fenced-r1 on production failed: WAL archiving is failing');
    expect(run.stdout).toContain('not started: hibernate-primary-database');
    expect(run.calls.some((c) => c.includes(' annotate '))).toBe(false);
  });

  it('exits 3 while the primary API does not answer yet, touching nothing', async () => {
    const down = { tool: 'kubectl' as const, match: '^--context production get --raw=/readyz', responses: [{ stderr: 'Unable to connect to the server: dial tcp: i/o timeout\n', code: 1 }] };
    const run = await runWithFakes(['fence', '--primary', 'production'], scenario({ ingress: '127.0.0.1:9', extra: [down] }));
    expect(run.code).toBe(3);
    expect(run.stdout).toContain("nothing to fence yet: production's API does not answer yet");
    expect(run.calls.filter((c) => / (patch|apply|annotate) /.test(c))).toEqual([]);
  });

  it('exits 3 once the database is hibernated: the schedule does not back it up again every 10 minutes', async () => {
    const hibernated = { stdout: { metadata: { name: 'orders', annotations: { 'cnpg.io/hibernation': 'on' } } } };
    const run = await runWithFakes(['fence', '--primary', 'production'], scenario({ ingress: '127.0.0.1:9', primaryDatabase: hibernated }));
    expect(run.code).toBe(3);
    expect(run.stdout).toContain("nothing to fence yet: production's data/orders is hibernated: fenced by an earlier run");
    expect(run.calls.filter((c) => / (patch|apply|annotate) /.test(c))).toEqual([]);
  });
});
