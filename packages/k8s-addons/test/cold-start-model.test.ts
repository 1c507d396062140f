import { describe, expect, it } from 'vitest';
import { ColdStartModel, daemonSetTolerations, freshNode, tolerates, type PodTemplate } from './support/cold-start-model';

/** A Deployment with nothing but what a case sets. */
const deployment = (over: Partial<PodTemplate>): PodTemplate => ({
  workload: 'app',
  kind: 'Deployment',
  replicas: 1,
  labels: { app: 'app' },
  hostNetwork: true,
  hostPorts: [],
  nodeSelector: {},
  requiredNodeTerms: [],
  antiAffinity: [],
  tolerations: [{ operator: 'Exists' }],
  spread: [],
  ...over,
});

describe('the cold-start model follows Kubernetes semantics', () => {
  it('matches tolerations as the API does: empty key with Exists tolerates all, Equal compares the value, an effect narrows', () => {
    const taint = { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' as const };
    expect(tolerates([{ operator: 'Exists' }], taint)).toBe(true);
    expect(tolerates([{ key: taint.key, value: 'true' }], taint)).toBe(true);
    expect(tolerates([{ key: taint.key, value: 'false' }], taint)).toBe(false);
    expect(tolerates([{ key: taint.key, operator: 'Exists', effect: 'NoExecute' }], taint)).toBe(false);
  });

  it('gives DaemonSet pods not-ready NoExecute but not NoSchedule, and network-unavailable only with the host network', () => {
    const notReadySchedule = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' as const };
    expect(tolerates(daemonSetTolerations(true), notReadySchedule)).toBe(false);
    expect(tolerates(daemonSetTolerations(true), { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' })).toBe(true);
    const networkUnavailable = { key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' as const };
    expect([tolerates(daemonSetTolerations(true), networkUnavailable), tolerates(daemonSetTolerations(false), networkUnavailable)]).toEqual([true, false]);
  });

  it('a DoNotSchedule zone spread rejects a node without the zone label; ScheduleAnyway only scores', () => {
    const spread = (whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway') => [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable, labelSelector: { matchLabels: { app: 'app' } } }];
    const hard = new ColdStartModel([freshNode('cp-a', 'zone-a', 'control-plane')]);
    hard.install([deployment({ spread: spread('DoNotSchedule') })]);
    hard.settle();
    expect(hard.pending()).toEqual([{ pod: 'app#1', reasons: ["cp-a: didn't match pod topology spread constraints (missing required label)"] }]);
    const soft = new ColdStartModel([freshNode('cp-a', 'zone-a', 'control-plane')]);
    soft.install([deployment({ spread: spread('ScheduleAnyway') })]);
    soft.settle();
    expect(soft.running('app').map((p) => p.node)).toEqual(['cp-a']);
  });

  it('a pod without the host network is placed on a NotReady node but runs only once the CNI is ready', () => {
    const model = new ColdStartModel([freshNode('cp-a', 'zone-a', 'control-plane')]);
    model.install([deployment({ hostNetwork: false })]);
    model.settle();
    expect(model.events).toEqual(['scheduled app#1 on cp-a (waits for the CNI)']);
    expect(model.running('app')).toEqual([]);
  });
});
