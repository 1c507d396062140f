/* eslint-disable @typescript-eslint/no-explicit-any -- assertions walk parsed YAML of many shapes */
import { defaultPlatform, INGRESS_HEALTH_CHECK_PATH, INGRESS_NODE_PORTS, loadPlatform, platformInput, SCALE_DAY_CPU_CONSUMER, scaleDayProfileOf } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  addOnContext,
  AddOnRegistry,
  defaultAddOns,
  FAST_EVICTION_SECONDS,
  haScalingProblem,
  IngressController,
  podsPerZone,
  SampleWebService,
  synthClusterTree,
  TRAEFIK_RELEASE,
  type ClusterTree,
} from '../src';

const platform = defaultPlatform();
const clusters = platform.clusters.map((c) => c.name);
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec: Record<string, any> };
const trees = new Map<string, ClusterTree>();
const treeOf = (cluster: string) => {
  if (!trees.has(cluster)) trees.set(cluster, synthClusterTree(platform, cluster));
  return trees.get(cluster)!;
};
const parse = (content: string | undefined): Obj[] => (content === undefined ? [] : parseAllDocuments(content).map((d) => d.toJS() as Obj));
const objects = (cluster: string, file: string) => parse(treeOf(cluster)[file]);
const only = (objs: Obj[], kind: string) => {
  const found = objs.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};
const traefik = (cluster: string) => only(objects(cluster, 'infrastructure/controllers/traefik.yaml'), 'HelmRelease');

/** Pods per zone when `replicas` are placed one at a time into the emptiest zone (what maxSkew 1 forces). */
function spreadMaxPerZone(replicas: number, zones: number): number {
  const counts = new Array<number>(zones).fill(0);
  for (let i = 0; i < replicas; i++) counts[counts.indexOf(Math.min(...counts))]!++;
  return Math.max(...counts);
}

describe('IngressController (Traefik)', () => {
  it.each(clusters)('%s: NodePort Service on exactly platform-config INGRESS_NODE_PORTS, externalTrafficPolicy Cluster', (cluster) => {
    const v = traefik(cluster).spec.values;
    expect(v.service.type).toBe('NodePort');
    expect(v.service.spec.externalTrafficPolicy).toBe('Cluster');
    expect(v.ports.web.nodePort).toBe(INGRESS_NODE_PORTS.http);
    expect(v.ports.websecure.nodePort).toBe(INGRESS_NODE_PORTS.https);
    expect([v.ports.web.exposedPort, v.ports.websecure.exposedPort]).toEqual([80, 443]);
  });

  it.each(clusters)('%s: /ping answers on the web entrypoint (the NLB health check) and the probes use it', (cluster) => {
    const v = traefik(cluster).spec.values;
    expect(v.additionalArguments).toContain('--ping.entrypoint=web');
    // Traefik serves ping at the fixed path /ping: the path aws-cluster's NLB and Route 53 checks request.
    expect(INGRESS_HEALTH_CHECK_PATH).toBe('/ping');
    // The chart points readiness/liveness at deployment.healthchecksPort with path /ping.
    expect(v.deployment.healthchecksPort).toBe(v.ports.web.port);
    expect(v.deployment.readinessPath ?? '').toBe('');
  });

  it.each(clusters)('%s: replicas and HPA minimum ≥ AZs, HPA can scale out, requests set', (cluster) => {
    const zones = platform.cluster(cluster).availabilityZones.length;
    const v = traefik(cluster).spec.values;
    expect(v.autoscaling.enabled).toBe(true);
    expect(v.autoscaling.minReplicas).toBeGreaterThanOrEqual(zones);
    expect(v.deployment.replicas).toBeGreaterThanOrEqual(zones);
    expect(v.autoscaling.maxReplicas).toBeGreaterThan(v.autoscaling.minReplicas);
    expect(v.autoscaling.metrics[0].resource).toEqual({ name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } });
    expect(v.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
  });

  it.each(clusters)('%s: zone spread (maxSkew 1, DoNotSchedule) plus hostname ScheduleAnyway, selecting the chart’s pods', (cluster) => {
    const v = traefik(cluster).spec.values;
    const podLabels = { 'app.kubernetes.io/name': 'traefik', 'app.kubernetes.io/instance': v.instanceLabelOverride };
    expect(v.instanceLabelOverride).toBe(TRAEFIK_RELEASE.name);
    const [zone, host] = v.topologySpreadConstraints;
    expect(zone).toEqual({ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: podLabels } });
    expect(host).toMatchObject({ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: podLabels } });
    expect(v.affinity).toBeUndefined();
  });

  it.each(clusters)('%s: the PDB lets one zone’s pods go (at the HPA minimum) and keeps at least one', (cluster) => {
    const zones = platform.cluster(cluster).availabilityZones.length;
    const v = traefik(cluster).spec.values;
    expect(v.podDisruptionBudget.enabled).toBe(true);
    expect(v.podDisruptionBudget.minAvailable).toBeUndefined();
    expect(v.podDisruptionBudget.maxUnavailable).toBeGreaterThanOrEqual(spreadMaxPerZone(v.autoscaling.minReplicas, zones));
    expect(v.podDisruptionBudget.maxUnavailable).toBeLessThan(v.autoscaling.minReplicas);
  });

  it.each(clusters)('%s: leaves dead nodes after the package’s short toleration, not the 300 s default', (cluster) => {
    const v = traefik(cluster).spec.values;
    expect(v.tolerations).toEqual(
      ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: FAST_EVICTION_SECONDS })),
    );
    expect(FAST_EVICTION_SECONDS).toBe(30);
  });

  it('is a pinned chart in the infra-controllers layer, after the CNI, cloud controller (zone labels) and metrics-server (HPA)', () => {
    const objs = objects('production', 'infrastructure/controllers/traefik.yaml');
    const hr = only(objs, 'HelmRelease');
    expect(hr.metadata).toMatchObject({ name: 'traefik', namespace: 'traefik' });
    expect(hr.spec.chart.spec).toMatchObject({ chart: 'traefik', version: TRAEFIK_RELEASE.version, sourceRef: { kind: 'HelmRepository', name: 'traefik', namespace: 'flux-system' } });
    expect(TRAEFIK_RELEASE.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(only(objs, 'HelmRepository').spec.url).toBe('https://traefik.github.io/charts');
    expect(only(objs, 'Namespace').metadata.name).toBe('traefik');
    expect(hr.spec.dependsOn).toEqual([
      { name: 'cilium', namespace: 'kube-system' },
      { name: 'aws-cloud-controller-manager', namespace: 'kube-system' },
      { name: 'metrics-server', namespace: 'kube-system' },
    ]);
    expect(hr.spec.values.ingressClass).toEqual({ enabled: true, isDefaultClass: true, name: 'traefik' });
    expect(hr.spec.values.providers.kubernetesIngress.enabled).toBe(true);
    expect(new IngressController().layer).toBe('infra-controllers');
  });

  it('follows minReplicas: maxReplicas 3×, PDB budget one zone’s pods', () => {
    const ctx = addOnContext(platform, 'production');
    const tree = new AddOnRegistry([...defaultAddOns().filter((a) => a.id !== 'traefik'), new IngressController({ minReplicas: 7 })]).synth(ctx);
    const v = only(parse(tree['infrastructure/controllers/traefik.yaml']), 'HelmRelease').spec.values;
    expect(v.autoscaling).toMatchObject({ minReplicas: 7, maxReplicas: 21 });
    expect(v.podDisruptionBudget.maxUnavailable).toBe(spreadMaxPerZone(7, 3));
    expect(spreadMaxPerZone(7, 3)).toBe(3);
  });

  describe('validation', () => {
    const ctx = addOnContext(platform, 'production');
    it.each([
      [{ minReplicas: 2 }, 'traefik: minReplicas is 2; expected a whole number ≥ 3 (one per Availability Zone)'],
      [{ maxReplicas: 3 }, 'traefik: maxReplicas is 3; expected more than minReplicas (3) so the HPA can scale out'],
      [{ maxReplicas: 2 }, 'traefik: maxReplicas is 2; expected a whole number ≥ minReplicas (3)'],
      [{ maxUnavailable: 0 }, "traefik: maxUnavailable is 0; expected 1 (one zone's pods at minReplicas 3 over 3 zones) to 2"],
      [{ maxUnavailable: 3 }, "traefik: maxUnavailable is 3; expected 1 (one zone's pods at minReplicas 3 over 3 zones) to 2"],
      [{ minReplicas: 6, maxUnavailable: 1 }, "traefik: maxUnavailable is 1; expected 2 (one zone's pods at minReplicas 6 over 3 zones) to 5"],
      [{ tolerationSeconds: 0 }, 'traefik: tolerationSeconds is 0; expected 1 to 300 seconds'],
      [{ targetCpuPercent: 99 }, 'traefik: targetCpuPercent is 99; expected 10 to 95'],
      [{ cpuMillis: 5 }, 'traefik: cpuMillis is 5; expected a whole number of millicores ≥ 10'],
      [{ memoryMebibytes: 16 }, 'traefik: memoryMebibytes is 16; expected a whole number of MiB ≥ 32'],
    ])('rejects %j', (overrides, message) => {
      expect(() => new IngressController(overrides).validate(ctx)).toThrow(message);
    });

    it('keeps two pods and one through a drain on a single-AZ cluster', () => {
      const single = addOnContext(platform, { ...platform.cluster('staging'), availabilityZones: ['ap-northeast-2a'] });
      const props = new IngressController().props(single);
      expect(props.minReplicas).toBe(2);
      expect(() => new IngressController().validate(single)).not.toThrow();
      expect(() => new IngressController({ minReplicas: 1 }).validate(single)).toThrow('traefik: minReplicas is 1; expected at least 2 (one pod is an outage on every node drain)');
    });
  });
});

describe('sample web Ingress', () => {
  it.each(clusters)('%s: routes platform-config’s app hostname to the sample web Service through the Traefik class', (cluster) => {
    const objs = objects(cluster, 'apps/sample-web.yaml');
    const service = only(objs, 'Service');
    const ingress = objs.find((o) => o.kind === 'Ingress' && o.metadata.name === service.metadata.name)!;
    expect(ingress.apiVersion).toBe('networking.k8s.io/v1');
    expect(ingress.metadata.namespace).toBe(service.metadata.namespace);
    expect(ingress.spec.ingressClassName).toBe(traefik(cluster).spec.values.ingressClass.name);
    expect(platform.names.appHostname).toBe(`${platform.settings.dns!.appRecord}.${platform.settings.dns!.hostedZoneName}`);
    const [rule] = ingress.spec.rules;
    expect(ingress.spec.rules).toHaveLength(1);
    expect(rule.host).toBe(platform.names.appHostname);
    // Every path of the public name goes to the app, on every entrypoint (no annotation), also where the pod carries the CPU consumer.
    const cpu = scaleDayProfileOf(platform.cluster(cluster)).cpuConsumer;
    expect((ingress.metadata as { annotations?: object }).annotations).toBeUndefined();
    expect(rule.http.paths).toEqual([{ path: '/', pathType: 'Prefix', backend: { service: { name: service.metadata.name, port: { number: service.spec.ports[0].port } } } }]);
    expect(objs.filter((o) => o.kind === 'Ingress')).toHaveLength(cpu ? 2 : 1);
    expect(service.spec.ports[0]).toMatchObject({ name: 'http', port: 80 });
    if (cpu) expect(service.spec.ports[1]).toEqual({ name: 'cpu', port: SCALE_DAY_CPU_CONSUMER.port, targetPort: SCALE_DAY_CPU_CONSUMER.port });
    else expect(service.spec.ports).toHaveLength(1);
  });

  it('the controller is in infra-controllers, the Ingress in apps, which Flux applies after it', () => {
    const tree = treeOf('production');
    const kinds = (path: string) => parse(tree[path]).map((o) => o.kind);
    expect(kinds('infrastructure/controllers/traefik.yaml')).toContain('HelmRelease');
    expect(kinds('apps/sample-web.yaml')).toContain('Ingress');
    expect(Object.entries(tree).filter(([path, content]) => !path.startsWith('apps/') && /kind: Ingress\n/.test(content))).toEqual([]);
    const layers = parse(tree['flux-system/flux-layers.yaml']);
    const dependsOn = (name: string): string[] => layers.find((k) => k.metadata.name === name)?.spec.dependsOn?.map((d: { name: string }) => d.name) ?? [];
    const upstream = (name: string): string[] => dependsOn(name).flatMap((d) => [d, ...upstream(d)]);
    expect(upstream('apps')).toContain('infra-controllers');
    expect(new SampleWebService().dependencies).toContain(IngressController);
    const ids = new AddOnRegistry(defaultAddOns().reverse()).ordered().map((a) => a.id);
    expect(ids.indexOf('traefik')).toBeLessThan(ids.indexOf('sample-web'));
    expect(ids.indexOf('metrics-server')).toBeLessThan(ids.indexOf('traefik'));
  });

  it('no Ingress when the platform has no DNS settings', () => {
    // Regional failover needs the hosted zone, so a platform without DNS has no failover (nor a regional RTO) either.
    const clusters = platformInput.clusters.map((c) => ({ ...c, apiEndpoint: { ...c.apiEndpoint, dnsRecord: false }, failover: undefined, objectives: c.objectives && { ...c.objectives, tolerateRegionLoss: false, regionRtoSeconds: undefined } }));
    const noDns = loadPlatform({ settings: { ...platformInput.settings, dns: undefined }, clusters });
    expect(noDns.names.appHostname).toBeUndefined();
    const objs = parse(synthClusterTree(noDns, 'production')['apps/sample-web.yaml']);
    expect(objs.some((o) => o.kind === 'Service')).toBe(true);
    expect(objs.filter((o) => o.kind === 'Ingress')).toEqual([]);
  });

  it('turns the Ingress off with hostname: null (undefined keeps the default, like every override)', () => {
    const withHostname = (addOn: SampleWebService) =>
      parse(new AddOnRegistry([...defaultAddOns().filter((a) => a.id !== 'sample-web'), addOn]).synth(addOnContext(platform, 'production'))['apps/sample-web.yaml']);
    expect(withHostname(new SampleWebService({ hostname: null })).filter((o) => o.kind === 'Ingress')).toEqual([]);
    expect(withHostname(new SampleWebService({ hostname: undefined })).filter((o) => o.kind === 'Ingress')).toHaveLength(1);
    expect(withHostname(new SampleWebService({ hostname: 'web.example.org' })).find((o) => o.kind === 'Ingress')!.spec.rules[0].host).toBe('web.example.org');
  });

  it('rejects a hostname that is not a DNS name', () => {
    expect(() => new SampleWebService({ hostname: 'App_Host' }).validate(addOnContext(platform, 'dr'))).toThrow('sample-web: hostname is "App_Host"; expected a lower-case DNS name such as app.example.com');
  });

  it('fails the registry without the controller it depends on', () => {
    const addOns = defaultAddOns().filter((a) => a.id !== 'traefik');
    expect(() => new AddOnRegistry(addOns).synth(addOnContext(platform, 'staging'))).toThrow('sample-web depends on IngressController, which is not registered; expected it in the registry');
  });
});

describe('HA scaling helpers', () => {
  it('podsPerZone is what a maxSkew-1 spread puts in the fullest zone', () => {
    for (const [replicas, zones] of [[3, 3], [4, 3], [6, 3], [7, 3], [2, 1], [5, 2]] as const) {
      expect(podsPerZone(replicas, zones), `${replicas} over ${zones}`).toBe(spreadMaxPerZone(replicas, zones));
    }
  });

  it('haScalingProblem names the first wrong value', () => {
    const ok = { zones: 3, minReplicas: 3, maxReplicas: 9, tolerationSeconds: 30, targetCpuPercent: 70 };
    expect(haScalingProblem(ok)).toBeUndefined();
    expect(haScalingProblem({ ...ok, zones: 0 })).toEqual({ prop: 'availabilityZones', value: [], expected: 'expected at least one zone' });
    expect(haScalingProblem({ ...ok, minReplicas: 2.5 })?.prop).toBe('minReplicas');
    expect(haScalingProblem({ ...ok, tolerationSeconds: 301 })?.prop).toBe('tolerationSeconds');
  });
});
