import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { APP_HEALTH_CHECK_PATH, INGRESS_HEALTH_CHECK_PATH, UNPROMOTED_HEALTH_CHECK_PATH } from '@platform/platform-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { GENERATED_CLUSTERS, runWithFakes, startIngress, type FakeRun } from './harness';
import { Route53Model, type HealthCheck, type World } from './route53-model';
import { DR_NLB, failbackScenario, PROD_NLB, scenario } from './scenario';

interface IngressRule {
  host?: string;
  http: { paths: { path: string; pathType: string; backend: { service: { name: string } } }[] };
}

/** Paths an ingress answers for a request whose Host is the load balancer's name: the host-less rules of the generated Ingresses. */
function hostlessRoutes(cluster: string): { path: string; exact: boolean; service: string }[] {
  const dir = join(GENERATED_CLUSTERS, cluster, 'apps');
  return readdirSync(dir)
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJSON() as { kind?: string; spec?: { rules?: IngressRule[] } }))
    .filter((o) => o?.kind === 'Ingress')
    .flatMap((o) => o.spec?.rules ?? [])
    .filter((r) => !r.host)
    .flatMap((r) => r.http.paths.map((p) => ({ path: p.path, exact: p.pathType === 'Exact', service: p.backend.service.name })));
}

interface Region {
  up: boolean;
  /** The database answers (PostgREST's /ready): true on a pilot light too, whose empty initdb copy runs. */
  databaseUp: boolean;
}

function world(regions: Record<'production' | 'dr', Region>): World {
  const byName: Record<string, 'production' | 'dr'> = { [PROD_NLB.dns]: 'production', [DR_NLB.dns]: 'dr' };
  return {
    checkers: 16,
    targetHealthy: (fqdn) => regions[byName[fqdn]!].up,
    serve: (fqdn, path) => {
      const name = byName[fqdn]!;
      const region = regions[name];
      if (!region.up) return undefined;
      if (path === INGRESS_HEALTH_CHECK_PATH) return { status: 200, body: 'OK' }; // Traefik's own ping
      const route = hostlessRoutes(name).find((r) => (r.exact ? path === r.path : path.startsWith(r.path)));
      if (!route) return { status: 404 };
      return { status: region.databaseUp ? 200 : 503 };
    },
  };
}

/** Both halves as aws-cluster's FailoverRecord creates them (test/failover-record.test.ts checks the Terraform). */
function terraformState(): Route53Model {
  const checks = new Map<string, HealthCheck>([
    ['hc-production', { type: 'HTTP', fqdn: PROD_NLB.dns, resourcePath: APP_HEALTH_CHECK_PATH }],
    ['hc-dr', { type: 'HTTP', fqdn: DR_NLB.dns, resourcePath: UNPROMOTED_HEALTH_CHECK_PATH }],
  ]);
  return new Route53Model(checks, [
    { role: 'PRIMARY', setIdentifier: 'production', healthCheckId: 'hc-production', alias: { dnsName: PROD_NLB.dns, evaluateTargetHealth: true } },
    { role: 'SECONDARY', setIdentifier: 'dr', healthCheckId: 'hc-dr', alias: { dnsName: DR_NLB.dns, evaluateTargetHealth: true } },
  ]);
}

const routeWrites = (run: FakeRun) => run.argv.filter((a) => a[0] === 'aws' && a[1] === 'route53' && ['update-health-check', 'change-resource-record-sets'].includes(a[2]!)).map((a) => a.slice(1));

const UP: Region = { up: true, databaseUp: true };
const DOWN: Region = { up: false, databaseUp: false };

describe('Route 53 model follows the documented rules', () => {
  const one = (check: HealthCheck, serve: World['serve']) => new Route53Model(new Map([['c', check]]), []).checkHealthy('c', { checkers: 100, targetHealthy: () => true, serve });
  const http = { type: 'HTTP', fqdn: 'lb', resourcePath: '/x' } as const;
  it('healthy only when more than 18 % of checkers succeed', () => {
    expect(one(http, (_f, _p, i) => (i < 18 ? { status: 200 } : undefined))).toBe(false);
    expect(one(http, (_f, _p, i) => (i < 19 ? { status: 302 } : undefined))).toBe(true);
  });
  it('inverted flips, disabled is healthy, string match reads only the first 5120 bytes', () => {
    expect(one({ ...http, inverted: true }, () => ({ status: 200 }))).toBe(false);
    expect(one({ ...http, disabled: true }, () => undefined)).toBe(true);
    const match = { ...http, type: 'HTTP_STR_MATCH', searchString: 'promoted' } as const;
    expect(one(match, () => ({ status: 200, body: `${'x'.repeat(5112)}promoted` }))).toBe(true);
    expect(one(match, () => ({ status: 200, body: `${'x'.repeat(5113)}promoted` }))).toBe(false);
  });
  it('calculated checks count healthy children; both records unhealthy answers the PRIMARY; no check counts healthy', () => {
    const checks = new Map<string, HealthCheck>([
      ['a', { ...http, fqdn: 'a' }],
      ['b', { ...http, fqdn: 'b' }],
      ['sum', { type: 'CALCULATED', children: ['a', 'b'], healthThreshold: 2 }],
    ]);
    const serve: World['serve'] = (fqdn) => (fqdn === 'a' ? { status: 200 } : undefined);
    const model = new Route53Model(checks, [
      { role: 'PRIMARY', setIdentifier: 'p', healthCheckId: 'sum', alias: { dnsName: 'a', evaluateTargetHealth: false } },
      { role: 'SECONDARY', setIdentifier: 's', healthCheckId: 'b', alias: { dnsName: 'b', evaluateTargetHealth: false } },
    ]);
    expect(model.answer({ checkers: 10, targetHealthy: () => true, serve })).toBe('a');
    model.records[1]!.healthCheckId = undefined;
    expect(model.answer({ checkers: 10, targetHealthy: () => true, serve })).toBe('b');
  });
});

describe('no traffic to the standby before promotion, none to the returned primary while promoted', () => {
  const servers: Server[] = [];
  let promote: FakeRun;
  let failback: FakeRun;
  beforeAll(async () => {
    const web = await startIngress();
    servers.push(web.server);
    promote = await runWithFakes(['promote', '--standby', 'dr', '--replace-database', '--poll-seconds', '0', '--probe-attempts', '2'], scenario({ ingress: web.endpoint }));
    failback = await runWithFakes(
      ['failback', '--primary', 'production', '--replace-database', '--poll-seconds', '0', '--probe-attempts', '2'],
      failbackScenario({ ingress: web.endpoint }),
    );
  }, 240_000);
  afterAll(() => servers.forEach((s) => s.close()));

  it('normal operation: production', () => {
    expect(terraformState().answer(world({ production: UP, dr: UP }))).toBe(PROD_NLB.dns);
  });

  it("Seoul lost, dr not promoted: both unhealthy, Route 53 answers the dead PRIMARY — never dr's empty, writable database", () => {
    const model = terraformState();
    const seoulDown = world({ production: DOWN, dr: UP });
    expect(model.checkHealthy('hc-dr', seoulDown)).toBe(false);
    expect(model.answer(seoulDown)).toBe(PROD_NLB.dns);
    // A Seoul flap changes nothing either: as soon as it answers, users are back on production.
    expect(model.answer(world({ production: UP, dr: UP }))).toBe(PROD_NLB.dns);
    // What the standby's check used to probe (Traefik's ping, answered by the pilot light) would have sent users to dr.
    model.checks.get('hc-dr')!.resourcePath = INGRESS_HEALTH_CHECK_PATH;
    expect(model.answer(seoulDown)).toBe(DR_NLB.dns);
    // And so would the app's own readiness: the pilot light's database is up, just empty.
    model.checks.get('hc-dr')!.resourcePath = APP_HEALTH_CHECK_PATH;
    expect(model.answer(seoulDown)).toBe(DR_NLB.dns);
  });

  it('after the promotion: dr, also when Seoul returns healthy and when dr’s own check blips', () => {
    expect(promote.code).toBe(0);
    const model = terraformState();
    for (const write of routeWrites(promote)) model.apply(write);
    expect(model.answer(world({ production: DOWN, dr: UP }))).toBe(DR_NLB.dns);
    expect(model.answer(world({ production: UP, dr: UP }))).toBe(DR_NLB.dns);
    // A blip in dr's database: both checks fail, Route 53 answers the PRIMARY — which now leads to dr.
    expect(model.answer(world({ production: UP, dr: { up: true, databaseUp: false } }))).toBe(DR_NLB.dns);
  });

  it('the writes are ordered: the primary is fenced and the standby opened only after everything else (its database verified)', () => {
    const fenced = promote.calls.findIndex((c) => c.includes('update-health-check --health-check-id hc-production'));
    const opened = promote.calls.findIndex((c) => c.includes('update-health-check --health-check-id hc-dr'));
    const verified = promote.calls.findIndex((c) => c.includes('rollout status deployment/web'));
    const rechecked = promote.calls.lastIndexOf('aws route53 get-health-check-status --health-check-id hc-production --output json', verified);
    expect(verified).toBeGreaterThan(0);
    // Until the fence a recovering primary keeps its users (recheck-primary stops the promotion instead).
    // The scale-up is issued before the re-check; the new nodes are awaited only after users moved.
    const lastScale = promote.calls.map((c) => c.includes('update-auto-scaling-group')).lastIndexOf(true);
    expect(lastScale).toBeGreaterThan(0);
    expect(rechecked).toBeGreaterThan(lastScale);
    expect(fenced).toBeGreaterThan(verified);
    expect(opened).toBeGreaterThan(fenced);
    expect(promote.calls.findIndex((c) => c.includes('get nodes'))).toBeGreaterThan(opened);
  });

  it("pages while dr serves: dr's us-east-1 alarm armed after dr opens, silenced before it closes; production's never touched", () => {
    const alarmCalls = (run: FakeRun) => run.calls.filter((c) => c.startsWith('aws cloudwatch '));
    expect(alarmCalls(promote)).toEqual([
      'aws cloudwatch enable-alarm-actions --region us-east-1 --alarm-names dr-app-health-check',
      'aws cloudwatch describe-alarms --region us-east-1 --alarm-names dr-app-health-check --query MetricAlarms[0].ActionsEnabled --output text',
    ]);
    const opened = promote.calls.findIndex((c) => c.includes('update-health-check --health-check-id hc-dr'));
    expect(promote.calls.findIndex((c) => c.includes('enable-alarm-actions'))).toBeGreaterThan(opened);
    expect(alarmCalls(failback)[0]).toBe('aws cloudwatch disable-alarm-actions --region us-east-1 --alarm-names dr-app-health-check');
    const closed = failback.calls.findIndex((c) => c.includes(`update-health-check --health-check-id hc-dr --resource-path ${UNPROMOTED_HEALTH_CHECK_PATH}`));
    expect(closed).toBeGreaterThan(failback.calls.findIndex((c) => c.includes('disable-alarm-actions')));
    for (const run of [promote, failback]) expect(readFileSync(join(run.outDir, 'journal.json'), 'utf8')).not.toContain('WARNING: alarm');
  });

  it("a missing page alarm (stack not applied; CloudWatch ignores unknown names) is a WARNING with the command, never a half-moved DNS pair", async () => {
    const web = await startIngress();
    servers.push(web.server);
    const run = await runWithFakes(['promote', '--standby', 'dr', '--replace-database', '--poll-seconds', '0', '--probe-attempts', '2'], scenario({ ingress: web.endpoint, alarms: {} }));
    expect(run.code).toBe(0);
    const journal = readFileSync(join(run.outDir, 'journal.json'), 'utf8');
    expect(journal).toContain("WARNING: alarm dr-app-health-check (us-east-1): ActionsEnabled reads None after enabling; the alarm does not exist: apply the cluster's stack (aws-cluster HealthCheckAlarm). Do it by hand: aws cloudwatch enable-alarm-actions --region us-east-1 --alarm-names dr-app-health-check");
    const model = terraformState();
    for (const write of routeWrites(run)) model.apply(write);
    expect(model.answer(world({ production: UP, dr: UP }))).toBe(DR_NLB.dns);
  }, 120_000);

  it('after fail-back: production again, and dr closed (Seoul lost again would not send users to dr before a new promotion)', () => {
    expect(failback.code).toBe(0);
    const model = terraformState();
    for (const write of [...routeWrites(promote), ...routeWrites(failback)]) model.apply(write);
    expect(model.answer(world({ production: UP, dr: UP }))).toBe(PROD_NLB.dns);
    expect(model.answer(world({ production: DOWN, dr: UP }))).toBe(PROD_NLB.dns);
    expect(model.records[0]).toEqual(terraformState().records[0]);
  });
});
