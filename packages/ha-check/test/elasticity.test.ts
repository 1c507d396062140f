import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, formatMarkdown, formatText, runHaCheck, type Objectives } from '../src';
import { HPA_SCALE_UP_DEFAULTS, scaleUpOf, scaleUpSteps } from '../src/private/hpa-behavior';
import { metricsServerFromArgs, metricsServerFromValues } from '../src/private/metrics-server-config';
import { runtimeHints } from '../src/private/runtime-hints';
import { writeFixture } from './helpers';

const A = 'ap-northeast-2a';
const check = (options: Parameters<typeof writeFixture>[0], objectives: Objectives = { ...DEFAULT_OBJECTIVES, scaleOutSeconds: 120 }) => {
  const paths = writeFixture(options);
  return runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives });
};
const ids = (r: ReturnType<typeof check>) => r.findings.filter((f) => f.id.startsWith('elasticity.')).map((f) => [f.id, f.subject, f.severity]);

describe('HPA scale-up as the controller limits it', () => {
  it('the API defaults (100 % or 4 pods per 15 s, Max): 1 → 5 at once, 10 one period later', () => {
    expect(scaleUpSteps(1, 10, HPA_SCALE_UP_DEFAULTS, 15)).toEqual([{ atSeconds: 0, replicas: 5 }, { atSeconds: 15, replicas: 10 }]);
  });

  it('cdk8s-plus\'s HPA default (4 pods or 200 % per 60 s): 3 → 9, then 12 only once the first step is a full period old', () => {
    const up = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }, { type: 'Percent', value: 200, periodSeconds: 60 }], source: 'behavior' } as const;
    expect(scaleUpSteps(3, 12, up, 15)).toEqual([{ atSeconds: 0, replicas: 9 }, { atSeconds: 60, replicas: 12 }]);
  });

  it('Min takes the smaller allowance; Disabled never scales up', () => {
    const up = { stabilizationWindowSeconds: 0, selectPolicy: 'Min', policies: HPA_SCALE_UP_DEFAULTS.policies, source: 'behavior' } as const;
    // min(3×2, 3+4) = 6, then min(12, 10) = 10, then 12.
    expect(scaleUpSteps(3, 12, up, 15)).toEqual([{ atSeconds: 0, replicas: 6 }, { atSeconds: 15, replicas: 10 }, { atSeconds: 30, replicas: 12 }]);
    expect(scaleUpSteps(3, 12, { ...up, selectPolicy: 'Disabled' }, 15)).toBeUndefined();
  });

  it('defaults what behavior.scaleUp leaves out as the API server does, and rejects what it would reject (exact messages)', () => {
    expect(scaleUpOf({}, 'h')).toBe(HPA_SCALE_UP_DEFAULTS);
    expect(scaleUpOf({ behavior: { scaleUp: { stabilizationWindowSeconds: 60 } } }, 'h')).toEqual({ ...HPA_SCALE_UP_DEFAULTS, stabilizationWindowSeconds: 60, source: 'behavior' });
    const bad = (scaleUp: object) => () => scaleUpOf({ behavior: { scaleUp } }, 'HorizontalPodAutoscaler/web/web');
    expect(bad({ selectPolicy: 'Fastest' })).toThrow('HorizontalPodAutoscaler/web/web: spec.behavior.scaleUp.selectPolicy: expected Max, Min or Disabled, got "Fastest"');
    expect(bad({ policies: [{ type: 'Nodes', value: 1, periodSeconds: 15 }] })).toThrow('HorizontalPodAutoscaler/web/web: spec.behavior.scaleUp.policies[0].type: expected Pods or Percent, got "Nodes"');
    expect(bad({ policies: [{ type: 'Pods', value: 0, periodSeconds: 15 }] })).toThrow('HorizontalPodAutoscaler/web/web: spec.behavior.scaleUp.policies[0].value: expected a whole number above 0, got 0');
    expect(bad({ policies: [{ type: 'Pods', value: 4, periodSeconds: 3600 }] })).toThrow('HorizontalPodAutoscaler/web/web: spec.behavior.scaleUp.policies[0].periodSeconds: expected whole seconds from 1 to 1800, got 3600');
  });

  it('reads the sync period from the kubeadm flag, and metrics-server resolution from args over the chart defaults', () => {
    expect(runtimeHints(['controllerManager:\n  extraArgs:\n    horizontal-pod-autoscaler-sync-period: 30s']).hpaSyncPeriodSeconds).toBe(30);
    expect(metricsServerFromValues({}, 'x')).toMatchObject({ resolutionSeconds: 15, resolutionSource: 'chart default' });
    expect(metricsServerFromValues({ args: ['--metric-resolution=30s'] }, 'x')).toMatchObject({ resolutionSeconds: 30, resolutionSource: 'configured' });
    expect(metricsServerFromValues({ defaultArgs: ['--cert-dir=/tmp'] }, 'x')).toMatchObject({ resolutionSeconds: 60, resolutionSource: 'default' });
    expect(metricsServerFromArgs(['/metrics-server', '--metric-resolution=1m'], 'x')).toMatchObject({ resolutionSeconds: 60, resolutionSource: 'configured' });
  });
});

describe('elasticity: every HPA at its maximum', () => {
  it('fits: 3 → 6 pods of 100m on the standing nodes of every AZ, with each AZ lost too, in 65 s (no new node)', () => {
    const r = check({ apps: [{ name: 'web', replicas: 3, hpaMax: 6 }] });
    const e = r.elasticity;
    expect(e?.hpas.map((h) => [h.workload, h.minReplicas, h.maxReplicas, h.peakRequests.cpuMilli, h.spread])).toEqual([['Deployment/apps/web', 3, 6, 600, 'zone spread maxSkew 1 (DoNotSchedule)']]);
    expect(e?.scenarios.map((s) => [s.id, s.fits, s.nodesAdded])).toEqual([['all-azs', true, []], ...['a', 'b', 'c'].map((z) => [`az-loss:ap-northeast-2${z}`, true, []])]);
    // Zone spread maxSkew 1: 2 per AZ; after losing one, 3 per surviving AZ.
    expect(e?.scenarios[0].podsPerAz).toEqual([{ workload: 'Deployment/apps/web', perAz: { 'ap-northeast-2a': 2, 'ap-northeast-2b': 2, 'ap-northeast-2c': 2 } }]);
    expect(e?.scenarios[1].podsPerAz[0].perAz).toEqual({ [A]: 0, 'ap-northeast-2b': 3, 'ap-northeast-2c': 3 });
    expect(e?.scenarios[0].terms.map((t) => [t.name, t.seconds])).toEqual([
      ['metrics-server resolution', 15],
      ['HPA sync period', 15],
      ['scale-up stabilization window', 0],
      ['HPA step 1: 3 → 6', 0],
      ['pod start (image pull, containers)', 30],
      ['readiness', 5],
    ]);
    expect(e?.scenarios[0].terms[1].source).toMatch(/^upstream default/);
    expect(e?.scenarios[0].seconds).toBe(65);
    expect(ids(r)).toEqual([]);
  });

  it('does not fit after an AZ loss: 12 pods of 1500m need 2 nodes in each of 3 AZs (max 2), so losing one leaves 4 Pending', () => {
    const r = check({ workersPerAz: { min: 1, max: 2 }, apps: [{ name: 'shop', replicas: 3, hpaMax: 12, cpu: '1500m', memory: '1Gi' }] });
    const [all, lostA] = r.elasticity?.scenarios ?? [];
    expect(all).toMatchObject({ fits: true, pending: [] });
    // The autoscaler grows each AZ's ASG to its max: the peak needs new nodes, so the time carries them.
    expect(all.nodesPerAz.map((n) => [n.nodes, n.maxNodes])).toEqual([[2, 2], [2, 2], [2, 2]]);
    expect(all.waitsForScaleOut).toEqual(['Deployment/apps/shop']);
    expect(all.terms.map((t) => t.name)).toEqual(expect.arrayContaining(['cluster-autoscaler scan interval', 'EC2 launch', 'node boot, kubeadm join, CNI ready']));
    expect(lostA.fits).toBe(false);
    expect(lostA.pending.map((p) => [p.workload, p.pods])).toEqual([['Deployment/apps/shop', 4]]);
    expect(lostA.podsPerAz[0].perAz).toEqual({ [A]: 0, 'ap-northeast-2b': 4, 'ap-northeast-2c': 4 });
    const f = r.findings.find((x) => x.id === 'elasticity.peak-does-not-fit' && x.subject === `HPAs at max, ${A} lost`);
    expect(f).toMatchObject({ severity: 'error', scenarios: [`az-loss:${A}`] });
    expect(f?.message).toContain('Deployment/apps/shop 4 Pending (insufficient cpu');
    expect(f?.message).toContain('worker nodes per AZ ap-northeast-2a 0/0, ap-northeast-2b 2/2, ap-northeast-2c 2/2');
    // With every AZ up it fits: no finding for the normal state.
    expect(r.findings.some((x) => x.id === 'elasticity.peak-does-not-fit' && x.subject === 'HPAs at max')).toBe(false);
    // A cluster that does not promise to survive an AZ: the same gap is a warning.
    const relaxed = check({ workersPerAz: { min: 1, max: 2 }, apps: [{ name: 'shop', replicas: 3, hpaMax: 12, cpu: '1500m', memory: '1Gi' }] }, { ...DEFAULT_OBJECTIVES, tolerateAzLoss: false, scaleOutSeconds: 600 });
    expect(relaxed.findings.find((x) => x.id === 'elasticity.peak-does-not-fit')?.severity).toBe('warning');
  });

  it('does not fit at all: the peak needs more than every ASG at max, an error with every AZ up', () => {
    const r = check({ workersPerAz: { min: 1, max: 1 }, apps: [{ name: 'shop', replicas: 3, hpaMax: 12, cpu: '1500m', memory: '1Gi' }] }, { ...DEFAULT_OBJECTIVES, scaleOutSeconds: 600 });
    const f = r.findings.find((x) => x.id === 'elasticity.peak-does-not-fit' && x.subject === 'HPAs at max');
    expect(f).toMatchObject({ severity: 'error', scenarios: [] });
    expect(f?.message).toMatch(/^every HPA at its maximum with every AZ up: Deployment\/apps\/shop 6 Pending/);
  });

  it('too slow: one pod per 60 s takes 3 → 9 in six steps (300 s), 365 s in all against a 180 s objective', () => {
    const r = check({ apps: [{ name: 'web', replicas: 3, hpaMax: 9, hpaScaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } }] }, { ...DEFAULT_OBJECTIVES, scaleOutSeconds: 180 });
    const [all] = r.elasticity?.scenarios ?? [];
    expect(r.elasticity?.hpas[0].steps.map((s) => s.atSeconds)).toEqual([0, 60, 120, 180, 240, 300]);
    expect(r.elasticity?.hpas[0].scaleUp).toMatchObject({ selectPolicy: 'Max', stabilizationWindowSeconds: 0, source: 'behavior' });
    expect(all).toMatchObject({ fits: true, seconds: 365 });
    const f = r.findings.find((x) => x.id === 'elasticity.scale-out-slow' && x.subject === 'HPAs at max');
    expect(f?.severity).toBe('error');
    expect(f?.message).toBe(
      "scale-out to every HPA's maximum takes 365 s = metrics-server resolution 15 + HPA sync period 15 + scale-up stabilization window 0 + HPA step 1: 3 → 4 0 + HPA step 2: 4 → 5 60 + HPA step 3: 5 → 6 60 + HPA step 4: 6 → 7 60 + HPA step 5: 7 → 8 60 + HPA step 6: 8 → 9 60 + pod start (image pull, containers) 30 + readiness 5; the objective scaleOutSeconds is 180 s",
    );
    // The same HPA with the API's default policies is quick enough.
    const quick = check({ apps: [{ name: 'web', replicas: 3, hpaMax: 9 }] }, { ...DEFAULT_OBJECTIVES, scaleOutSeconds: 180 });
    expect(ids(quick)).toEqual([]);
  });

  it('a pod grows the HPA only as far as its CPU ceiling lets utilisation rise: 500m limit / 400m request / 70 % → ×1.79 per decision, 3 → 6 → 11 → 12, each later step after the pods before it are measured', () => {
    expect(scaleUpSteps(3, 12, HPA_SCALE_UP_DEFAULTS, 15, { growthPerStep: 500 / 400 / 0.7, measuredAfterSeconds: 50 })).toEqual([
      { atSeconds: 0, replicas: 6 },
      { atSeconds: 60, replicas: 11 },
      { atSeconds: 120, replicas: 12 },
    ]);
    // A ceiling at or under the target never scales up by CPU.
    expect(scaleUpSteps(3, 12, HPA_SCALE_UP_DEFAULTS, 15, { growthPerStep: 1, measuredAfterSeconds: 50 })).toBeUndefined();
    const r = check({ apps: [{ name: 'web', replicas: 3, hpaMax: 12, cpu: '400m', cpuLimit: '500m' }] }, { ...DEFAULT_OBJECTIVES, scaleOutSeconds: 600 });
    const [all] = r.elasticity?.scenarios ?? [];
    // Measured after pod start 30 + readiness 5 + one metric window 15 = 50 s: the next 15 s sync is at 60 s.
    expect(r.elasticity?.hpas[0].steps).toEqual([{ atSeconds: 0, replicas: 6 }, { atSeconds: 60, replicas: 11 }, { atSeconds: 120, replicas: 12 }]);
    expect(r.elasticity?.hpas[0].growth).toBe('CPU limits 500m / request 400m / target 70 % = ×1.79 per decision, new pods counted 50 s after it');
    expect(all.terms.filter((t) => t.name.startsWith('HPA step')).map((t) => [t.name, t.seconds])).toEqual([['HPA step 1: 3 → 6', 0], ['HPA step 2: 6 → 11', 60], ['HPA step 3: 11 → 12', 60]]);
    // Without a limit (the node's room is the ceiling) only the default policies bind: +4 or 100 % per 15 s.
    const free = check({ apps: [{ name: 'web', replicas: 3, hpaMax: 12, cpu: '400m' }] }, { ...DEFAULT_OBJECTIVES, scaleOutSeconds: 600 });
    expect(free.elasticity?.hpas[0].steps).toEqual([{ atSeconds: 0, replicas: 7 }, { atSeconds: 15, replicas: 12 }]);
  });

  it('a stabilization window adds to the time, and a Disabled scale-up never gets there', () => {
    const slow = check({ apps: [{ name: 'web', replicas: 3, hpaMax: 6, hpaScaleUp: { stabilizationWindowSeconds: 120 } }] });
    expect(slow.elasticity?.scenarios[0].seconds).toBe(185);
    const never = check({ apps: [{ name: 'web', replicas: 3, hpaMax: 6, hpaScaleUp: { selectPolicy: 'Disabled' } }] });
    expect(never.elasticity?.scenarios[0].seconds).toBeNull();
    expect(never.findings.find((f) => f.id === 'elasticity.scale-out-slow')?.message).toContain('never: an HPA has scaleUp.selectPolicy Disabled');
  });

  it('no objective: an info says the estimate is held to nothing; the Markdown shows the peak table', () => {
    const r = check({ apps: [{ name: 'web', replicas: 3, hpaMax: 6 }] }, DEFAULT_OBJECTIVES);
    expect(ids(r)).toEqual([['elasticity.objective-undeclared', 'HPAs at max', 'info']]);
    const md = formatMarkdown(r);
    expect(md).toContain('#### Elasticity (every HPA at its maximum)');
    expect(md).toContain('| Deployment/apps/web | 3 → 6 | 100m / 128Mi | 0.6 CPU / 0.8 GiB | zone spread maxSkew 1 (DoNotSchedule) | 3 → 6 @0s |');
    expect(formatText(r)).toContain('  az-loss:ap-northeast-2a  fits, 65 s');
  });
});
