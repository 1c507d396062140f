import { defaultPlatform } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { synthClusterTree } from '../src';
import { crdValidators, goRegExp, validateObject } from './schemas';

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
