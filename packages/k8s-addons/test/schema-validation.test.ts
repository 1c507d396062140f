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
