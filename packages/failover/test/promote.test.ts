import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { defaultPlatform } from '@platform/platform-config';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { clustersWithInitdbStandby, runWithFakes, startIngress } from './harness';
import { archive, asgs, DR_ASGS, DR_NLB, primaryUpsertCall, REPLICA_BUCKET, scenario } from './scenario';

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
const SERVES = markerCall('run r1: dr serves for production');
const FENCE = 'aws route53 update-health-check --health-check-id hc-production --resource-path /region-failover-fenced --output json';
const OPEN = [
  'aws route53 update-health-check --health-check-id hc-dr --resource-path /ready --output json',
  'aws elbv2 describe-load-balancers --region ap-northeast-1 --names dr-ingress --query LoadBalancers[0].[DNSName,CanonicalHostedZoneId] --output json',
  primaryUpsertCall(DR_NLB, false),
  SERVES,
];
const FRESHNESS = `aws s3api list-objects-v2 --region ap-northeast-1 --bucket ${REPLICA_BUCKET} --prefix postgres/orders/orders/wals/ --output json`;
const preflight = [
  'aws sts get-caller-identity --region ap-northeast-1 --output json',
  'aws route53 get-hosted-zone --id Z0HAKUBE --output json',
  'aws route53 list-resource-record-sets --hosted-zone-id Z0HAKUBE --start-record-name app.hakube.example.com --start-record-type A --max-items 10 --output json',
  'aws route53 get-health-check-status --health-check-id hc-production --output json',
];

const INITDB_STANDBY = clustersWithInitdbStandby();

describe('promote --standby dr', () => {
  it('promotes Git\'s replica cluster in place: no delete, no restore, a new archive server name', async () => {
    const web = await ingress();
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: web.endpoint }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const promote = [
      `kubectl ${ctx} get clusters.postgresql.cnpg.io orders -n data -o json`,
      `kubectl ${ctx} get kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --ignore-not-found -o name`,
      `kubectl ${ctx} patch kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --type merge -p {"spec":{"suspend":true}} --field-manager=platform-failover`,
      `kubectl ${ctx} patch clusters.postgresql.cnpg.io orders -n data --type merge -p {"spec":{"replica":{"enabled":false},"backup":{"barmanObjectStore":{"serverName":"orders-r1"}}}} --field-manager=platform-failover`,
      `kubectl ${ctx} wait clusters.postgresql.cnpg.io/orders -n data --for=condition=Ready --timeout=1800s`,
    ];
    const start = run.calls.indexOf(promote[0]!);
    expect(run.calls.slice(start, start + promote.length)).toEqual(promote);
    expect(run.calls.filter((c) => / (delete|apply) /.test(c))).toEqual([]);
    const journal = JSON.parse(readFileSync(join(run.outDir, 'journal.json'), 'utf8'));
    expect(journal.steps.map((s: { step: string }) => s.step)).toContain('promote-database');
    // The promoted database proved writable through the app before DNS moved.
    expect(web.orders).toEqual(['failover-check-r1-promote']);
    expect(run.calls.indexOf(OPEN[0]!)).toBeGreaterThan(run.calls.findIndex((c) => c.includes('rollout status deployment/web')));
  });

  it('stops at promote-database when the promoted cluster never becomes Ready, before DNS moves', async () => {
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: '127.0.0.1:9', databaseWait: { stderr: 'error: timed out waiting for the condition on clusters/orders\n', code: 1 } }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED at step promote-database: data/orders on dr did not become Ready after promotion:');
    expect(run.stdout).toContain('not started: verify-app, open-standby, dns-report');
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
      FRESHNESS,
      MARK,
      FENCE,
      describeAsgs,
      ...DR_ASGS.map((g) => `aws autoscaling update-auto-scaling-group --region ap-northeast-1 --auto-scaling-group-name ${g} --min-size 2 --desired-capacity 2`),
      describeAsgs,
      describeAsgs,
      `kubectl ${ctx} get nodes -o json`,
      `kubectl ${ctx} get nodes -o json`,
      `kubectl ${ctx} get clusters.postgresql.cnpg.io orders -n data --ignore-not-found -o name`,
      `kubectl ${ctx} get kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --ignore-not-found -o name`,
      `kubectl ${ctx} patch kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --type merge -p {"spec":{"suspend":true}} --field-manager=platform-failover`,
      `kubectl ${ctx} delete clusters.postgresql.cnpg.io orders -n data --wait=true --timeout=1800s`,
      `kubectl ${ctx} apply -f ${manifest}`,
      `kubectl ${ctx} wait clusters.postgresql.cnpg.io/orders -n data --for=condition=Ready --timeout=1800s`,
      `kubectl ${ctx} get deployment orders-api -n data -o json`,
      `kubectl ${ctx} scale deployment orders-api -n data --replicas=3`,
      `kubectl ${ctx} rollout status deployment/orders-api -n data --timeout=600s`,
      `kubectl ${ctx} get deployment web -n web -o json`,
      `kubectl ${ctx} scale deployment web -n web --replicas=3`,
      `kubectl ${ctx} rollout status deployment/web -n web --timeout=600s`,
      'aws elbv2 describe-load-balancers --region ap-northeast-1 --names dr-ingress --query LoadBalancers[0].DNSName --output text',
      ...OPEN,
      'aws route53 get-health-check-status --health-check-id hc-production --output json',
      'aws route53 get-health-check-status --health-check-id hc-dr --output json',
      'aws ec2 describe-network-interfaces --region ap-northeast-1 --filters Name=description,Values=ELB net/dr-ingress/* --query NetworkInterfaces[].Association.PublicIp --output json',
      'aws route53 test-dns-answer --hosted-zone-id Z0HAKUBE --record-name app.hakube.example.com --record-type A --output json',
    ]);
    // The probe, the order written and the order read went to the test's 127.0.0.1 server with the public host name.
    expect(web.hosts).toEqual(['app.hakube.example.com', 'app.hakube.example.com', 'app.hakube.example.com']);
    expect(web.orders).toEqual(['failover-check-r1-promote']);
    // The restore reads the production backups' replica in Tokyo and archives under a new server name.
    const recovery = readFileSync(manifest, 'utf8');
    expect(recovery).toContain('destinationPath: s3://hakube-production-app-backups-ap-northeast-1/postgres/orders');
    expect(recovery).toContain('destinationPath: s3://hakube-dr-app-backups-ap-northeast-1/postgres/orders');
    expect(recovery).toContain('serverName: orders-r1');
    // The restored database reads the Secret the platform names (the standby's own key, same name in every cluster).
    const [, restored] = parseAllDocuments(recovery).map((d) => d.toJSON());
    const { secretName, keys } = defaultPlatform().namesOf(defaultPlatform().cluster('dr')).appBackupCredentials;
    expect(restored.spec.externalClusters[0].barmanObjectStore.s3Credentials).toEqual({
      accessKeyId: { name: secretName, key: keys.accessKeyId },
      secretAccessKey: { name: secretName, key: keys.secretAccessKey },
    });
    const journal = JSON.parse(readFileSync(join(run.outDir, 'journal.json'), 'utf8'));
    expect(journal.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
      'preflight:done',
      'archive-freshness:done',
      'mark-promoted:done',
      'fence-primary:done',
      'scale-workers:done',
      'nodes-ready:done',
      'restore-database:done',
      'verify-app:done',
      'open-standby:done',
      'dns-report:done',
    ]);
    expect(journal.steps.every((s: { seconds: number }) => typeof s.seconds === 'number')).toBe(true);
    const summary = readFileSync(join(run.outDir, 'summary.md'), 'utf8');
    expect(summary).toContain('| 5 | scale-workers | ✅ done |');
    expect(summary).toContain('production pool burst (0/AZ minimum) has no counterpart in dr');
  });

  it('refuses while Route 53 still sees the primary healthy, changing nothing', async () => {
    const run = await runWithFakes(['promote', '--standby', 'dr', ...FAST], scenario({ ingress: '127.0.0.1:9', primaryHealthy: true }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'FAILED at step preflight: Route 53 sees production as healthy (8/8 checkers succeed); refusing to promote dr (pass --force if its app or database is broken although the check passes, --drill for a game day)',
    );
    expect(run.stdout).toContain('not started: archive-freshness, mark-promoted, fence-primary, scale-workers, nodes-ready, promote-database, verify-app, open-standby, dns-report');
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

  it('refuses a stale archive before changing anything, naming the newest WAL and the override', async () => {
    // The replica's `orders` folder stopped growing 2 hours ago (e.g. production archives under a newer server name).
    const run = await runWithFakes(['promote', '--standby', 'dr', '--replace-database', ...FAST], scenario({ ingress: '127.0.0.1:9', replica: archive('orders', 7200) }));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      new RegExp(
        `FAILED at step archive-freshness: newest WAL s3://${REPLICA_BUCKET}/postgres/orders/orders/wals/0000000100000000/000000010000000000000014.gz written (\\S+) \\(72\\d\\d s ago\\) is older than 960 s \\(archive timeout 60 s \\+ replication bound 900 s\\): .*a restore would drop every write after \\1\\. .*re-run with --accept-data-loss-after \\1`,
      ),
    );
    expect(run.calls.filter((c) => MUTATING.test(c) || / (put-parameter|update-health-check) /.test(c))).toEqual([]);
    expect(run.stdout).toContain('not started: mark-promoted, fence-primary');
  });

  it('refuses when Git names a server the replica has no WAL for', async () => {
    const run = await runWithFakes(['promote', '--standby', 'dr', '--replace-database', ...FAST], scenario({ ingress: '127.0.0.1:9', replica: archive('orders-20260101t000000', 20) }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`FAILED at step archive-freshness: s3://${REPLICA_BUCKET}/postgres/orders/orders/wals/ holds no WAL: Git's server name for data/orders does not match what production archives under`);
  });

  it('promotes from a stale archive only when told the exact point after which writes are lost', async () => {
    const web = await ingress();
    const replica = archive('orders', 7200);
    const newest = new Date(Date.parse(replica[replica.length - 1]!.LastModified)).toISOString().replace('.000Z', 'Z');
    const wrong = await runWithFakes(['promote', '--standby', 'dr', '--replace-database', '--accept-data-loss-after', '2020-01-01T00:00:00Z', ...FAST], scenario({ ingress: web.endpoint, replica }));
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('(got 2020-01-01T00:00:00Z)');
    const run = await runWithFakes(['promote', '--standby', 'dr', '--replace-database', '--accept-data-loss-after', newest, ...FAST], scenario({ ingress: web.endpoint, replica }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`promoting anyway (--accept-data-loss-after ${newest}): every write to production after ${newest} is lost`);
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

  it('stops at scale-workers when the ASGs never reach capacity, listing what is half-done', async () => {
    const run = await runWithFakes(
      ['promote', '--standby', 'dr', '--replace-database', '--poll-seconds', '0.2', '--asg-timeout', '1'],
      scenario({ ingress: '127.0.0.1:9', asgResponses: [asgs(1, 1, 1), asgs(2, 2, 1)] }),
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAILED at step scale-workers: timed out after 1 s waiting for 6 InService workers; last seen: dr-general-a 1\/2, dr-general-c 1\/2, dr-general-d 1\/2; lagging: dr-general-a, dr-general-c, dr-general-d/);
    expect(run.stdout).toContain('completed steps: preflight, archive-freshness, mark-promoted, fence-primary');
    expect(run.stdout).toContain(
      'half-done in scale-workers: aws autoscaling update-auto-scaling-group --region ap-northeast-1 --auto-scaling-group-name dr-general-a --min-size 2 --desired-capacity 2 ;',
    );
    expect(run.stdout).toContain('not started: nodes-ready, promote-database, verify-app, open-standby, dns-report');
    // Order, not a poll count: how many polls fit in 1 s depends on the machine's load.
    const updates = DR_ASGS.map((g) => `aws autoscaling update-auto-scaling-group --region ap-northeast-1 --auto-scaling-group-name ${g} --min-size 2 --desired-capacity 2`);
    const head = [...preflight, `kubectl ${ctx} get --raw=/readyz`, FRESHNESS, MARK, FENCE, describeAsgs, ...updates];
    expect(run.calls.slice(0, head.length)).toEqual(head);
    const polls = run.calls.slice(head.length);
    expect(polls.length).toBeGreaterThanOrEqual(1);
    expect(new Set(polls)).toEqual(new Set([describeAsgs]));
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
    expect(run.stdout).toContain('completed steps: preflight, archive-freshness, mark-promoted, fence-primary, scale-workers, nodes-ready');
    expect(run.stdout).toMatch(/half-done in restore-database: kubectl --context dr patch .* ; kubectl --context dr delete clusters.postgresql.cnpg.io orders .* ; kubectl --context dr apply -f /);
    expect(run.stdout).toContain('not started: verify-app, open-standby, dns-report');
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
