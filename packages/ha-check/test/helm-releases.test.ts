import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, buildManifestModel, runHaCheck, type AzScenario, type K8sObject } from '../src';
import { pinnedChartVersions } from '../bench/pinned-charts';
import { runCli, writeFixture } from './helpers';

const helmRelease = (name: string, namespace: string, chart: string, values: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'helm.toolkit.fluxcd.io/v2',
  kind: 'HelmRelease',
  metadata: { name, namespace },
  // Pinned as the shipped clusters pin the chart (its stored defaults are that version's).
  spec: { interval: '10m', chart: { spec: { chart, ...(pinnedChartVersions().has(chart) ? { version: pinnedChartVersions().get(chart) } : {}), sourceRef: { kind: 'HelmRepository', name: chart } } }, values },
});

/** The HA fixture plus these HelmReleases in its infrastructure layer. */
function fixtureWith(...releases: Record<string, unknown>[]): ReturnType<typeof writeFixture> {
  const f = writeFixture();
  appendFileSync(join(f.manifests, 'infrastructure', 'resources.yaml'), releases.map((r) => `---\n${dump(r)}`).join(''));
  return f;
}

const check = (f: ReturnType<typeof writeFixture>) => runHaCheck({ terraform: [f.terraform], manifests: f.manifests, objectives: DEFAULT_OBJECTIVES });

const fastEviction = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }));
const zoneSpread = (matchLabels: Record<string, string>) => [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels } }];

/** The shipped Traefik values that matter (packages/k8s-addons ingress-controller.ts). */
const HA_TRAEFIK = {
  deployment: { replicas: 3 },
  autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 9 },
  podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
  instanceLabelOverride: 'traefik',
  resources: { requests: { cpu: '100m', memory: '128Mi' } },
  tolerations: fastEviction,
  topologySpreadConstraints: zoneSpread({ 'app.kubernetes.io/name': 'traefik', 'app.kubernetes.io/instance': 'traefik' }),
};

describe('HelmRelease add-ons are workloads, from their values', () => {
  it('an HA Traefik (3 replicas, HPA, PDB, zone spread) raises nothing and its pods count in the capacity sums', () => {
    const without = check(writeFixture());
    const report = check(fixtureWith(helmRelease('traefik', 'traefik', 'traefik', HA_TRAEFIK)));
    expect(report.findings.filter((x) => x.subject.startsWith('HelmRelease/traefik'))).toEqual([]);
    expect(report.summary.objectivesMet).toBe(true);
    const s = report.scenarios.find((x) => x.id === 'az-loss:ap-northeast-2a') as AzScenario;
    const before = without.scenarios.find((x) => x.id === 'az-loss:ap-northeast-2a') as AzScenario;
    expect(s.workloads.find((w) => w.id === 'HelmRelease/traefik/traefik')).toMatchObject({ replicas: 3, lost: 1, left: 2, canReschedule: true, pdb: 'exhausted', podRtoSeconds: 80 });
    expect(s.capacity.requested.cpuMilli - before.capacity.requested.cpuMilli).toBe(300);
    expect(s.capacity.requested.memoryMiB - before.capacity.requested.memoryMiB).toBe(384);
  });

  it('a single-replica Traefik without spread is flagged: the app\'s ingress is down with its AZ', () => {
    const report = check(fixtureWith(helmRelease('traefik', 'traefik', 'traefik', { ...HA_TRAEFIK, deployment: { replicas: 1 }, autoscaling: { enabled: false }, topologySpreadConstraints: [] })));
    expect(report.findings.find((x) => x.id === 'workload.single-replica')).toMatchObject({ severity: 'error', subject: 'HelmRelease/traefik/traefik' });
    expect(report.summary.objectivesMet).toBe(false);
    const s = report.scenarios.find((x) => x.id === 'az-loss:ap-northeast-2a') as AzScenario;
    expect(s.problems).toContain('HelmRelease/traefik/traefik down until rescheduled');
  });

  it('a spread whose selector does not match the chart\'s pod labels is no spread at all', () => {
    // Without instanceLabelOverride the chart labels pods `instance: traefik-traefik`: this selector matches nothing.
    const { instanceLabelOverride: _dropped, ...values } = HA_TRAEFIK;
    const report = check(fixtureWith(helmRelease('traefik', 'traefik', 'traefik', values)));
    expect(report.findings.find((x) => x.id === 'workload.no-zone-spread')).toMatchObject({ severity: 'warning', subject: 'HelmRelease/traefik/traefik' });
  });

  it('a reconciler outside the data path (Grafana, 1 replica) is a warning, not an AZ-loss error', () => {
    const report = check(fixtureWith(helmRelease('kube-prometheus-stack', 'monitoring', 'kube-prometheus-stack', { grafana: { replicas: 1, tolerations: fastEviction } })));
    expect(report.findings.find((x) => x.subject === 'HelmRelease/monitoring/kube-prometheus-stack:grafana' && x.id === 'workload.single-replica')).toMatchObject({
      severity: 'warning',
      message: 'one replica: losing its AZ takes the workload down until the pod is rescheduled (dashboards only; one replica because users and sessions live in a SQLite file per pod)',
    });
    // Prometheus and Alertmanager at the chart default (1 replica each) are in the alerting path: errors under tolerateAzLoss.
    expect(report.findings.filter((x) => x.severity === 'error').map((x) => x.subject)).toEqual(['HelmRelease/monitoring/kube-prometheus-stack:alertmanager', 'HelmRelease/monitoring/kube-prometheus-stack:prometheus']);
  });

  it('reads each shipped chart\'s replica key (one extractor per chart)', () => {
    const cases: Array<[string, Record<string, unknown>, string, number]> = [
      ['traefik', { deployment: { replicas: 4 } }, 'HelmRelease/kube-system/x', 4],
      ['cluster-autoscaler', { replicaCount: 3 }, 'HelmRelease/kube-system/x', 3],
      ['metrics-server', { replicas: 2 }, 'HelmRelease/kube-system/x', 2],
      ['aws-ebs-csi-driver', { controller: { replicaCount: 5 } }, 'HelmRelease/kube-system/x:controller', 5],
      ['cilium', { operator: { replicas: 3 } }, 'HelmRelease/kube-system/x:operator', 3],
      ['kube-prometheus-stack', { prometheus: { prometheusSpec: { replicas: 2 } } }, 'HelmRelease/kube-system/x:prometheus', 2],
      ['kube-prometheus-stack', { alertmanager: { alertmanagerSpec: { replicas: 3 } } }, 'HelmRelease/kube-system/x:alertmanager', 3],
      ['cloudnative-pg', { replicaCount: 2 }, 'HelmRelease/kube-system/x', 2],
      ['coredns', { replicaCount: 2 }, 'HelmRelease/kube-system/x', 2],
      ['traefik', {}, 'HelmRelease/kube-system/x', 1],
      ['aws-ebs-csi-driver', {}, 'HelmRelease/kube-system/x:controller', 2],
    ];
    for (const [chart, values, id, replicas] of cases) {
      const model = buildManifestModel([helmRelease('x', 'kube-system', chart, values) as K8sObject]);
      expect(model.workloads.find((w) => w.id === id)?.replicas, `${chart} ${JSON.stringify(values)}`).toBe(replicas);
    }
    const ccm = buildManifestModel([helmRelease('ccm', 'kube-system', 'aws-cloud-controller-manager', {}) as K8sObject]);
    expect(ccm.daemonSets).toEqual([{ id: 'HelmRelease/kube-system/ccm', requests: { cpuMilli: 200, memoryMiB: 0 }, tolerations: [
      { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' },
      { key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' },
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
    ], nodeSelector: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'In', values: [''] }] }]);
  });

  it('a chart ha-check has no model for is reported as not analysed, not silently ignored', () => {
    const report = check(fixtureWith(helmRelease('vault', 'vault', 'vault', { server: { ha: { replicas: 3 } } })));
    expect(report.findings.find((x) => x.id === 'addon.chart-not-analysed')).toMatchObject({ severity: 'info', subject: 'HelmRelease/vault/vault (chart vault)' });
  });

  it('a replica count that is not a whole number is bad input (exit 2), naming the release and the value path', async () => {
    const f = fixtureWith(helmRelease('traefik', 'traefik', 'traefik', { deployment: { replicas: 'lots' } }));
    const { code, stderr } = await runCli(['--terraform', f.terraform, '--manifests', f.manifests]);
    expect(code).toBe(2);
    expect(stderr).toBe('ha-check: HelmRelease/traefik/traefik: spec.values.deployment.replicas: expected a whole number ≥ 0, got "lots"\n');
  });
});

describe('the cloud controller as its chart (0.0.10) renders it (issue #13 M2)', () => {
  const template = (values: Record<string, unknown>) => {
    const model = buildManifestModel([helmRelease('ccm', 'kube-system', 'aws-cloud-controller-manager', values) as K8sObject]);
    return model.podTemplates.find((t) => t.id === 'HelmRelease/kube-system/ccm');
  };
  const keys = (t: ReturnType<typeof template>) => (t?.tolerations ?? []).map((x) => x.key);

  it("values without tolerations get the chart's (uninitialized, master, control-plane), not none", () => {
    expect(keys(template({ hostNetworking: true }))).toEqual(['node.cloudprovider.kubernetes.io/uninitialized', 'node-role.kubernetes.io/master', 'node-role.kubernetes.io/control-plane']);
  });

  it('tolerations given replace the list (Helm replaces lists); a nodeSelector merges into the chart\'s (Helm merges maps, null deletes)', () => {
    expect(keys(template({ tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }] }))).toEqual(['node.kubernetes.io/not-ready']);
    expect(template({ nodeSelector: { 'kubernetes.io/os': 'linux' } })?.nodeSelector).toEqual({ 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/os': 'linux' });
    expect(template({ nodeSelector: { 'node-role.kubernetes.io/control-plane': null } })?.nodeSelector).toEqual({});
  });

  it('affinity, topology spread and a priority class in the values are never rendered: the template has none of those keys (its priority class is fixed)', () => {
    const t = template({
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { 'k8s-app': 'aws-cloud-controller-manager' } } }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'nowhere', operator: 'Exists' }] }] } } },
      priorityClassName: 'low',
    });
    expect(t?.spread).toEqual([]);
    expect(t?.nodeAffinityTerms).toEqual([]);
    expect(t?.priorityClassName).toBe('system-node-critical');
  });
});

