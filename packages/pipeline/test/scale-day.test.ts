import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLUSTER_STACK_OUTPUTS, defaultPlatform, SCALE_DAY_ACCESS, SCALE_DAY_CPU_CONSUMER, SCALE_DAY_INGRESS, scaleDayGrantCovers, scaleDayProfileOf } from '@platform/platform-config';
import { parse } from 'yaml';
import { scaleDayCommand } from '../src/cli/commands/scale-day';
import { main } from '../src/cli/main';
import { asScaleDay, scaleDayTokenSeconds } from '../src/operations/scale-day/identity';
import { K6_IMAGE, loadJobObjects, parseLoadSummary } from '../src/operations/scale-day/load-job';
import { runScaleDay, scaleDayTarget } from '../src/operations/scale-day/run';
import { readyWorkersPerAz } from '../src/operations/scale-day/kube-state';
import { fakeCluster, type FakeClusterOptions } from './support/fake-cluster';
import { recordingActions } from './support/actions';

const platform = defaultPlatform();
const outputs = { [CLUSTER_STACK_OUTPUTS.ingressDnsName]: 'production-ingress-0123.elb.ap-northeast-2.amazonaws.com' };
const AZS = platform.cluster('production').availabilityZones;
const base: FakeClusterOptions = { azs: AZS, nodesPerAz: 2, maxPerAz: 10, podsPerNode: 4, minReplicas: 3, maxReplicas: 12, podRps: 100 };
const phases = { rampUp: 30, hold: 600, rampDown: 60 };

async function run(options: Partial<FakeClusterOptions>, rate: number, limits: { maxErrorRate: number; maxP95Ms: number; expectReplicas?: number } = { maxErrorRate: 0.01, maxP95Ms: 500 }, path?: string) {
  const fake = fakeCluster({ ...base, ...options });
  const result = await runScaleDay({ platform, cluster: 'production', outputs, kube: fake.kube, clock: fake.clock, rate, phases, limits, runId: 'r1', ...(path ? { path } : {}) });
  return { ...result, fake };
}

describe('scale day against a cluster that behaves like the API', () => {
  it('passes: 450 req/s scales web 3 → 5 (--expect-replicas 5) on the standing nodes, no pod Pending for want of a node, within production\'s 180 s', async () => {
    const { record, verdict, fake } = await run({ otherPendingPods: 2 }, 450, { maxErrorRate: 0.01, maxP95Ms: 500, expectReplicas: 5 });
    expect(verdict).toMatchObject({ ok: true, peakDesired: 5, failures: [] });
    expect(verdict.scaleOutSeconds).toBeLessThanOrEqual(180);
    expect(verdict.nodesAdded).toEqual(Object.fromEntries(AZS.map((az) => [az, 0])));
    // Another namespace's Pending pods are recorded (shown) but do not hold the app's scale-out.
    expect(record.samples.every((s) => s.pendingPods >= 2)).toBe(true);
    expect(record.samples.at(-1)?.appPendingPods).toBe(0);
    expect(record.limits.scaleOutSeconds).toBe(platform.cluster('production').objectives.scaleOutSeconds);
    // The load ran as a Job in the cluster: k6 pinned by digest, the committed script, the app's host through this cluster's ingress.
    const job = fake.applied.find((o) => (o as { kind: string }).kind === 'Job') as { spec: { template: { spec: { containers: Array<{ image: string; env: Array<{ name: string; value: string }> }> } } } };
    const c = job.spec.template.spec.containers[0];
    expect(c.image).toBe(K6_IMAGE);
    expect(Object.fromEntries(c.env.map((e) => [e.name, e.value]))).toMatchObject({ TARGET_URL: `https://${outputs[CLUSTER_STACK_OUTPUTS.ingressDnsName]}/`, HOST: platform.names.appHostname, RATE: '450', RAMP_UP: '30', HOLD: '600', RAMP_DOWN: '60' });
    expect(fake.deleted).toEqual(['job/scale-day/load-r1', 'configmap/scale-day/load-r1']);
    // Sampled every 10 s until the Job finished (690 s of load).
    expect(record.samples[0].t).toBe(0);
    expect(record.samples.at(-1)?.t).toBeGreaterThanOrEqual(690);
  });

  it('fails on time when the workers are full: Pending pods appear, nodes per AZ grow only after launch + boot, scale-out 510 s > 180 s', async () => {
    const { record, verdict } = await run({ nodesPerAz: 1, podsPerNode: 2 }, 900, { maxErrorRate: 0.05, maxP95Ms: 500 });
    expect(verdict.ok).toBe(false);
    expect(verdict.failures).toEqual(['scale-out took 510 s, above the objective scaleOutSeconds 180 s', 'the HPA asked for at most 9 replicas, never the expected 12']);
    const firstPending = record.samples.find((s) => s.pendingPods > 0 && s.readyReplicas < s.desiredReplicas && s.t > 60);
    const firstGrowth = record.samples.find((s) => Object.values(s.nodesPerAz).some((n) => n > 1));
    expect(firstPending).toBeDefined();
    // A node is Ready no sooner than EC2 launch (90 s) + boot and join (120 s) after the autoscaler saw the pods.
    expect((firstGrowth?.t ?? 0) - (firstPending?.t ?? 0)).toBeGreaterThanOrEqual(180);
    expect(verdict.nodesAdded).toEqual(Object.fromEntries(AZS.map((az) => [az, 1])));
  });

  it('fails, inconclusive, when nothing scales: 100 req/s never moves the HPA above its minimum 3', async () => {
    const { verdict } = await run({}, 100);
    expect(verdict).toMatchObject({ ok: false, peakDesired: 3, noScaleOut: true, scaleOutSeconds: null, expectReachedSeconds: null });
    expect(verdict.failures).toEqual(['no scale-out observed: the HPA never asked for more than its minimum 3 replicas (inconclusive: the load did not move it)']);
  });

  it('fails when the HPA stops short of the expected replicas (default: its maxReplicas 12), even though what it asked for came fast', async () => {
    const { verdict } = await run({}, 450);
    expect(verdict).toMatchObject({ ok: false, peakDesired: 5, expectReplicas: 12, expectReachedSeconds: null });
    expect(verdict.failures).toEqual(['the HPA asked for at most 5 replicas, never the expected 12']);
  });

  it('starts the clock when the k6 pod runs: Pending 120 s on a full cluster, the same run measures the same 510 s scale-out', async () => {
    const full = { nodesPerAz: 1, podsPerNode: 2 };
    const limits = { maxErrorRate: 0.05, maxP95Ms: 500, expectReplicas: 9 };
    const waited = await run({ ...full, k6PendingSeconds: 120 }, 900, limits);
    const direct = await run(full, 900, limits);
    expect(waited.record.loadStartWaitSeconds).toBe(120);
    expect(waited.record.startedAt).toBe('2026-12-05T02:02:00.000Z');
    expect(waited.record.samples[0]).toMatchObject({ t: 0, replicas: 3 });
    expect(waited.verdict.scaleOutSeconds).toBe(direct.verdict.scaleOutSeconds);
    expect(waited.verdict.failures).toEqual(['scale-out took 510 s, above the objective scaleOutSeconds 180 s']);
    expect(waited.record.totals).not.toBeNull();
  });

  it('a k6 pod that never runs before the Job\'s deadline: no load, a clear reason, Job and ConfigMap still deleted', async () => {
    const { record, verdict, fake } = await run({ k6PendingSeconds: 5000 }, 450);
    expect(record.samples).toEqual([]);
    expect(record.totals).toBeNull();
    expect(record.problem).toBe('the k6 pod never ran: the load Job scale-day/load-r1 failed after 990 s (its pod stayed Pending; activeDeadlineSeconds 990)');
    expect(verdict.ok).toBe(false);
    expect(fake.deleted).toEqual(['job/scale-day/load-r1', 'configmap/scale-day/load-r1']);
  });

  it('a Job that hits its deadline mid-run (k6 started 400 s late): sampling stops, the run fails saying so and that k6 printed no summary', async () => {
    const { record, verdict } = await run({ k6PendingSeconds: 400 }, 450, { maxErrorRate: 0.01, maxP95Ms: 500, expectReplicas: 5 });
    expect(record.samples.at(-1)?.t).toBe(590);
    expect(record.problem).toBe('the load Job scale-day/load-r1 failed after 590 s of load (k6 exited non-zero or hit activeDeadlineSeconds 990; see its logs); the load Job printed no SCALE_DAY_SUMMARY line (k6 did not finish; see its logs)');
    expect(verdict.failures.slice(0, 2)).toEqual([record.problem, 'k6 printed no summary: error rate and latency were not measured']);
  });

  it('k6 with a path: the load goes to --path on the app\'s host, and a bad path fails before anything is applied', async () => {
    const { fake } = await run({}, 450, undefined, '/api/items?limit=100');
    const job = fake.applied.find((o) => (o as { kind: string }).kind === 'Job') as { spec: { template: { spec: { automountServiceAccountToken: boolean; containers: Array<{ env: Array<{ name: string; value: string }> }> } } } };
    expect(job.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(job.spec.template.spec.containers[0].env.find((e) => e.name === 'TARGET_URL')?.value).toBe(`https://${outputs[CLUSTER_STACK_OUTPUTS.ingressDnsName]}/api/items?limit=100`);
    const bad = fakeCluster(base);
    await expect(runScaleDay({ platform, cluster: 'production', outputs, kube: bad.kube, clock: bad.clock, rate: 1, phases, limits: { maxErrorRate: 0.01, maxP95Ms: 500 }, runId: 'r1', path: 'api/items' })).rejects.toThrow('--path api/items: expected an absolute URL path such as /api/items?limit=100');
    expect(bad.applied).toEqual([]);
    await expect(runScaleDay({ platform, cluster: 'production', outputs, kube: bad.kube, clock: bad.clock, rate: 1, phases, limits: { maxErrorRate: 0.01, maxP95Ms: 500, expectReplicas: 13 }, runId: 'r1' })).rejects.toThrow('--expect-replicas 13: the HPA web/web scales between 3 and 12; expected more than its minimum and at most its maximum');
    expect(bad.applied).toEqual([]);
  });

  it('fails on errors and latency when the load exceeds even the HPA maximum', async () => {
    const { verdict } = await run({}, 1800);
    expect(verdict.failures).toEqual(['error rate 6.59 % above the limit 1.00 %', 'p95 latency 888 ms above the limit 500 ms']);
  });

  it('stops before any load when its identity is not allowed (a cluster synthesized before ScaleDayAccess), naming what scale day needs', async () => {
    const fake = fakeCluster(base);
    const forbidden = { ...fake.kube, getJson: () => { throw new Error('kubectl get horizontalpodautoscaler web -n web -o json failed (exit 1): Error from server (Forbidden): horizontalpodautoscalers.autoscaling "web" is forbidden: User "system:serviceaccount:platform-failover:region-failover" cannot get resource "horizontalpodautoscalers"'); } };
    await expect(runScaleDay({ platform, cluster: 'production', outputs, kube: forbidden, clock: fake.clock, rate: 100, phases, limits: { maxErrorRate: 0.01, maxP95Ms: 500 }, runId: 'r1' })).rejects.toThrow("scale day's ServiceAccount (scale-day/scale-day) may not do what scale day does: it needs list nodes cluster-wide; list pods cluster-wide; get horizontalpodautoscalers.autoscaling (web) in web; get deployments.apps (web) in web;");
    expect(fake.applied).toEqual([]);
  });

  it('counts Ready workers per AZ as the API reports them: no control plane, no NotReady node, no node without a zone yet', () => {
    const node = (name: string, labels: Record<string, string>, ready: string) => ({ metadata: { name, labels }, status: { conditions: [{ type: 'Ready', status: ready }] } });
    const zone = 'topology.kubernetes.io/zone';
    expect(readyWorkersPerAz({ items: [node('cp', { 'node-role.kubernetes.io/control-plane': '', [zone]: 'a' }, 'True'), node('w1', { [zone]: 'a' }, 'True'), node('w2', { [zone]: 'a' }, 'False'), node('w3', {}, 'True'), node('w4', { [zone]: 'b' }, 'True')] })).toEqual({ a: 1, b: 1 });
  });

  it('reads k6\'s summary line from the Job logs, and says so when k6 printed none', () => {
    expect(parseLoadSummary('noise\nSCALE_DAY_SUMMARY {"windows":[{"t":0,"seconds":30,"requests":10,"errorRate":0,"p95Ms":12}],"totals":{"requests":10,"errorRate":0,"p95Ms":12}}\n').totals.p95Ms).toBe(12);
    expect(() => parseLoadSummary('level=error msg="GoError"')).toThrow('the load Job printed no SCALE_DAY_SUMMARY line');
  });

  it('the Job runs the committed k6 script in the namespace GitOps owns (never creating one), deadline past the run', () => {
    const objects = loadJobObjects('load-x', { url: 'https://lb/', host: 'app', rate: 10, rampUp: 30, hold: 60, rampDown: 30, window: 30 });
    expect(objects.map((o) => (o as { kind: string }).kind)).toEqual(['ConfigMap', 'Job']);
    const [cm, job] = objects;
    expect(job).toMatchObject({ metadata: { namespace: SCALE_DAY_ACCESS.namespace } });
    expect(cm).toMatchObject({ kind: 'ConfigMap', data: { 'load.js': readFileSync(join(__dirname, '..', 'assets', 'scale-day', 'load.js'), 'utf8') } });
    expect(job).toMatchObject({ kind: 'Job', spec: { activeDeadlineSeconds: 420, template: { spec: { containers: [{ securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] } } } });
  });

  it('pipeline:scale-day writes the record, chart and summary, and exits 1 when a limit is crossed', async () => {
    const fake = fakeCluster({ ...base, nodesPerAz: 1, podsPerNode: 2 });
    const root = mkdtempSync(join(tmpdir(), 'scale-day-'));
    const out = join(root, 'dist', 'pipeline');
    const actions = recordingActions();
    const code = await main(['scale-day', '--cluster', 'production', '--rate', '900', '--ramp-up', '30', '--hold', '600', '--ramp-down', '60', '--max-error-rate', '0.05', '--run-id', 'ci-1'], root, platform, {
      commands: { 'scale-day': scaleDayCommand({ kube: fake.kube, outputs, clock: fake.clock }) },
      actions,
    });
    expect(code).toBe(1);
    expect(actions.summaries[0]).toContain('scale-out took 510 s, above the objective scaleOutSeconds 180 s');
    expect(readFileSync(join(out, 'scale-day-production.svg'), 'utf8')).toMatch(/^<svg /);
    expect(readFileSync(join(out, 'scale-day-production.md'), 'utf8')).toContain('## Scale day: production ❌');
    expect(JSON.parse(readFileSync(join(out, 'scale-day-production.json'), 'utf8')).samples.length).toBeGreaterThan(60);
  });

  it('pipeline:scale-day with no k6 summary line still writes the record, chart and summary, and exits 1 saying why', async () => {
    const fake = fakeCluster({ ...base, k6Crashes: true });
    const root = mkdtempSync(join(tmpdir(), 'scale-day-'));
    const out = join(root, 'dist', 'pipeline');
    const actions = recordingActions();
    const code = await main(['scale-day', '--cluster', 'production', '--rate', '450', '--expect-replicas', '5', '--run-id', 'ci-2'], root, platform, {
      commands: { 'scale-day': scaleDayCommand({ kube: fake.kube, outputs, clock: fake.clock }) },
      actions,
    });
    expect(code).toBe(1);
    const md = readFileSync(join(out, 'scale-day-production.md'), 'utf8');
    expect(md).toContain('> **Incomplete run:** the load Job printed no SCALE_DAY_SUMMARY line (k6 did not finish; see its logs).');
    expect(md).toContain('| error rate | not measured (no k6 summary) | ≤ 1.00 % | ❌ |');
    expect(md).toContain('- ❌ k6 printed no summary: error rate and latency were not measured');
    const record = JSON.parse(readFileSync(join(out, 'scale-day-production.json'), 'utf8'));
    expect(record).toMatchObject({ totals: null, load: [], limits: { expectReplicas: 5 } });
    expect(record.samples.length).toBeGreaterThan(60);
    expect(readFileSync(join(out, 'scale-day-production.svg'), 'utf8')).toContain('>source: a real run · failed: 2 check(s) · incomplete run (see the summary) · HPA asked for 5 of the expected 5</text>');
    expect(fake.deleted).toEqual(['job/scale-day/load-ci-2', 'configmap/scale-day/load-ci-2']);
  });
});

describe('scale day identity', () => {
  it('every API request a whole run makes (sampling, apply, logs, clean-up) is one SCALE_DAY_ACCESS grants, the list k8s-addons renders into RBAC', async () => {
    for (const options of [{}, { nodesPerAz: 1, podsPerNode: 2 }, { k6Crashes: true }, { k6PendingSeconds: 60 }]) {
      const { fake } = await run(options, 900);
      expect(fake.requests.length).toBeGreaterThan(100);
      const outside = fake.requests.filter((r) => !SCALE_DAY_ACCESS.grants.some((g) => scaleDayGrantCovers(g, r)));
      expect(outside).toEqual([]);
    }
  });

  it('a grant taken away is a request outside the list (the check can fail)', async () => {
    const { fake } = await run({}, 450);
    const withoutLogs = SCALE_DAY_ACCESS.grants.filter((g) => !g.resources.includes('pods/log'));
    expect(fake.requests.filter((r) => !withoutLogs.some((g) => scaleDayGrantCovers(g, r)))).toEqual([{ verb: 'get', group: '', resource: 'pods/log', namespace: 'scale-day', name: 'load-r1-x' }]);
  });

  it('the CI identity only mints scale day\'s token; every later call runs with a kubeconfig holding that token alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scale-day-id-'));
    const ci = fakeCluster(base);
    const ciKubeconfig = 'apiVersion: v1\nkind: Config\nclusters:\n- name: production\n  cluster: {server: "https://api.production.internal:6443", certificate-authority-data: Q0E=}\nusers:\n- name: production-region-failover\n  user: {token: failover-secret}\ncontexts:\n- name: production\n  context: {cluster: production, user: production-region-failover}\ncurrent-context: production\n';
    let used = '';
    asScaleDay({ kube: ci.kube, kubeconfigText: ciKubeconfig }, dir, 'production', scaleDayTokenSeconds(990), (path) => {
      used = path;
      return ci.kube;
    });
    expect(ci.requests).toEqual([{ verb: 'create', group: '', resource: 'serviceaccounts/token', namespace: SCALE_DAY_ACCESS.namespace, name: SCALE_DAY_ACCESS.serviceAccount }]);
    expect(scaleDayGrantCovers(SCALE_DAY_ACCESS.tokenMinter.grant, ci.requests[0])).toBe(true);
    const written = parse(readFileSync(used, 'utf8'));
    expect(written.users).toEqual([{ name: 'production-region-failover', user: { token: 'token-of-scale-day-scale-day' } }]);
    expect(written.clusters).toEqual([{ name: 'production', cluster: { server: 'https://api.production.internal:6443', 'certificate-authority-data': 'Q0E=' } }]);
    expect(readFileSync(used, 'utf8')).not.toContain('failover-secret');
    expect(statSync(used).mode & 0o777).toBe(0o600);
    // The token outlives the Job's deadline and the sampling grace; never below the API's 10 min minimum.
    expect(scaleDayTokenSeconds(990)).toBe(1140);
    expect(scaleDayTokenSeconds(100)).toBe(600);
  });
});

describe('scale day profile and node scale-out', () => {
  // Staging's web pod: 500m requested (agnhost 100m + the consumer 400m), target 70 %, 0.1 CPU-s per request: 3.5 req/s at
  // the target; the consumer burns at most its CPU limit (agnhost idles): limit / 100m req/s. Its HPA's rendered scaleUp.
  const c = SCALE_DAY_CPU_CONSUMER;
  const staging = {
    ...base,
    azs: platform.cluster('staging').availabilityZones,
    nodesPerAz: 1,
    podsPerNode: 2,
    maxPerAz: 3,
    podRps: ((100 + c.cpuRequestMillis) * 0.7) / (c.millicores * c.durationSec),
    podMaxRps: c.cpuLimitMillis / (c.millicores * c.durationSec),
    scaleUp: { selectPolicy: 'Max' as const, policies: [{ type: 'Percent' as const, value: 100, periodSeconds: 15 }, { type: 'Pods' as const, value: 9, periodSeconds: 15 }] },
  };
  async function cli(fake: ReturnType<typeof fakeCluster>, extra: string[] = []) {
    const root = mkdtempSync(join(tmpdir(), 'scale-day-'));
    const actions = recordingActions();
    const code = await main(['scale-day', '--cluster', 'staging', '--hold', '300', '--max-error-rate', '1', '--max-p95-ms', '100000', '--run-id', 'p1', ...extra], root, platform, {
      commands: { 'scale-day': scaleDayCommand({ kube: fake.kube, outputs, clock: fake.clock }) },
      actions,
    });
    const record = JSON.parse(readFileSync(join(root, 'dist', 'pipeline', 'scale-day-staging.json'), 'utf8'));
    return { code, record, summary: actions.summaries[0] ?? '' };
  }

  it('staging by default loads its profile: POST of the CPU-costly path at its rate, and expects node scale-out', async () => {
    const fake = fakeCluster(staging);
    const { record, summary } = await cli(fake);
    const profile = scaleDayProfileOf(platform.cluster('staging'));
    const job = fake.applied.find((o) => (o as { kind: string }).kind === 'Job') as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } } } };
    expect(Object.fromEntries(job.spec.template.spec.containers[0].env.map((e) => [e.name, e.value]))).toMatchObject({ METHOD: 'POST', RATE: '48', TARGET_URL: `http://${SCALE_DAY_INGRESS.service}.${SCALE_DAY_INGRESS.namespace}.svc.cluster.local:${SCALE_DAY_INGRESS.port}${profile.path}` });
    // The CPU path goes to the ingress controller's internal entrypoint with the app's Host; the public load balancer never serves it.
    expect(job.spec.template.spec.containers[0].env.find((e) => e.name === 'HOST')?.value).toBe(platform.names.appHostname);
    expect(scaleDayTarget(platform, 'staging', outputs, '/').url).toBe(`https://${outputs[CLUSTER_STACK_OUTPUTS.ingressDnsName]}/`);
    expect(scaleDayTarget(platform, 'production', outputs, profile.path).url).toBe(`https://${outputs[CLUSTER_STACK_OUTPUTS.ingressDnsName]}${profile.path}`);
    expect(record).toMatchObject({ rate: 48, target: { method: 'POST' }, limits: { expectNodeScaleOut: true } });
    // The HPA grows only as the measured pods' usage allows (each pod capped at the consumer's limit).
    const ups = fake.decisions.filter((d) => d.to > d.from);
    expect(ups.at(-1)?.to).toBe(12);
    for (const d of ups) expect(d.to, JSON.stringify(d)).toBeLessThanOrEqual(Math.ceil((d.from * staging.podMaxRps) / staging.podRps - 1e-9));
    // The workers grew 1 → 2 or more per AZ: node scale-out reported and passed.
    expect(summary).toMatch(/\| node scale-out \| yes: ap-northeast-2a 1 → [23], ap-northeast-2b 1 → [23], ap-northeast-2c 1 → [23] \| expected \(the profile's peak needs more workers than stand\) \| ✅ \|/);
    expect(summary).not.toContain('no node scale-out');
  });

  it('fails when the profile expected node scale-out and none happened (the ASGs could not grow), saying nodes per AZ before and at peak', async () => {
    const { code, record, summary } = await cli(fakeCluster({ ...staging, maxPerAz: 1 }));
    expect(code).toBe(1);
    expect(record.limits.expectNodeScaleOut).toBe(true);
    expect(summary).toContain('- ❌ no node scale-out: the profile expected the workers to grow at this peak (ha-check\'s elasticity adds nodes) and no AZ gained a Ready worker (before → peak: ap-northeast-2a 1 → 1, ap-northeast-2b 1 → 1, ap-northeast-2c 1 → 1)');
    expect(summary).toContain('| node scale-out | no: ap-northeast-2a 1 → 1, ap-northeast-2b 1 → 1, ap-northeast-2c 1 → 1 | expected (the profile\'s peak needs more workers than stand) | ❌ |');
  });

  it('another path or rate than the profile\'s is not held to its node scale-out; a bad method is a usage error', async () => {
    const { record } = await cli(fakeCluster({ ...staging, maxPerAz: 1 }), ['--rate', '10', '--path', '/', '--method', 'GET']);
    expect(record).toMatchObject({ rate: 10, target: { method: 'GET' }, limits: { expectNodeScaleOut: false } });
    expect(() => scaleDayCommand().parse(['--cluster', 'staging', '--method', 'PUT'])).toThrow('--method PUT: expected GET or POST');
  });
});
