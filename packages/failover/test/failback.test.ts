import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Server } from 'node:http';
import { defaultPlatform } from '@platform/platform-config';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, runWithFakes } from './harness';
import { backupIn, DR_ASGS, FAILBACK_FINAL_STEPS, PROD_NLB, primaryUpsertCall, runFailback, scenario } from './scenario';

let servers: Server[] = [];
afterEach(() => {
  servers.forEach((s) => s.close());
  servers = [];
});

const platform = defaultPlatform();
const drNames = platform.namesOf(platform.cluster('dr'));
const STEPS = [
  'preflight',
  'mark-failing-back',
  'primary-nodes-ready',
  'fence-primary-apps',
  'fence-standby-app',
  'final-backup',
  'restore-database',
  'mark-restored',
  ...FAILBACK_FINAL_STEPS,
];

/** The delete-and-restore fail-back (`--rebuild`); the switchover is test/failback-switchover.test.ts. */
async function failbackRun(extraArgs: string[] = [], overrides: Partial<Parameters<typeof scenario>[0]> = {}) {
  // The restored production's first base backup (base-backup step), which S3 replicates into the
  // replica bucket: the re-armed dr bootstraps from it.
  const restoredBase = { Key: 'postgres/orders/orders-r1/base/20260101T121500/backup.info', LastModified: '2026-01-01T12:16:00+00:00' };
  const result = await runFailback(['--rebuild', ...extraArgs], { productionBucket: [restoredBase], ...overrides });
  servers.push(result.web.server);
  return result;
}

describe('failback --primary production --rebuild', () => {
  it('fences the standby, restores the primary from its latest backup, backs the new timeline up, re-arms dr as a replica of it and returns it to pilot light', async () => {
    const { run, web } = await failbackRun();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const prod = 'kubectl --context production';
    const dr = 'kubectl --context dr';
    const describeAsgs = `aws autoscaling describe-auto-scaling-groups --region ap-northeast-1 --auto-scaling-group-names ${DR_ASGS.join(' ')} --output json`;
    const scaleToZero = (side: string) => [
      `${side} patch deployment orders-api -n data --type merge -p {"spec":{"replicas":0}} --field-manager=platform-failover`,
      `${side} patch deployment web -n web --type merge -p {"spec":{"replicas":0}} --field-manager=platform-failover`,
    ];
    const drCluster = `${dr} get clusters.postgresql.cnpg.io orders -n data -o json`;
    expect(run.calls).toEqual([
      'aws sts get-caller-identity --region ap-northeast-2 --output json',
      `aws ssm get-parameter --region ap-northeast-1 --name ${drNames.ssm.promotedMarker} --query Parameter.Value --output text`,
      `${prod} get --raw=/readyz`,
      `${dr} get --raw=/readyz`,
      'aws route53 get-hosted-zone --id Z0HAKUBE --output json',
      'aws route53 list-resource-record-sets --hosted-zone-id Z0HAKUBE --start-record-name app.hakube.example.com --start-record-type A --max-items 10 --output json',
      'aws route53 get-health-check-status --health-check-id hc-production --output json',
      // Before any change: production's database has a fenced backup newer than the promotion.
      `${prod} get clusters.postgresql.cnpg.io orders -n data --ignore-not-found -o name`,
      `${prod} get backups.postgresql.cnpg.io -n data -l failover.platform.io/purpose=fenced -o json`,
      // First change: the marker leaves `serves`, so a scheduled fence running now stops.
      `aws ssm put-parameter --region ap-northeast-1 --name ${drNames.ssm.promotedMarker} --type String --overwrite --value run r0: dr failing back to production, served since 2026-01-01T11:00:00Z`,
      `${prod} get nodes -o json`,
      // The returned primary stays fenced (idempotent if `failover fence` already ran).
      `${prod} get kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --ignore-not-found -o name`,
      `${prod} patch kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --type merge -p {"spec":{"suspend":true}} --field-manager=platform-failover`,
      ...scaleToZero(prod),
      ...scaleToZero(dr),
      `${dr} apply -f ${join(run.outDir, 'dr-orders-failback-r1.yaml')}`,
      // CNPG reports the backup running, then completed.
      `${dr} get backups.postgresql.cnpg.io/orders-failback-r1 -n data -o json`,
      `${dr} get backups.postgresql.cnpg.io/orders-failback-r1 -n data -o json`,
      drCluster,
      `${prod} get clusters.postgresql.cnpg.io orders -n data --ignore-not-found -o name`,
      // Production's database is deleted only after the fenced backup of it is found.
      `${prod} get backups.postgresql.cnpg.io -n data -l failover.platform.io/purpose=fenced -o json`,
      `${prod} get kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --ignore-not-found -o name`,
      `${prod} patch kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --type merge -p {"spec":{"suspend":true}} --field-manager=platform-failover`,
      `${prod} delete clusters.postgresql.cnpg.io orders -n data --wait=true --timeout=1800s`,
      `${prod} apply -f ${join(run.outDir, 'production-orders-recovery.yaml')}`,
      `${prod} wait clusters.postgresql.cnpg.io/orders -n data --for=condition=Ready --timeout=1800s`,
      // Checkpoint: a re-run from here never fences or restores production again.
      `aws ssm put-parameter --region ap-northeast-1 --name ${drNames.ssm.promotedMarker} --type String --overwrite --value run r0: dr failing back to production, served since 2026-01-01T11:00:00Z, restored by run r1`,
      `${prod} get deployment orders-api -n data -o json`,
      `${prod} scale deployment orders-api -n data --replicas=3`,
      `${prod} rollout status deployment/orders-api -n data --timeout=600s`,
      `${prod} get deployment web -n web -o json`,
      `${prod} scale deployment web -n web --replicas=3`,
      `${prod} rollout status deployment/web -n web --timeout=600s`,
      'aws elbv2 describe-load-balancers --region ap-northeast-2 --names production-ingress --query LoadBalancers[0].DNSName --output text',
      'aws elbv2 describe-load-balancers --region ap-northeast-2 --names production-ingress --query LoadBalancers[0].[DNSName,CanonicalHostedZoneId] --output json',
      primaryUpsertCall(PROD_NLB, true),
      'aws route53 update-health-check --health-check-id hc-production --resource-path /ready --output json',
      // dr's page alarm (armed by the promotion) silenced before its check is closed by design.
      'aws cloudwatch disable-alarm-actions --region us-east-1 --alarm-names dr-app-health-check',
      'aws cloudwatch describe-alarms --region us-east-1 --alarm-names dr-app-health-check --query MetricAlarms[0].ActionsEnabled --output text',
      'aws route53 update-health-check --health-check-id hc-dr --resource-path /region-failover-not-promoted --output json',
      'aws route53 get-health-check-status --health-check-id hc-production --output json',
      'aws route53 get-health-check-status --health-check-id hc-dr --output json',
      'aws ec2 describe-network-interfaces --region ap-northeast-2 --filters Name=description,Values=ELB net/production-ingress/* --query NetworkInterfaces[].Association.PublicIp --output json',
      'aws route53 test-dns-answer --hosted-zone-id Z0HAKUBE --record-name app.hakube.example.com --record-type A --output json',
      // The new timeline's first base backup, before dr bootstraps from it.
      `${prod} apply -f ${join(run.outDir, 'production-orders-base-r1.yaml')}`,
      `${prod} get backups.postgresql.cnpg.io/orders-base-r1 -n data -o json`,
      // dr becomes a replica cluster of production's new archive again.
      `${dr} delete clusters.postgresql.cnpg.io orders -n data --ignore-not-found --wait=true --timeout=1800s`,
      `${dr} apply --server-side --field-manager=platform-failover -f ${join(run.outDir, 'dr-orders-replica.yaml')}`,
      drCluster,
      drCluster,
      drCluster,
      `${dr} exec -n data orders-1 -c postgres -- psql -XAtq -d postgres -c SELECT pg_is_in_recovery()`,
      describeAsgs,
      ...DR_ASGS.map((g) => `aws autoscaling update-auto-scaling-group --region ap-northeast-1 --auto-scaling-group-name ${g} --min-size 1 --desired-capacity 1`),
      describeAsgs,
      `aws ssm delete-parameter --region ap-northeast-1 --name ${drNames.ssm.promotedMarker}`,
      // Pilot light as a whole: closed check, no marker, a replaying replica.
      'aws route53 get-health-check --health-check-id hc-dr --output json',
      `aws ssm get-parameter --region ap-northeast-1 --name ${drNames.ssm.promotedMarker} --query Parameter.Value --output text`,
      drCluster,
      `${dr} exec -n data orders-1 -c postgres -- psql -XAtq -d postgres -c SELECT pg_is_in_recovery()`,
    ]);
    const replica = parseAllDocuments(readFileSync(join(run.outDir, 'dr-orders-replica.yaml'), 'utf8'))[0]!.toJSON();
    expect(replica.spec.replica).toEqual({ self: 'dr', primary: 'production', source: 'production' });
    expect(replica.spec.externalClusters[1].barmanObjectStore).toMatchObject({ destinationPath: 's3://hakube-dr-app-backups-ap-northeast-1/postgres/orders', serverName: 'orders-r1' });
    expect(replica.spec.externalClusters[0].barmanObjectStore).toMatchObject({ destinationPath: 's3://hakube-production-app-backups-ap-northeast-1/postgres/orders', serverName: 'orders-r1' });
    expect(replica.spec.backup.barmanObjectStore).toMatchObject({ destinationPath: 's3://hakube-dr-app-backups-ap-northeast-1/postgres/orders', serverName: 'orders-r1' });
    // Git records who serves: production again, by this run.
    expect(JSON.parse(readFileSync(run.stateFile, 'utf8'))).toEqual({ production: { serving: 'production', since: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), runId: 'r1' } });
    expect(run.stdout).toContain('then: npx tsx packages/pipeline/src/cli/main.ts deploy-refs --sha "$(git rev-parse HEAD)" --cluster production   # moves deploy/production');
    expect(run.stdout).toContain('then: npx tsx packages/pipeline/src/cli/main.ts deploy-refs --sha "$(git rev-parse HEAD)" --cluster dr   # moves deploy/dr');
    // Git now names the restored primary's archive, so the next promotion restores from it.
    expect(readFileSync(run.archivesFile, 'utf8')).toContain('DATABASE_ARCHIVE_SERVER_NAMES: Readonly<Record<string, string>> = {\n  "dr": "orders-r1",\n  "production": "orders-r1",\n};');
    expect(web.orders).toEqual(['failover-check-r1-failback']);
    expect(web.hosts.every((h) => h === 'app.hakube.example.com')).toBe(true);
    // Data flows back from the standby's own bucket (cross-region read, no replication lag).
    const [, cluster] = parseAllDocuments(readFileSync(join(run.outDir, 'production-orders-recovery.yaml'), 'utf8')).map((d) => d.toJSON());
    expect(cluster.spec.externalClusters[0].barmanObjectStore).toMatchObject({
      destinationPath: 's3://hakube-dr-app-backups-ap-northeast-1/postgres/orders',
      serverName: 'orders-r0',
      endpointURL: 'https://s3.ap-northeast-1.amazonaws.com',
    });
    // Its own archive is where Git has production archive (appWalArchive: its bucket in dr's region), signed for that region.
    expect(cluster.spec.backup.barmanObjectStore).toMatchObject({
      destinationPath: 's3://hakube-production-app-backups-ap-northeast-1/postgres/orders',
      serverName: 'orders-r1',
      endpointURL: 'https://s3.ap-northeast-1.amazonaws.com',
    });
    expect(cluster.spec.env).toContainEqual({ name: 'AWS_DEFAULT_REGION', value: 'ap-northeast-1' });
  });

  it('stops before touching anything when the final backup fails, saying the app is fenced', async () => {
    const { run } = await failbackRun([], { backupPolls: [backupIn('running'), backupIn('failed', { error: 'upload of base.tar failed: AccessDenied' })] });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED at step final-backup: backup orders-failback-r1 on dr failed: upload of base.tar failed: AccessDenied');
    expect(run.stdout).toContain('completed steps: preflight, mark-failing-back, primary-nodes-ready, fence-primary-apps, fence-standby-app\n');
    expect(run.stdout).toContain(`not started: ${STEPS.slice(STEPS.indexOf('final-backup') + 1).join(', ')}`);
    // Production was only fenced further (suspend, scale to 0): nothing of it applied or deleted.
    expect(run.calls.some((c) => c.startsWith('kubectl --context production') && / (apply|delete) /.test(c))).toBe(false);
    const journal = JSON.parse(readFileSync(join(run.outDir, 'journal.json'), 'utf8'));
    expect(journal.steps[4].notes).toContain('undo: kubectl --context dr scale deployment -n <namespace> <name> --replicas=3 for data/orders-api, web/web');
  });

  const fenced = (name: string, cluster: string, phase: string, stoppedAt?: string) => ({ metadata: { name }, spec: { cluster: { name: cluster } }, status: { phase, ...(stoppedAt ? { stoppedAt } : {}) } });
  const REFUSED = "FAILED at step preflight: production's data/orders has no fenced backup completed after dr started serving at 2026-01-01T11:00:00Z (run r0); found: ";
  const neverDeletes = (run: { calls: string[]; archivesFile: string }) => {
    expect(run.calls.some((c) => c.startsWith('kubectl --context production delete'))).toBe(false);
    expect(readFileSync(run.archivesFile, 'utf8')).toContain('= {};');
  };

  it.each([
    ['only a failed one', [fenced('orders-fenced-r0', 'orders', 'failed')], 'orders-fenced-r0 (phase failed)'],
    // An earlier incident's backup misses every write production took since this promotion.
    ['only one completed before the promotion', [fenced('orders-fenced-old', 'orders', 'completed', '2026-01-01T10:59:59Z')], 'orders-fenced-old (completed 2026-01-01T10:59:59Z, before the promotion)'],
    ['only one of another cluster', [fenced('other-fenced-r2', 'other', 'completed', '2026-01-01T12:00:00Z')], 'other-fenced-r2 (of cluster other)'],
  ])("never deletes the returned primary's database with %s, and refuses in the preflight while the fence can still act", async (_label, items, found) => {
    const { run } = await failbackRun([], { fencedBackups: { stdout: { items } } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `${REFUSED}${found}. It may hold writes made after the promotion. Nothing was changed (${drNames.ssm.promotedMarker} still says serves since 2026-01-01T11:00:00Z). Run: npm run failover -- fence --primary production; then re-run this fail-back`,
    );
    neverDeletes(run);
    // No change at all: the marker still says `serves` (so the command it names acts), dr's users keep their app.
    expect(run.calls.filter((c) => / (put-parameter|delete-parameter|patch|scale|apply|delete|annotate) /.test(c))).toEqual([]);
  });

  it('refuses before any change, naming the marker to put back, when an older fail-back left `failing back` without a fenced backup', async () => {
    const value = 'run r0: dr failing back to production, served since 2026-01-01T11:00:00Z';
    const { run } = await failbackRun([], { marker: value, fencedBackups: { stdout: { items: [] } } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `${REFUSED}none. It may hold writes made after the promotion. The fence acts only while the marker says serves; nothing was restored yet, so put it back and fence: aws ssm put-parameter --region ap-northeast-1 --name ${drNames.ssm.promotedMarker} --type String --overwrite --value 'run r0: dr serves for production since 2026-01-01T11:00:00Z' && npm run failover -- fence --primary production; then re-run this fail-back`,
    );
    expect(run.calls.filter((c) => / (put-parameter|patch|scale|apply|delete) /.test(c))).toEqual([]);
  });

  it('a fail-back stopped part way resumes from its own failing-back marker (the promotion time kept), and the fence refuses to act on it', async () => {
    const value = 'run r0: dr failing back to production, served since 2026-01-01T11:00:00Z';
    const { run } = await failbackRun([], { marker: value });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('an earlier fail-back stopped part way: resuming it');
    const fence = await runWithFakes(['fence', '--primary', 'production'], scenario({ ingress: '127.0.0.1:9', marker: value }));
    expect(fence.code).toBe(3);
    expect(fence.stdout).toContain(`FAILED at step preflight: dr does not serve yet (${drNames.ssm.promotedMarker} = ${value})`);
    expect(fence.calls.filter((c) => c.startsWith('kubectl'))).toEqual([]);
  });

  it('a fail-back that stopped after restoring production resumes from its checkpoint: production is neither fenced nor deleted again, the archive keeps the first run\'s name', async () => {
    const failRearm = { tool: 'kubectl' as const, match: '^--context dr apply --server-side', responses: [{ stderr: 'error: the server was unable to return a response in the time allotted\n', code: 1 }] };
    const first = (await failbackRun([], { extra: [failRearm] })).run;
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('FAILED at step rearm-standby');
    // What the first run left in SSM (the fake keeps parameters across calls within a run).
    const markerPuts = first.argv.filter((a) => a[0] === 'aws' && a.includes('put-parameter'));
    const left = markerPuts.at(-1)!.at(-1)!;
    expect(left).toBe('run r0: dr failing back to production, served since 2026-01-01T11:00:00Z, restored by run r1');
    // The archive names it wrote are not committed: the run says so, in its output and the journal.
    const archives = relative(REPO_ROOT, first.archivesFile);
    const uncommitted = `written but not committed (the run stopped before deploy-refs): ${archives}; see git diff -- ${archives}`;
    expect(first.stdout).toContain(uncommitted);
    expect(readFileSync(join(first.outDir, 'summary.md'), 'utf8')).toContain(uncommitted);
    expect(readFileSync(first.archivesFile, 'utf8')).toContain('"production": "orders-r1"');

    // The re-run (the workflow's next attempt has a new run id): production serves users's writes by now.
    const { run } = await failbackRun(['--run-id', 'r2'], { marker: left });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const prod = 'kubectl --context production';
    expect(run.calls.filter((c) => c.startsWith(`${prod} delete`) || c.startsWith(`${prod} apply -f ${join(run.outDir, 'production-orders-recovery.yaml')}`))).toEqual([]);
    expect(run.calls.filter((c) => /patch deployment .* \{"spec":\{"replicas":0\}\}/.test(c))).toEqual([]);
    expect(run.calls.some((c) => c.includes('orders-failback-'))).toBe(false);
    // The checkpoint survives mark-failing-back, so a third run would skip them too.
    expect(run.calls.filter((c) => c.includes('put-parameter')).every((c) => c.endsWith(', restored by run r1'))).toBe(true);
    expect(run.stdout).toContain('skipped: production\'s database was restored by fail-back run r1; it is not fenced or replaced again');
    // The remaining steps complete, on the archive the first run's restore writes to.
    const replica = parseAllDocuments(readFileSync(join(run.outDir, 'dr-orders-replica.yaml'), 'utf8'))[0]!.toJSON();
    expect(replica.spec.externalClusters[0].barmanObjectStore).toMatchObject({ serverName: 'orders-r1' });
    expect(readFileSync(run.archivesFile, 'utf8')).toContain('"production": "orders-r1"');
    expect(run.calls).toContain(`aws ssm delete-parameter --region ap-northeast-1 --name ${drNames.ssm.promotedMarker}`);
  });

  it('refuses to fail back without a promotion marker, or with one that records no time', async () => {
    const absent = (await failbackRun([], { marker: null })).run;
    expect(absent.code).toBe(1);
    expect(absent.stdout).toContain(
      `FAILED at step preflight: ${drNames.ssm.promotedMarker} does not exist in ap-northeast-1: dr is not promoted, so there is nothing to fail back from; refusing (fail-back replaces production's database)`,
    );
    neverDeletes(absent);
    const old = (await failbackRun([], { marker: 'run r0: dr serves for production' })).run;
    expect(old.code).toBe(1);
    expect(old.stdout).toContain(
      `FAILED at step preflight: ${drNames.ssm.promotedMarker} = "run r0: dr serves for production": it records no time dr started serving (expected "run <id>: dr serves for production since <UTC time>"); refusing to fail back, since no fenced backup can be shown to be newer than the promotion`,
    );
    neverDeletes(old);
  });

  it('stops at verify-pilot-light when dr\'s check still probes the app path', async () => {
    const open = { tool: 'aws' as const, match: '^route53 get-health-check --health-check-id hc-dr ', responses: [{ stdout: { HealthCheck: { HealthCheckConfig: { ResourcePath: '/ready' } } } }] };
    const { run } = await failbackRun([], { extra: [open] });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED at step verify-pilot-light: dr is not back to pilot light: health check hc-dr probes "/ready", not /region-failover-not-promoted');
  });
});
