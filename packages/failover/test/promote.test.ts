import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { defaultPlatform } from '@platform/platform-config';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { clustersWithInitdbStandby, runWithFakes, startIngress } from './harness';
import { archive, asgs, DR_ASGS, DR_NLB, DR_ZONES, lsnIn, nodes, objectAged, primaryUpsertCall, promotedStandby, REPLICA_BUCKET, scenario, segmentName, walSegments } from './scenario';

const FAST = ['--poll-seconds', '0', '--probe-attempts', '3'];
const MUTATING = / (update-auto-scaling-group|patch|delete|apply|scale) /;
let servers: Server[] = [];
afterEach(() => {
  servers.forEach((s) => s.close());
  servers = [];
});
async function ingress(status = 200) {
  const started = await startIngress(status);
  servers.push(started.server);
  return started;
}

const ctx = '--context dr';
const describeAsgs = `aws autoscaling describe-auto-scaling-groups --region ap-northeast-1 --auto-scaling-group-names ${DR_ASGS.join(' ')} --output json`;
const platform = defaultPlatform();
const markerCall = (value: string) => `aws ssm put-parameter --region ap-northeast-1 --name ${platform.namesOf(platform.cluster('dr')).ssm.promotedMarker} --type String --overwrite --value ${value}`;
// Promoting until users are moved (the fence leaves production alone), serving after open-standby.
const MARK = markerCall('run r1: dr promoting for production (production may still serve)');
const SERVES = expect.stringMatching(/^aws ssm put-parameter --region ap-northeast-1 --name \/hakube\/dr\/failover\/promoted --type String --overwrite --value run r1: dr serves for production since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
const FENCE = 'aws route53 update-health-check --health-check-id hc-production --resource-path /region-failover-fenced --output json';
const OPEN = [
  'aws route53 update-health-check --health-check-id hc-dr --resource-path /ready --output json',
  'aws elbv2 describe-load-balancers --region ap-northeast-1 --names dr-ingress --query LoadBalancers[0].[DNSName,CanonicalHostedZoneId] --output json',
  primaryUpsertCall(DR_NLB, false),
  SERVES,
  // dr's us-east-1 page alarm armed once dr serves, and read back.
  'aws cloudwatch enable-alarm-actions --region us-east-1 --alarm-names dr-app-health-check',
  'aws cloudwatch describe-alarms --region us-east-1 --alarm-names dr-app-health-check --query MetricAlarms[0].ActionsEnabled --output text',
];
const PRIMARY_STATUS = 'aws route53 get-health-check-status --health-check-id hc-production --output json';
const CLUSTER = `kubectl ${ctx} get clusters.postgresql.cnpg.io orders -n data -o json`;
const REPLAY_POINT = `kubectl ${ctx} exec -n data orders-1 -c postgres -- psql -XAtq -d postgres -c SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), timeline_id, (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') FROM pg_control_checkpoint()`;
const IN_RECOVERY = `kubectl ${ctx} exec -n data orders-1 -c postgres -- psql -XAtq -d postgres -c SELECT pg_is_in_recovery()`;
// The replica's freshness: what the archive holds after the replayed segment, and the server folders beside it.
const FRESHNESS = [
  CLUSTER,
  REPLAY_POINT,
  `aws s3api list-objects-v2 --region ap-northeast-1 --bucket ${REPLICA_BUCKET} --prefix postgres/orders/orders/wals/ --start-after postgres/orders/orders/wals/0000000100000000/000000010000000000000014 --output json`,
  `aws s3api list-objects-v2 --region ap-northeast-1 --bucket ${REPLICA_BUCKET} --prefix postgres/orders/ --delimiter / --output json`,
];
// The restore path has no replay point: the last wals/<timeline+log>/ directory's newest segment.
const RESTORE_FRESHNESS = [
  `aws s3api list-objects-v2 --region ap-northeast-1 --bucket ${REPLICA_BUCKET} --prefix postgres/orders/orders/wals/ --delimiter / --output json`,
  `aws s3api list-objects-v2 --region ap-northeast-1 --bucket ${REPLICA_BUCKET} --prefix postgres/orders/orders/wals/0000000100000000/ --output json`,
];
const BASE_BACKUP = (outDir: string) => [`kubectl ${ctx} apply -f ${join(outDir, 'dr-orders-base-r1.yaml')}`, `kubectl ${ctx} get backups.postgresql.cnpg.io/orders-base-r1 -n data -o json`, `kubectl ${ctx} get backups.postgresql.cnpg.io/orders-base-r1 -n data -o json`];
const DNS_REPORT = [
  'aws route53 get-health-check-status --health-check-id hc-production --output json',
  'aws route53 get-health-check-status --health-check-id hc-dr --output json',
  'aws ec2 describe-network-interfaces --region ap-northeast-1 --filters Name=description,Values=ELB net/dr-ingress/* --query NetworkInterfaces[].Association.PublicIp --output json',
  'aws route53 test-dns-answer --hosted-zone-id Z0HAKUBE --record-name app.hakube.example.com --record-type A --output json',
];
// Issued, then one read that AWS took the sizes: the promotion does not wait for the instances.
const SCALE = [
  describeAsgs,
  ...DR_ASGS.map((g) => `aws autoscaling update-auto-scaling-group --region ap-northeast-1 --auto-scaling-group-name ${g} --min-size 2 --desired-capacity 2`),
  describeAsgs,
];
// Last: the full capacity joins after users were moved (one zone short, then all there).
const NODES_READY = [`kubectl ${ctx} get nodes -o json`, `kubectl ${ctx} get nodes -o json`];
const VERIFY = [
  `kubectl ${ctx} get deployment orders-api -n data -o json`,
  `kubectl ${ctx} scale deployment orders-api -n data --replicas=3`,
  `kubectl ${ctx} rollout status deployment/orders-api -n data --timeout=600s`,
  `kubectl ${ctx} get deployment web -n web -o json`,
  `kubectl ${ctx} scale deployment web -n web --replicas=3`,
  `kubectl ${ctx} rollout status deployment/web -n web --timeout=600s`,
  'aws elbv2 describe-load-balancers --region ap-northeast-1 --names dr-ingress --query LoadBalancers[0].DNSName --output text',
];
const STEPS = ['preflight', 'archive-freshness', 'mark-promoted', 'scale-workers', 'recheck-primary', 'promote-database', 'verify-app', 'fence-primary', 'open-standby', 'dns-report', 'base-backup', 'record-serving-state', 'deploy-refs', 'nodes-ready'];
const after = (step: string) => STEPS.slice(STEPS.indexOf(step) + 1).join(', ');
const preflight = [
  'aws sts get-caller-identity --region ap-northeast-1 --output json',
  'aws route53 get-hosted-zone --id Z0HAKUBE --output json',
  'aws route53 list-resource-record-sets --hosted-zone-id Z0HAKUBE --start-record-name app.hakube.example.com --start-record-type A --max-items 10 --output json',
  'aws route53 get-health-check-status --health-check-id hc-production --output json',
];

const INITDB_STANDBY = clustersWithInitdbStandby();

describe('promote --standby dr', () => {
  it("promotes Git's replica cluster in place, fencing the primary only just before users move: every step in order with exactly these calls", async () => {
    const web = await ingress();
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: web.endpoint }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([
      ...preflight,
      `kubectl ${ctx} get --raw=/readyz`,
      ...FRESHNESS,
      MARK,
      ...SCALE,
      // Just before the database becomes writable: is production still down?
      PRIMARY_STATUS,
      CLUSTER,
      `kubectl ${ctx} get kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --ignore-not-found -o name`,
      `kubectl ${ctx} patch kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --type merge -p {"spec":{"suspend":true}} --field-manager=platform-failover`,
      `kubectl ${ctx} patch clusters.postgresql.cnpg.io orders -n data --type merge -p {"spec":{"replica":{"primary":"dr"},"backup":{"barmanObjectStore":{"serverName":"orders-r1"}}}} --field-manager=platform-failover`,
      // CNPG takes two polls to report the promotion, and the instance leaves recovery one poll later.
      CLUSTER,
      CLUSTER,
      CLUSTER,
      IN_RECOVERY,
      CLUSTER,
      IN_RECOVERY,
      ...VERIFY,
      FENCE,
      ...OPEN,
      ...DNS_REPORT,
      ...BASE_BACKUP(run.outDir),
      ...NODES_READY,
    ]);
    const journal = JSON.parse(readFileSync(join(run.outDir, 'journal.json'), 'utf8'));
    expect(journal.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual(STEPS.map((s) => `${s}:done`));
    // The promoted database proved writable through the app before DNS moved.
    expect(web.orders).toEqual(['failover-check-r1-promote']);
    const base = journal.steps.find((s: { step: string }) => s.step === 'base-backup');
    expect(base.notes).toEqual(['base backup orders-base-r1 on dr: backupId 20260101T121500, completed 2026-01-01T12:16:00Z, in hakube-dr-app-backups-ap-northeast-1']);
    expect(journal.steps.find((s: { step: string }) => s.step === 'promote-database').notes).toContain('data/orders on dr: orders-1 is primary and accepts writes');
    // Git's record of who serves, and the ref that must follow it.
    expect(JSON.parse(readFileSync(run.stateFile, 'utf8'))).toEqual({ production: { serving: 'dr', since: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), runId: 'r1' } });
    expect(run.stdout).toContain('then: npx tsx packages/pipeline/src/cli/main.ts deploy-refs --sha "$(git rev-parse HEAD)" --cluster dr   # moves deploy/dr');
  });

  it('fences nothing and promotes nothing when production recovers during the promotion (before the database step)', async () => {
    const recovered = {
      tool: 'aws' as const,
      match: 'get-health-check-status --health-check-id hc-production',
      responses: [{ stdout: { HealthCheckObservations: [{ StatusReport: { Status: 'Failure: Connection timed out' } }] } }, { stdout: { HealthCheckObservations: [{ StatusReport: { Status: 'Success: HTTP Status Code 200, OK' } }] } }],
    };
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: '127.0.0.1:9', extra: [recovered] }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'FAILED at step recheck-primary: Route 53 sees production as healthy (1/1 checkers succeed) again: it recovered during the promotion and may be taking writes; refusing to promote dr\'s database (nothing in it changed).',
    );
    expect(run.stdout).toContain(`not started: ${after('recheck-primary')}`);
    // No fence, no patch of dr's database, no DNS change.
    expect(run.calls.filter((c) => / (update-health-check|change-resource-record-sets) /.test(c) || c.includes('patch clusters'))).toEqual([]);
  });

  it('--force promotes although production answers its check again at the re-check', async () => {
    const web = await ingress();
    const run = await runWithFakes(['promote', '--standby', 'dr', '--force', ...FAST], scenario({ ingress: web.endpoint, primaryHealthy: true }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--force: production answers its check again; promoting anyway, it is fenced before dr opens');
    expect(run.calls.indexOf(FENCE)).toBeGreaterThan(run.calls.lastIndexOf(IN_RECOVERY));
  });

  it('waits for CNPG to report the promotion and the instance to leave recovery, however long Ready stayed true', async () => {
    const web = await ingress();
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: web.endpoint, settlePolls: 5 }));
    expect(run.code).toBe(0);
    const patched = run.calls.findIndex((c) => c.includes('"replica":{"primary":"dr"}'));
    const rollout = run.calls.findIndex((c) => c.includes('get deployment orders-api'));
    // Five polls in "Promoting to primary cluster", a sixth healthy but still in recovery, a seventh writable.
    expect(run.calls.slice(patched + 1, rollout).filter((c) => c === CLUSTER)).toHaveLength(7);
    expect(run.calls.slice(patched + 1, rollout).filter((c) => c === IN_RECOVERY)).toHaveLength(2);
    // The old wait (kubectl wait --for=condition=Ready) is gone: it returned at once on a cluster Ready as a replica.
    expect(run.calls.some((c) => c.includes(' wait clusters'))).toBe(false);
  });

  it('stops at promote-database when CNPG never reports the promotion, before the fence and DNS', async () => {
    const run = await runWithFakes(['promote', '--standby', 'dr', '--poll-seconds', '0.2', '--db-timeout', '1', '--probe-attempts', '1'], scenario({ ingress: '127.0.0.1:9', settlePolls: 10_000 }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED at step promote-database: timed out after 1 s waiting for data/orders on dr to be promoted (writable); last seen: phase "Promoting to primary cluster"');
    expect(run.stdout).toContain(`not started: ${after('promote-database')}`);
    expect(run.calls.filter((c) => / (update-health-check|change-resource-record-sets) /.test(c))).toEqual([]);
  });

  it('restores a standby that runs an ordinary cluster: every step in order with exactly these calls', async () => {
    const web = await ingress();
    const run = await runWithFakes(['promote', '--standby', 'dr', '--replace-database', ...FAST], scenario({ ingress: web.endpoint }), INITDB_STANDBY);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const manifest = join(run.outDir, 'dr-orders-recovery.yaml');
    expect(run.calls).toEqual([
      ...preflight,
      `kubectl ${ctx} get --raw=/readyz`,
      ...RESTORE_FRESHNESS,
      MARK,
      ...SCALE,
      PRIMARY_STATUS,
      `kubectl ${ctx} get clusters.postgresql.cnpg.io orders -n data --ignore-not-found -o name`,
      `kubectl ${ctx} get kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --ignore-not-found -o name`,
      `kubectl ${ctx} patch kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --type merge -p {"spec":{"suspend":true}} --field-manager=platform-failover`,
      `kubectl ${ctx} delete clusters.postgresql.cnpg.io orders -n data --wait=true --timeout=1800s`,
      `kubectl ${ctx} apply -f ${manifest}`,
      `kubectl ${ctx} wait clusters.postgresql.cnpg.io/orders -n data --for=condition=Ready --timeout=1800s`,
      ...VERIFY,
      FENCE,
      ...OPEN,
      ...DNS_REPORT,
      ...BASE_BACKUP(run.outDir),
      ...NODES_READY,
    ]);
    // The probe, the order written and the order read went to the test's 127.0.0.1 server with the public host name.
    expect(web.hosts).toEqual(['app.hakube.example.com', 'app.hakube.example.com', 'app.hakube.example.com']);
    expect(web.orders).toEqual(['failover-check-r1-promote']);
    // The restore reads the production backups' replica in Tokyo and archives under a new server name.
    const recovery = readFileSync(manifest, 'utf8');
    expect(recovery).toContain('destinationPath: s3://hakube-production-app-backups-ap-northeast-1/postgres/orders');
    expect(recovery).toContain('destinationPath: s3://hakube-dr-app-backups-ap-northeast-1/postgres/orders');
    expect(recovery).toContain('serverName: orders-r1');
    // No keys: the restored instances read the replica with the standby's own workload role.
    const [, restored] = parseAllDocuments(recovery).map((d) => d.toJSON());
    expect(restored.spec.externalClusters[0].barmanObjectStore.s3Credentials).toEqual({ inheritFromIAMRole: true });
    const roleArn = restored.spec.env.find((e: { name: string }) => e.name === 'AWS_ROLE_ARN').value;
    expect(roleArn.endsWith(`:role/${defaultPlatform().namesOf('dr').serviceAccountIssuer.workloadRole('postgres-backups')}`)).toBe(true);
    const journal = JSON.parse(readFileSync(join(run.outDir, 'journal.json'), 'utf8'));
    expect(journal.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual(STEPS.map((s) => `${s === 'promote-database' ? 'restore-database' : s}:done`));
    expect(journal.steps.every((s: { seconds: number }) => typeof s.seconds === 'number')).toBe(true);
    const summary = readFileSync(join(run.outDir, 'summary.md'), 'utf8');
    expect(summary).toContain('| 4 | scale-workers | ✅ done |');
    expect(summary).toContain('production pool burst (0/AZ minimum) has no counterpart in dr');
  });

  it('refuses while Route 53 still sees the primary healthy, changing nothing', async () => {
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: '127.0.0.1:9', primaryHealthy: true }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'FAILED at step preflight: Route 53 sees production as healthy (8/8 checkers succeed); refusing to promote dr (pass --force if its app or database is broken although the check passes, --drill for a game day)',
    );
    expect(run.stdout).toContain(`not started: ${after('preflight')}`);
    expect(run.calls).toEqual(preflight);
  });

  it('--drill never fences the primary nor opens the standby: DNS keeps answering the primary', async () => {
    const web = await ingress();
    const run = await runWithFakes(['promote', '--standby', 'dr', '--drill', '--replace-database', ...FAST], scenario({ ingress: web.endpoint, primaryHealthy: true, dnsAnswer: ['203.0.113.20'] }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--drill: health check hc-production left on /ready, DNS keeps answering production');
    expect(run.stdout).toContain('--drill: DNS left alone; users stay on the primary');
    expect(run.calls.filter((c) => / (update-health-check|change-resource-record-sets) /.test(c))).toEqual([]);
    expect(web.orders).toEqual(['failover-check-r1-promote']);
    // Git still says production serves; no deploy ref moves.
    expect(readFileSync(run.stateFile, 'utf8')).toBe('{}\n');
    expect(run.stdout).toContain('--drill: production keeps serving; nothing recorded');
    // The marker says drill, never "serves": the scheduled fence leaves the serving production alone.
    expect(run.calls.filter((c) => c.includes('/failover/promoted'))).toEqual([markerCall('run r1: drill: dr promoted in a drill, production serves')]);
  });

  it('--force fails over a primary whose check passes but whose app is broken: fenced and DNS moved', async () => {
    const web = await ingress();
    const run = await runWithFakes(['promote', '--standby', 'dr', '--force', '--replace-database', ...FAST], scenario({ ingress: web.endpoint, primaryHealthy: true }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--force: failing over although Route 53 sees production healthy; it will be fenced and DNS moved');
    expect(run.calls).toContain(FENCE);
    expect(run.calls).toEqual(expect.arrayContaining(OPEN));
  });

  it('restore path: refuses a stale archive before changing anything, naming the newest WAL and the override', async () => {
    // The replica's `orders` folder stopped growing 2 hours ago (e.g. production archives under a newer server name).
    const run = await runWithFakes(['promote', '--standby', 'dr', '--replace-database', ...FAST], scenario({ ingress: '127.0.0.1:9', replica: archive('orders', 7200) }), INITDB_STANDBY);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      new RegExp(
        `FAILED at step archive-freshness: newest WAL s3://${REPLICA_BUCKET}/postgres/orders/orders/wals/0000000100000000/000000010000000000000014.gz written (\\S+) \\(72\\d\\d s ago\\) is older than 300 s \\(production's regional RPO objective\\): .*a restore would drop every write after \\1\\. .*re-run with --accept-data-loss-after \\1`,
      ),
    );
    expect(run.calls.filter((c) => MUTATING.test(c) || / (put-parameter|update-health-check) /.test(c))).toEqual([]);
    expect(run.stdout).toContain(`not started: ${after('archive-freshness').replace('promote-database', 'restore-database')}`);
  });

  it('restore path: refuses when Git names a server the replica bucket has no WAL for', async () => {
    const run = await runWithFakes(['promote', '--standby', 'dr', '--replace-database', ...FAST], scenario({ ingress: '127.0.0.1:9', replica: archive('orders-20260101t000000', 20) }), INITDB_STANDBY);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`FAILED at step archive-freshness: s3://${REPLICA_BUCKET}/postgres/orders/orders/wals/ holds no WAL: Git's server name for data/orders does not match what production archives under`);
  });

  it('refuses when the folder the replica follows holds neither its replayed segment nor any after it', async () => {
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: '127.0.0.1:9', replica: walSegments('orders', { first: 0x01, count: 3, newestAgeSeconds: 30 }) }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `FAILED at step archive-freshness: s3://${REPLICA_BUCKET}/postgres/orders/orders/wals/ holds neither the segment orders-1 replayed last (000000010000000000000014) nor any after it: the folder the tool reads is not the one the replica bootstrapped from; nothing to judge freshness by`,
    );
  });

  it('refuses a writable standby this run did not promote (a drill left it promoted), changing nothing', async () => {
    for (const marker of [null, 'run r0: drill: dr promoted in a drill, production serves']) {
      const web = await ingress();
      const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: web.endpoint, standbyCluster: promotedStandby(), marker }));
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        `FAILED at step archive-freshness: orders-1 is not in recovery: dr's data/orders is writable, but /hakube/dr/failover/promoted ${marker === null ? 'does not exist' : `= ${JSON.stringify(marker)}`}, so run r1 did not promote it.`,
      );
      expect(run.stdout).toContain("Re-arm it as a replica of production before promoting: kubectl --context dr -n data delete clusters.postgresql.cnpg.io orders, then resume Flux");
      expect(run.calls.filter((c) => MUTATING.test(c) || c.includes('put-parameter'))).toEqual([]);
    }
  });

  it("accepts a writable standby only as this run's own promotion (a re-run); names the run an interrupted promotion belongs to", async () => {
    const web = await ingress();
    const rerun = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: web.endpoint, standbyCluster: promotedStandby(), marker: 'run r1: dr promoting for production (production may still serve)' }));
    expect(rerun.stdout).toContain('orders-1 is not in recovery: /hakube/dr/failover/promoted = "run r1: dr promoting for production (production may still serve)", this run\'s own promotion (a re-run); nothing to judge');
    expect(rerun.stdout).not.toContain('FAILED at step archive-freshness');
    const other = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: web.endpoint, standbyCluster: promotedStandby(), marker: 'run r0: dr promoting for production (production may still serve)' }));
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('If run r0 is the interrupted promotion, re-run it: --run-id r0.');
  });

  it('an idle primary is fresh: the replica replayed the newest archived segment, hours old; one bounded listing of a 5000-segment history', async () => {
    const web = await ingress();
    const history = walSegments('orders', { count: 5000, newestAgeSeconds: 7200, spacingSeconds: 60 });
    const newest = segmentName(1, 0x10 + 4999);
    // A base backup's label beside the newest segment (sorts before it) is not a segment.
    const label = objectAged(`postgres/orders/orders/wals/${newest.slice(0, 16)}/${newest}.00000028.backup.gz`, 7200);
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: web.endpoint, replica: [...history, label], replayLsn: lsnIn(newest) }));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`orders-1 replayed up to ${lsnIn(newest).replace('/', '\\/')} \\(segment ${newest}\\) written \\S+, the newest segment in s3://${REPLICA_BUCKET}/postgres/orders/orders/wals/: the replica has everything archived`));
    // StartAfter the replayed segment: 2 keys (its label and itself) in one page, not 5 pages of history.
    const walListing = run.s3Pages.find((l) => l.prefix === 'postgres/orders/orders/wals/')!;
    expect(walListing).toEqual({ bucket: REPLICA_BUCKET, prefix: 'postgres/orders/orders/wals/', startAfter: `postgres/orders/orders/wals/${newest.slice(0, 16)}/${newest}`, pages: [2] });
    expect(run.s3Pages.every((l) => l.pages.length === 1)).toBe(true);
  });

  it('refuses when production archives under another server name the replica does not follow; promotes only when told the loss point', async () => {
    const web = await ingress();
    // After a fail-back production archives under orders-20260101t000000 on timeline 2; Git (and so the replica) still name orders.
    const replica = [
      ...walSegments('orders', { count: 5, newestAgeSeconds: 7200 }),
      objectAged('postgres/orders/orders-20260101t000000/wals/00000002.history.gz', 3600),
      ...walSegments('orders-20260101t000000', { timeline: 2, first: 0x20, count: 3, newestAgeSeconds: 20 }),
    ];
    const rules = scenario({ ingress: web.endpoint, replica });
    const refused = await runWithFakes(['promote', '--standby', 'dr', ...FAST], rules);
    expect(refused.code).toBe(1);
    const replayedAt = new Date(Date.parse(replica[4]!.LastModified)).toISOString().replace('.000Z', 'Z');
    expect(refused.stdout).toContain(
      `FAILED at step archive-freshness: orders-1 replayed up to 0/14000060 (segment 000000010000000000000014), the newest segment under server orders, but s3://${REPLICA_BUCKET}/postgres/orders/orders-20260101t000000/wals/0000000200000000/000000020000000000000022.gz`,
    );
    expect(refused.stdout).toContain(`is newer: production archives under another server name now, which the replica does not follow. Check Git's serverName and the bucket replication; to promote anyway, losing every write after ${replayedAt}, re-run with --accept-data-loss-after ${replayedAt}`);
    expect(refused.calls.filter((c) => MUTATING.test(c) || / (put-parameter|update-health-check) /.test(c))).toEqual([]);
    const accepted = await runWithFakes(['promote', '--standby', 'dr', '--accept-data-loss-after', replayedAt, ...FAST], rules);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain(`promoting anyway (--accept-data-loss-after ${replayedAt}): every write to production after ${replayedAt} is lost`);
  });

  it('a lagging replica is fine while the archive grows, refused once the archive stopped growing behind it', async () => {
    const web = await ingress();
    const lagging = lsnIn('000000010000000000000011');
    const fresh = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: web.endpoint, replica: archive('orders', 30), replayLsn: lagging }));
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toMatch(/orders-1 replayed up to 0\/11000060 \(segment 000000010000000000000011\); 3 newer segment\(s\) archived, the newest \S+000000010000000000000014\.gz written \S+ \(\d+ s ago\): within 300 s \(production's regional RPO objective\), the replica replays them before it promotes/);
    // 400 s: within the RTC-era 960 s, beyond production's 300 s objective (the archive is in dr's region at once, nothing to wait for).
    const stale = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: web.endpoint, replica: archive('orders', 400), replayLsn: lagging }));
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(/FAILED at step archive-freshness: .*\(4\d\d s ago\), older than 300 s \(production's regional RPO objective\) while the replica has not caught up: the archive stopped growing\. .*--accept-data-loss-after \S+Z$/m);
  });

  it("an archiver behind by 3 segments while production dies: the gate passes (the archive is still growing) and the promotion loses exactly the 3 unarchived segments, the RPO the runbook states beyond archive_timeout", async () => {
    const web = await ingress();
    // production wrote into segment 0x17; its archiver has finished 0x14 only: 0x15, 0x16 and 0x17 wait in pg_wal (.ready).
    const wrote = '0/17000060';
    const run = await runWithFakes(
      ['promote', '--standby', 'dr', ...FAST],
      scenario({ ingress: web.endpoint, primaryCluster: { writeLsn: wrote, archiverBehindSegments: 3 }, replica: archive('orders', 30), replayLsn: lsnIn('000000010000000000000013') }),
    );
    expect(run.code).toBe(0);
    // What the tool can see: the folder, fresh, ending with segment 0x14. pg_wal on the dead primary it cannot.
    expect(run.stdout).toMatch(/orders-1 replayed up to \S+ \(segment 000000010000000000000013\); 1 newer segment\(s\) archived, the newest \S+000000010000000000000014\.gz written \S+ \(\d+ s ago\): within 300 s/);
    // What reality loses: everything after the archived end (0/15000000), i.e. segments 0x15, 0x16 and 0x17's written part.
    expect(run.cnpg.dr!.promotedAt).toBe('0/15000000');
    expect(run.cnpg.dr!.lostBytes).toBe(0x17000060 - 0x15000000);
    expect(run.cnpg.dr!.lostBytes).toBe(2 * 16 * 1024 * 1024 + 0x60);
  });

  // PostgreSQL replays an archive only as far as it is continuous: the first segment restore_command cannot fetch ends replay (and a promotion promotes there).
  const walObject = (timeline: number, segno: number, ageSeconds: number) => {
    const name = segmentName(timeline, segno);
    return objectAged(`postgres/orders/orders/wals/${name.slice(0, 16)}/${name}.gz`, ageSeconds);
  };
  const secondOf = (o: { LastModified: string }) => new Date(Date.parse(o.LastModified)).toISOString().replace('.000Z', 'Z');

  it('refuses a gap left by the parallel archiver (wal.maxParallel): 0x15…0x1A fresh in S3 but 0x14 never uploaded; promotes at the gap only when told, losing everything after it', async () => {
    const web = await ingress();
    // Replayed 0x13; the region died while 0x14…0x1A were uploading in parallel: 0x14's upload never finished.
    const before = [0x10, 0x11, 0x12, 0x13].map((n, i) => walObject(1, n, 400 - 60 * i));
    const replica = [...before, ...[0x15, 0x16, 0x17, 0x18, 0x19, 0x1a].map((n) => walObject(1, n, 30))];
    const rules = scenario({ ingress: web.endpoint, replica, replayLsn: lsnIn(segmentName(1, 0x13)), primaryCluster: { writeLsn: '0/1A000060' } });
    const refused = await runWithFakes(['promote', '--standby', 'dr', ...FAST], rules);
    expect(refused.code).toBe(1);
    const lastContiguous = secondOf(before[3]!);
    expect(refused.stdout).toContain(
      `FAILED at step archive-freshness: orders-1 replayed up to 0/13000060 (segment 000000010000000000000013); s3://${REPLICA_BUCKET}/postgres/orders/orders/wals/ lacks 000000010000000000000014, the next file it needs, while 6 later segment(s) are archived`,
    );
    expect(refused.stdout).toContain(`the replica stops after 000000010000000000000013 (written ${lastContiguous}) and would promote there. If production's pg_wal or archive can still be read, upload 000000010000000000000014 to the folder and re-run; to promote anyway, losing every write after ${lastContiguous}, re-run with --accept-data-loss-after ${lastContiguous}`);
    expect(refused.calls.filter((c) => MUTATING.test(c) || / (put-parameter|update-health-check) /.test(c))).toEqual([]);
    const accepted = await runWithFakes(['promote', '--standby', 'dr', '--accept-data-loss-after', lastContiguous, ...FAST], rules);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain(`promoting anyway (--accept-data-loss-after ${lastContiguous}): every write to production after ${lastContiguous} is lost`);
    // Reality: replay stopped at the end of 0x13, the fresh 0x15…0x1A never replayed.
    expect(accepted.cnpg.dr!.promotedAt).toBe('0/14000000');
    expect(accepted.cnpg.dr!.lostBytes).toBe(0x1a000060 - 0x14000000);
  });

  it('an in-region failover during an archiver backlog: the new timeline is fresh but the old one stops short of its fork point, so the gate refuses; with the old timeline whole, it refuses too: a replica still behind on timeline 1 would promote before switching to timeline 2', async () => {
    const web = await ingress();
    // production's old primary died with 0x14 and 0x15 (.ready); the new one streamed them (.done, never archived) and forked at 0/160000A0.
    const history = { ...objectAged('postgres/orders/orders/wals/00000002.history.gz', 200), Body: '1\t0/160000A0\tno recovery target specified\n' };
    const before = [0x10, 0x11, 0x12, 0x13].map((n, i) => walObject(1, n, 400 - 60 * i));
    const timeline2 = [0x16, 0x17, 0x18, 0x19].map((n, i) => walObject(2, n, 200 - 50 * i));
    const replayLsn = lsnIn(segmentName(1, 0x13));
    const gap = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: web.endpoint, replica: [...before, history, ...timeline2], replayLsn }));
    // What reality does with this archive: replay stops at the end of 0x13 (timeline 1), the fresh timeline 2 never reached.
    const stuck = await runWithFakes(['promote', '--standby', 'dr', '--accept-data-loss-after', secondOf(before[3]!), ...FAST], scenario({ ingress: web.endpoint, replica: [...before, history, ...timeline2], replayLsn, standbyModel: { replayPerPoll: 0x10000000 } }));
    expect(stuck.code).toBe(0);
    expect(stuck.cnpg.dr!.promotedAt).toBe('0/14000000');
    expect(gap.code).toBe(1);
    expect(gap.stdout).toContain(`lacks 000000010000000000000014, the next file it needs on timeline 1; timeline 2 (its history file is archived) is not followed: a standby switches timelines only at startup or after a restore failed, and a promotion ends recovery first, while 4 later segment(s) are archived (newest s3://${REPLICA_BUCKET}/postgres/orders/orders/wals/0000000200000000/000000020000000000000019.gz`);
    expect(gap.stdout).toContain(`the replica stops after 000000010000000000000013 (written ${secondOf(before[3]!)})`);
    // The failover role lists WAL folders and reads no object (no WAL, no history contents).
    expect(gap.calls.filter((c) => c.startsWith('aws s3api get-object'))).toEqual([]);
    // The same archive with 0x14 and 0x15 on timeline 1: a standby looks for a newer timeline only at startup or after a
    // restore failed, and a promotion ends recovery at the first failed restore, before that look (PostgreSQL's
    // WaitForWALToBecomeAvailable). A replica still on timeline 1 replays 0x14, 0x15 and promotes without timeline 2's writes.
    const whole = [...before, walObject(1, 0x14, 250), walObject(1, 0x15, 240), history, ...timeline2];
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: web.endpoint, replica: whole, replayLsn, standbyModel: { replayPerPoll: 0x10000000 } }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('lacks 000000010000000000000016, the next file it needs on timeline 1; timeline 2 (its history file is archived) is not followed');
    expect(run.stdout).toContain('or wait until the replica replays onto timeline 2');
    expect(run.cnpg.dr?.promotedAt).toBeUndefined();
  });

  it('stops at verify-app when the app answers but cannot write an order (database not writable)', async () => {
    const started = await startIngress(200, 503);
    servers.push(started.server);
    const run = await runWithFakes(['promote', '--standby', 'dr', '--replace-database', ...FAST], scenario({ ingress: started.endpoint }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`FAILED at step verify-app: POST http://${started.endpoint}/orders (Host: app.hakube.example.com) did not create order failover-check-r1-promote: HTTP 503`);
    // The standby stays closed: no user was sent to it.
    expect(run.calls.filter((c) => c.includes('hc-dr --resource-path') || c.includes('change-resource-record-sets'))).toEqual([]);
  });

  it('promotes on the standing workers while the new ones never join: users moved, the run succeeds, the journal warns', async () => {
    const web = await ingress();
    // The ASGs take the sizes but no instance ever becomes InService; the nodes stay at one per zone.
    const run = await runWithFakes(
      ['promote', '--standby', 'dr', '--poll-seconds', '0.2', '--probe-attempts', '3', '--nodes-timeout', '1'],
      scenario({ ingress: web.endpoint, asgResponses: [asgs(1, 1, 1), asgs(2, 2, 1)], nodeResponses: [nodes(DR_ZONES, 1)] }),
    );
    // Success: the workflow's deploy-ref job (needs: failover) still moves deploy/dr.
    expect(run.code).toBe(0);
    const journal = JSON.parse(readFileSync(join(run.outDir, 'journal.json'), 'utf8'));
    expect(journal.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual(STEPS.map((s) => `${s}:done`));
    expect(journal.steps.at(-1).notes.join('\n')).toMatch(
      /^WARNING: full capacity not reached: timed out after 1 s waiting for Ready workers in dr; last seen: ap-northeast-1a 1\/2, ap-northeast-1c 1\/2, ap-northeast-1d 1\/2; dr serves on its standing workers/,
    );
    // Everything users need ran on the standing capacity before it.
    expect(web.orders).toEqual(['failover-check-r1-promote']);
    // The scale-up was issued before the database was promoted, and not waited for.
    const updates = DR_ASGS.map((g) => `aws autoscaling update-auto-scaling-group --region ap-northeast-1 --auto-scaling-group-name ${g} --min-size 2 --desired-capacity 2`);
    const head = [...preflight, `kubectl ${ctx} get --raw=/readyz`, ...FRESHNESS, MARK, describeAsgs, ...updates, describeAsgs, PRIMARY_STATUS];
    expect(run.calls.slice(0, head.length)).toEqual(head);
    expect(run.calls.indexOf(updates[2]!)).toBeLessThan(run.calls.findIndex((c) => c.includes('"replica":{"primary":"dr"}')));
    // Order, not a poll count: how many polls fit in 1 s depends on the machine's load.
    const polls = run.calls.slice(run.calls.findIndex((c) => c.includes('get nodes')));
    expect(polls.length).toBeGreaterThanOrEqual(1);
    expect(new Set(polls)).toEqual(new Set([`kubectl ${ctx} get nodes -o json`]));
  });

  it('reads the failover records from the configured zone id, refusing a private zone', async () => {
    const privateZone = { tool: 'aws' as const, match: '^route53 get-hosted-zone --id Z0HAKUBE ', responses: [{ stdout: { HostedZone: { Id: '/hostedzone/Z0HAKUBE', Name: 'hakube.example.com.', Config: { PrivateZone: true } } } }] };
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: '127.0.0.1:9', extra: [privateZone] }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED at step preflight: settings.dns.hostedZoneId: got Z0HAKUBE, a private zone; expected the public zone users resolve app.hakube.example.com in');
    expect(run.calls).toEqual(preflight.slice(0, 2));
  });

  it('names the configured zone id when it is not the configured zone name', async () => {
    const other = { tool: 'aws' as const, match: '^route53 get-hosted-zone --id Z0HAKUBE ', responses: [{ stdout: { HostedZone: { Id: '/hostedzone/Z0HAKUBE', Name: 'other.example.com.', Config: { PrivateZone: false } } } }] };
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: '127.0.0.1:9', extra: [other] }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED at step preflight: settings.dns.hostedZoneId: got Z0HAKUBE, a zone named "other.example.com."; expected the zone of settings.dns.hostedZoneName hakube.example.com');
  });

  it('stops at restore-database when the restored cluster never becomes Ready', async () => {
    const run = await runWithFakes(
      ['promote', '--standby', 'dr', '--replace-database', ...FAST],
      scenario({ ingress: '127.0.0.1:9', databaseWait: { stderr: 'error: timed out waiting for the condition on clusters/orders\n', code: 1 } }),
      INITDB_STANDBY,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED at step restore-database: data/orders on dr did not become Ready:');
    expect(run.stdout).toContain('timed out waiting for the condition on clusters/orders');
    expect(run.stdout).toContain('completed steps: preflight, archive-freshness, mark-promoted, scale-workers, recheck-primary\n');
    expect(run.stdout).toMatch(/half-done in restore-database: kubectl --context dr patch .* ; kubectl --context dr delete clusters.postgresql.cnpg.io orders .* ; kubectl --context dr apply -f /);
    expect(run.stdout).toContain(`not started: ${after('promote-database')}`);
  });

  it('will not replace the standby database without --replace-database', async () => {
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: '127.0.0.1:9' }), INITDB_STANDBY);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'FAILED at step restore-database: dr already runs PostgreSQL cluster data/orders; the restore replaces it. Check it holds nothing you need, then re-run with --replace-database',
    );
    expect(run.calls.filter((c) => / (patch|delete|apply) /.test(c))).toEqual([]);
  });

  it('stops at verify-app when the ingress does not answer, after a bounded number of probes', async () => {
    const web = await ingress(503);
    const run = await runWithFakes(['promote', '--standby', 'dr', '--replace-database', ...FAST], scenario({ ingress: web.endpoint }), INITDB_STANDBY);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`FAILED at step verify-app: http://${web.endpoint}/ (Host: app.hakube.example.com) did not answer 2xx/3xx in 3 attempts; last: HTTP 503`);
    expect(web.hosts).toHaveLength(3);
  });

  it('--dry-run issues no mutating call and says what it would run', async () => {
    const web = await ingress();
    const run = await runWithFakes(['promote', '--standby', 'dr', '--dry-run', '--replace-database', ...FAST], scenario({ ingress: web.endpoint }), INITDB_STANDBY);
    expect(run.code).toBe(0);
    expect(run.calls.filter((c) => MUTATING.test(c) || / (put-parameter|update-health-check|change-resource-record-sets) /.test(c))).toEqual([]);
    expect(run.stdout).toContain(`would run: ${FENCE}`);
    expect(run.stdout).toContain(`would run: ${MARK.replace('run r1: dr promoting for production (production may still serve)', "'run r1: dr promoting for production (production may still serve)'")}`);
    expect(run.calls.length).toBeGreaterThan(8);
    expect(run.stdout).toContain('would run: aws autoscaling update-auto-scaling-group --region ap-northeast-1 --auto-scaling-group-name dr-general-d --min-size 2 --desired-capacity 2');
    expect(run.stdout).toContain('would run: kubectl --context dr apply -f ');
    expect(readFileSync(join(run.outDir, 'summary.md'), 'utf8')).toContain('(dry run: no mutating call was made)');
  });
});

describe('usage', () => {
  it('exits 2 naming what is wrong', async () => {
    const run = await runWithFakes(['promote'], []);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('promote needs --standby <cluster>');
    expect(run.calls).toEqual([]);
  });

  it('rejects a standby that no cluster fails over to', async () => {
    const run = await runWithFakes(['promote', '--standby', 'staging'], []);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: --standby staging: no cluster names it in failover.standbyCluster; expected one of dr\n');
  });
});
