import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuConsumerImageRef, cpuConsumerMemoryLimitMiB, cpuConsumerTagRef, defaultPlatform, SCALE_DAY_CPU_CONSUMER, SCALE_DAY_IMAGE_LOCK_FILE, SCALE_DAY_INGRESS, scaleDayProfileOf, type Platform } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { addOnContext, SampleWebService, synthClusterTree } from '../src';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
const platform = defaultPlatform();
const web = (cluster: string): Obj[] => parseAllDocuments(synthClusterTree(platform, cluster)['apps/sample-web.yaml']!).map((d) => d.toJS());
/** What the lock renders: `:tag@digest` once resolved, the tag alone before (scale-day-image-lock.json). */
const RENDERED = cpuConsumerImageRef();
const PLACEHOLDER = `${cpuConsumerTagRef()}@sha256:${'0'.repeat(64)}`;

describe('the sample web app\'s CPU-costly request (scale day)', () => {
  it('staging\'s web pod carries the CPU consumer, as the image lock has it (never a placeholder digest), limited, unprivileged; its CPU counts in the pod\'s HPA utilisation', () => {
    const objs = web('staging');
    const pod = objs.find((o) => o.kind === 'Deployment').spec.template.spec;
    expect(pod.containers.map((c: Obj) => c.name)).toEqual(['web', 'cpu-consumer']);
    const consumer = pod.containers[1];
    expect(consumer).toMatchObject({
      image: RENDERED,
      imagePullPolicy: 'IfNotPresent',
      args: ['--port=8081'],
      ports: [{ containerPort: 8081, name: 'cpu' }],
      resources: { requests: { cpu: '400m', memory: '32Mi' }, limits: { cpu: '1500m', memory: `${cpuConsumerMemoryLimitMiB(scaleDayProfileOf(platform.cluster('staging')).rate, 3)}Mi` } },
      securityContext: { runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    });
    // The HPA's Resource utilisation is the pod's usage over the sum of its containers' requests: both have one.
    expect(pod.containers.every((c: Obj) => c.resources.requests.cpu)).toBe(true);
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    // One consume-cpu process per request for durationSec: 48 req/s on 3 pods, doubled for skew, 8 MiB each, plus the server (64 MiB held 6).
    expect(cpuConsumerMemoryLimitMiB(48, 3)).toBe(272);
    expect(objs.find((o) => o.kind === 'HorizontalPodAutoscaler').spec.minReplicas).toBe(3);
  });

  it('POST /ConsumeCPU is routed only on the ingress controller\'s internal entrypoint, never through the NLB; the public name never reaches the consumer', () => {
    const objs = web('staging');
    const service = objs.find((o) => o.kind === 'Service');
    const ingresses = objs.filter((o) => o.kind === 'Ingress');
    const publicRoute = ingresses.find((o) => o.metadata.name === service.metadata.name);
    const cpu = ingresses.find((o) => o.metadata.name === `${service.metadata.name}-cpu`);
    // The public Ingress: `/` (Prefix) to the app's http port, nothing to the consumer's port.
    expect(publicRoute.spec.rules[0].http.paths).toEqual([{ path: '/', pathType: 'Prefix', backend: { service: { name: service.metadata.name, port: { number: 80 } } } }]);
    expect(JSON.stringify(publicRoute)).not.toContain(String(SCALE_DAY_CPU_CONSUMER.port));
    // The CPU route: its own entrypoint only, the same host, the consumer's port.
    expect(cpu.metadata.annotations).toEqual({ 'traefik.ingress.kubernetes.io/router.entrypoints': SCALE_DAY_INGRESS.entrypoint });
    expect(cpu.spec.rules).toEqual([{ host: platform.names.appHostname, http: { paths: [{ path: '/ConsumeCPU', pathType: 'Exact', backend: { service: { name: service.metadata.name, port: { number: SCALE_DAY_CPU_CONSUMER.port } } } }] } }]);
    // The entrypoint exists only on the internal ClusterIP Service: not on the NodePort Service the NLB targets.
    const traefik = parseAllDocuments(synthClusterTree(platform, 'staging')['infrastructure/controllers/traefik.yaml']!).map((d) => d.toJS()).find((o) => o.kind === 'HelmRelease');
    const { ports, service: svc } = traefik.spec.values;
    expect(ports[SCALE_DAY_INGRESS.entrypoint]).toMatchObject({ port: SCALE_DAY_INGRESS.port, exposedPort: SCALE_DAY_INGRESS.port, expose: { default: false, internal: true } });
    expect(ports[SCALE_DAY_INGRESS.entrypoint].nodePort).toBeUndefined();
    expect(svc.additionalServices).toEqual({ internal: { type: 'ClusterIP' } });
    expect(SCALE_DAY_INGRESS.service).toBe(`${traefik.spec.releaseName ?? traefik.metadata.name}-internal`);
    expect(SCALE_DAY_INGRESS.namespace).toBe(traefik.spec.targetNamespace ?? traefik.metadata.namespace);
    for (const cluster of ['production', 'dr']) {
      const values = parseAllDocuments(synthClusterTree(platform, cluster)['infrastructure/controllers/traefik.yaml']!).map((d) => d.toJS()).find((o) => o.kind === 'HelmRelease').spec.values;
      expect(values.ports[SCALE_DAY_INGRESS.entrypoint]).toBeUndefined();
      expect(values.service.additionalServices).toBeUndefined();
      expect(web(cluster).filter((o) => o.kind === 'Ingress').map((o) => o.kind)).toEqual(['Ingress']);
    }
  });

  it('clusters whose scale-day profile does not use it keep one container and no test route on their public name', () => {
    for (const cluster of ['production', 'dr']) {
      expect(scaleDayProfileOf(platform.cluster(cluster)).cpuConsumer).toBe(false);
      expect(web(cluster).find((o) => o.kind === 'Deployment').spec.template.spec.containers).toHaveLength(1);
    }
  });

  it('the HPA may go to its maximum in one 15 s step (scale-down keeps its stabilization)', () => {
    const hpa = web('staging').find((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(hpa.spec.behavior.scaleUp).toEqual({
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Percent', value: 100, periodSeconds: 15 },
        { type: 'Pods', value: hpa.spec.maxReplicas - hpa.spec.minReplicas, periodSeconds: 15 },
      ],
    });
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
  });

  it('refuses the unresolved tag and the placeholder digest on a platform that is applied, and an image not pinned by digest (exact messages)', () => {
    const applied = { ...platform, settings: { ...platform.settings, example: false } } as Platform;
    const ctx = { ...addOnContext(platform, 'staging'), platform: applied };
    if (SCALE_DAY_CPU_CONSUMER.digest === null) {
      expect(() => new SampleWebService().validate(ctx)).toThrow(`sample-web: cpuConsumerImage is "${cpuConsumerTagRef()}"; expected the digest pinned (npm run pipeline:image-lock -- --write resolves ${cpuConsumerTagRef()} through its registry into ${SCALE_DAY_IMAGE_LOCK_FILE}), not the tag alone, while settings.example is false (a platform that is applied)`);
    } else expect(() => new SampleWebService().validate(ctx)).not.toThrow();
    expect(() => new SampleWebService({ cpuConsumerImage: PLACEHOLDER }).validate(ctx)).toThrow(`sample-web: cpuConsumerImage is "${PLACEHOLDER}"; expected the real digest (npm run pipeline:image-lock -- --write resolves ${cpuConsumerTagRef()}), not the placeholder, while settings.example is false (a platform that is applied)`);
    expect(() => new SampleWebService().validate(addOnContext(platform, 'staging'))).not.toThrow();
    expect(() => new SampleWebService({ cpuConsumerImage: `${SCALE_DAY_CPU_CONSUMER.repository}:1.12` }).validate(addOnContext(platform, 'staging'))).toThrow(
      `sample-web: cpuConsumerImage is "${SCALE_DAY_CPU_CONSUMER.repository}:1.12"; expected an image pinned by tag and digest: <repository>:<tag>@sha256:<64 hex digits>`,
    );
  });

  it('ships no placeholder a node would try to pull: the committed staging manifest names the lock\'s image', () => {
    const committed = readFileSync(join(__dirname, '../../../clusters/staging/apps/sample-web.yaml'), 'utf8');
    expect(committed).not.toMatch(/@sha256:0{64}/);
    expect(committed).toContain(`image: ${RENDERED}\n`);
  });
});
