import { defaultPlatform } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { synthClusterTree } from '../src';
import { coreStructuralSchema, crdValidators, goRegExp, patchTargetApiVersion, rejectUndeclaredFields, validateObject } from './schemas';

const platform = defaultPlatform();
const crds = crdValidators();

describe('schema validation', () => {
  it('translates Go inline flags into RegExp flags', () => {
    expect(goRegExp('(?i)^[a-z]+$').test('ABC')).toBe(true);
    expect(goRegExp('^(?i)(abort|warn)?$').test('Warn')).toBe(true);
    expect(goRegExp('^[a-z]+$').test('ABC')).toBe(false);
  });

  it('fails an object whose kind has no schema, and a wrong field of a CRD kind', () => {
    expect(validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } }, crds)).toEqual(['no schema for example.com/v1 Widget']);
    const bad = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name: 'x' }, spec: { interval: 'soon', prune: 'yes' } };
    expect(validateObject(bad, crds).length).toBeGreaterThan(0);
    expect(validateObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'three' } }, crds).length).toBeGreaterThan(0);
  });

  it('rejects a field a CRD does not declare, as server-side apply does, but not under x-kubernetes-preserve-unknown-fields', () => {
    const kustomization = {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'apps', namespace: 'flux-system' },
      spec: { interval: '5m', prune: true, sourceRef: { kind: 'GitRepository', name: 'flux-system' } },
    };
    expect(validateObject(kustomization, crds)).toEqual([]);
    expect(validateObject({ ...kustomization, spec: { ...kustomization.spec, intervall: '1m' } }, crds)).toEqual(['/spec must NOT have additional properties: intervall']);
    expect(validateObject({ ...kustomization, spec: { ...kustomization.spec, sourceRef: { ...kustomization.spec.sourceRef, namepsace: 'x' } } }, crds)).toEqual([
      '/spec/sourceRef must NOT have additional properties: namepsace',
    ]);
    // Chart values are free-form (preserve-unknown-fields): any key is fine.
    const release = { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: 'x' }, spec: { interval: '5m', chartRef: { kind: 'OCIRepository', name: 'x' }, values: { any: { key: 1 } } } };
    expect(validateObject(release, crds)).toEqual([]);
  });

  it('rejects a field a core kind does not declare, at any depth, as server-side apply does', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', labels: { 'app.kubernetes.io/name': 'x' }, annotations: { 'any/key': 'v' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'x' } },
        strategy: { rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
        template: {
          metadata: { labels: { app: 'x' } },
          spec: { containers: [{ name: 'x', image: 'x:1', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '100m', 'example.com/gpu': 1 } } }] },
        },
      },
    };
    expect(validateObject(deployment, crds)).toEqual([]);
    expect(validateObject({ ...deployment, spec: { ...deployment.spec, replica: 2 } }, crds)).toEqual(['/spec must NOT have additional properties: replica']);
    expect(validateObject({ ...deployment, metadata: { ...deployment.metadata, annotation: { a: 'b' } } }, crds)).toEqual(['/metadata must NOT have additional properties: annotation']);
    const container = { ...deployment.spec.template.spec.containers[0], ports: [{ containerPort: 80, protocoll: 'TCP' }] };
    const badContainer = { ...deployment, spec: { ...deployment.spec, template: { ...deployment.spec.template, spec: { containers: [container] } } } };
    expect(validateObject(badContainer, crds)).toEqual(['/spec/template/spec/containers/0/ports/0 must NOT have additional properties: protocoll']);
    // Maps (data, labels) take any key.
    expect(validateObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { 'any.key': 'v' } }, crds)).toEqual([]);
    const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'x' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'x' } } } };
    expect(validateObject(pdb, crds)).toEqual([]);
    expect(validateObject({ ...pdb, spec: { ...pdb.spec, unhealthyPodEvictionPolice: 'AlwaysAllow' } }, crds)).toEqual([
      '/spec must NOT have additional properties: unhealthyPodEvictionPolice',
    ]);
  });

  it('reads a core kind\'s structural schema from kubernetes-models: closed objects, maps, and open IntOrString and free-form fields', () => {
    const schema = rejectUndeclaredFields(coreStructuralSchema('apps/v1', 'Deployment')!);
    const definitions = schema.definitions as Record<string, { properties: Record<string, unknown>; additionalProperties?: unknown }>;
    const meta = Object.values(definitions).find((d) => 'annotations' in d.properties && 'ownerReferences' in d.properties)!;
    expect(meta.additionalProperties).toBe(false);
    expect(meta.properties.labels).toEqual({ additionalProperties: {} });
    const rollingUpdate = Object.values(definitions).find((d) => 'maxSurge' in d.properties)!;
    expect(rollingUpdate.properties.maxSurge).toEqual({});
    const managedFields = Object.values(definitions).find((d) => 'fieldsV1' in d.properties)!;
    expect(managedFields.properties.fieldsV1).toEqual({});
    expect(coreStructuralSchema('apps/v1', 'Widget')).toBeUndefined();
    expect(coreStructuralSchema('example.com/v1', 'Deployment')).toBeUndefined();
    expect(validateObject({ apiVersion: 'apps/v1', kind: 'Widget', metadata: { name: 'x' } }, crds)).toEqual(['no schema for apps/v1 Widget']);
  });

  it('checks the fields of kustomize patches on core kinds, which their carrier\'s schema sees only as a string', () => {
    expect(patchTargetApiVersion({ kind: 'Deployment' })).toBe('apps/v1');
    expect(patchTargetApiVersion({ kind: 'HorizontalPodAutoscaler' })).toBe('autoscaling/v2');
    expect(patchTargetApiVersion({ group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler' })).toBe('autoscaling/v1');
    expect(patchTargetApiVersion({ group: '', kind: 'Service' })).toBe('v1');
    expect(patchTargetApiVersion({ kind: 'HelmRelease' })).toBeUndefined();
    const release = (patches: unknown[]) => ({
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: 'x' },
      spec: { interval: '5m', chartRef: { kind: 'OCIRepository', name: 'x' }, postRenderers: [{ kustomize: { patches } }] },
    });
    const jsonPatch = (ops: unknown[]) => ({ target: { kind: 'Deployment', name: 'x' }, patch: JSON.stringify(ops) });
    const good = [
      jsonPatch([
        { op: 'add', path: '/spec/template/spec/hostNetwork', value: true },
        { op: 'add', path: '/spec/template/spec/tolerations/-', value: { key: 'k', operator: 'Exists', tolerationSeconds: 30 } },
        { op: 'remove', path: '/spec/template/spec/whatever' },
      ]),
      { target: { kind: 'Deployment' }, patch: 'spec:\n  template:\n    spec:\n      $setElementOrder/containers: [{name: x}]\n      containers: [{name: x, $patch: delete}]\n' },
      { target: { kind: 'Widget' }, patch: 'spec:\n  anything: 1\n' },
    ];
    expect(validateObject(release(good), crds)).toEqual([]);
    expect(validateObject(release([jsonPatch([{ op: 'add', path: '/spec/template/spec/hostNetwrk', value: true }])]), crds)).toEqual([
      '/spec/postRenderers/0/kustomize/patches/0/patch (apps/v1 Deployment): /spec/template/spec must NOT have additional properties: hostNetwrk',
    ]);
    expect(validateObject(release([jsonPatch([{ op: 'replace', path: '/spec/template/spec/tolerations/0', value: { key: 'k', tolerationSecond: 30 } }])]), crds)).toEqual([
      '/spec/postRenderers/0/kustomize/patches/0/patch (apps/v1 Deployment): /spec/template/spec/tolerations/0 must NOT have additional properties: tolerationSecond',
    ]);
    expect(validateObject(release([{ target: { kind: 'Deployment' }, patch: 'spec:\n  replica: 2\n' }]), crds)).toEqual([
      '/spec/postRenderers/0/kustomize/patches/0/patch (apps/v1 Deployment): /spec must NOT have additional properties: replica',
    ]);
  });

  it.each(platform.clusters.map((c) => c.name))('every object of %s validates against its real schema', (cluster) => {
    const tree = synthClusterTree(platform, cluster);
    const problems: string[] = [];
    let count = 0;
    for (const [path, content] of Object.entries(tree)) {
      if (path.endsWith('kustomization.yaml')) continue;
      for (const doc of parseAllDocuments(content)) {
        const object = doc.toJS() as Record<string, unknown>;
        count++;
        const meta = object.metadata as { name?: string } | undefined;
        problems.push(...validateObject(object, crds).map((p) => `${path} ${String(object.kind)}/${meta?.name}: ${p}`));
      }
    }
    expect(problems).toEqual([]);
    expect(count).toBeGreaterThan(30);
  });
});
