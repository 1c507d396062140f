import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { AddOnValidationError, defaultAddOns, SampleWebService, type AddOn, type AddOnContext } from '@platform/k8s-addons';
import { defaultPlatform, loadPlatform, platformInput, PlatformConfigError } from '@platform/platform-config';
import { hashTree } from '@platform/synth-kit';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLUSTERS_DIR, synthClusters } from '../src/main';

let first: string;

beforeAll(async () => {
  first = mkdtempSync(join(tmpdir(), 'gitops-a-'));
  await synthClusters(join(first, 'clusters'));
});

function folders(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    out.push(dir);
    for (const e of readdirSync(dir)) if (statSync(join(dir, e)).isDirectory()) walk(join(dir, e));
  };
  for (const cluster of readdirSync(root)) walk(join(root, cluster));
  return out;
}

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> };

function objectsOf(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
}

describe('synthClusters', () => {
  it('renders Flux notifications for every cluster: the infra-configs layer applies a commit-status and an Alertmanager Provider with their Alerts', () => {
    for (const cluster of defaultPlatform().clusters.map((c) => c.name)) {
      const objects = objectsOf(join(first, 'clusters', cluster, 'infrastructure', 'configs')).filter((o) => o.apiVersion === 'notification.toolkit.fluxcd.io/v1beta3');
      expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), cluster).toEqual(['Alert/commit-status', 'Alert/reconcile-failures', 'Provider/alertmanager', 'Provider/github-commit-status']);
    }
  });

  it('is deterministic and equals the committed clusters/', async () => {
    const second = mkdtempSync(join(tmpdir(), 'gitops-b-'));
    await synthClusters(join(second, 'clusters'));
    const a = hashTree(join(first, 'clusters'));
    expect(hashTree(join(second, 'clusters'))).toEqual(a);
    expect(hashTree(CLUSTERS_DIR), 'clusters/ is stale: run `npm run synth` and commit the result').toEqual(a);
  });

  // Synth time is measured by `npm run bench` (docs/benchmarks.md), never asserted in a test.
  it('synthesizes every cluster', () => {
    expect(readdirSync(join(first, 'clusters')).sort()).toEqual(platformInput.clusters.map((c) => c.name).sort());
  });

  it('throws PlatformConfigError on an invalid platform and leaves the output untouched', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gitops-c-'));
    mkdirSync(join(out, 'clusters', 'staging'), { recursive: true });
    writeFileSync(join(out, 'clusters', 'staging', 'kustomization.yaml'), 'previous\n');
    const before = hashTree(join(out, 'clusters'));
    const bad = () => loadPlatform({ ...platformInput, clusters: [{ ...platformInput.clusters[0]!, controlPlane: { count: 0, instanceType: 'm7i.large' } }] });
    await expect(async () => synthClusters(join(out, 'clusters'), bad())).rejects.toThrow(PlatformConfigError);
    expect(hashTree(join(out, 'clusters'))).toEqual(before);
  });

  it('writes nothing when an add-on fails on a later cluster, after earlier clusters built', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gitops-d-'));
    mkdirSync(join(out, 'clusters', 'staging'), { recursive: true });
    writeFileSync(join(out, 'clusters', 'staging', 'kustomization.yaml'), 'previous\n');
    const before = hashTree(join(out, 'clusters'));
    const platform = defaultPlatform();
    const last = platform.clusters.at(-1)!.name;
    const built: string[] = [];
    const failsOnLast = defaultAddOns().map((addOn) =>
      addOn instanceof SampleWebService
        ? Object.assign(Object.create(addOn) as AddOn, {
            validate(ctx: AddOnContext) {
              built.push(ctx.cluster.name);
              if (ctx.cluster.name === last) throw new AddOnValidationError(addOn.id, 'replicas', 0, 'expected at least 1');
              addOn.validate(ctx);
            },
          })
        : addOn,
    );
    await expect(synthClusters(join(out, 'clusters'), platform, failsOnLast)).rejects.toThrow('sample-web: replicas is 0; expected at least 1');
    expect(built).toEqual(platform.clusters.map((c) => c.name));
    expect(hashTree(join(out, 'clusters'))).toEqual(before);
    expect(readdirSync(out)).toEqual(['clusters']);
  });

  it('kubectl kustomize succeeds on every folder under clusters/<cluster>', () => {
    const dirs = folders(join(first, 'clusters'));
    expect(dirs.length).toBeGreaterThanOrEqual(3 * 6);
    for (const dir of dirs) expect(() => objectsOf(dir), relative(first, dir)).not.toThrow();
  });

  it('has a sound Flux graph: paths exist, dependsOn acyclic, sources defined', () => {
    for (const cluster of readdirSync(join(first, 'clusters'))) {
      // Build the way Flux does: the FluxInstance's sync path, then every Kustomization's path.
      const root = objectsOf(join(first, 'clusters', cluster));
      const instances = root.filter((o) => o.kind === 'FluxInstance');
      expect(instances, `${cluster}: one FluxInstance at the root`).toHaveLength(1);
      const sync = instances[0]!.spec!.sync as { kind: string; name: string; path: string };
      expect(existsSync(join(first, sync.path)), `${cluster} sync path ${sync.path}`).toBe(true);
      expect(objectsOf(join(first, sync.path))).toEqual(root);
      const key = (kind: string, ns: string | undefined, name: string) => `${kind}/${ns}/${name}`;
      // The FluxInstance's sync creates the GitRepository every layer reads from.
      const defined = new Set([key(sync.kind, instances[0]!.metadata.namespace, sync.name)]);
      const objects = [...root];
      const kustomizations = root.filter((o) => o.kind === 'Kustomization' && o.apiVersion.startsWith('kustomize.toolkit.fluxcd.io'));
      for (const k of kustomizations) {
        const path = (k.spec as { path: string }).path;
        expect(existsSync(join(first, path)), `${cluster} ${k.metadata.name} path ${path}`).toBe(true);
        objects.push(...objectsOf(join(first, path)));
      }
      objects.forEach((o) => defined.add(key(o.kind, o.metadata.namespace, o.metadata.name)));
      // Every object is applied by exactly one Flux Kustomization: none twice, none left out.
      expect(defined.size, `${cluster}: an object is applied by two Kustomizations`).toBe(objects.length + 1);
      const files = readdirSync(join(first, 'clusters', cluster), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml') && !f.endsWith('kustomization.yaml'));
      const documents = files.reduce((n, f) => n + parseAllDocuments(readFileSync(join(first, 'clusters', cluster, f), 'utf8')).length, 0);
      expect(objects.length, `${cluster}: objects Flux applies vs documents under clusters/${cluster}`).toBe(documents);
      expect(kustomizations.map((k) => k.metadata.name).sort()).toEqual(['apps', 'infra-configs', 'infra-controllers']);
      const edges = new Map<string, string[]>();
      for (const k of kustomizations) {
        const spec = k.spec as { path: string; sourceRef: { kind: string; name: string; namespace?: string }; dependsOn?: { name: string }[]; prune: boolean; wait: boolean; timeout: string };
        expect(existsSync(join(first, spec.path)), `${cluster} ${k.metadata.name} path ${spec.path}`).toBe(true);
        expect(defined.has(key(spec.sourceRef.kind, spec.sourceRef.namespace ?? k.metadata.namespace, spec.sourceRef.name))).toBe(true);
        expect([spec.prune, spec.wait, typeof spec.timeout]).toEqual([true, true, 'string']);
        edges.set(k.metadata.name, (spec.dependsOn ?? []).map((d) => d.name));
      }
      const state = new Map<string, 'visiting' | 'done'>();
      const visit = (n: string) => {
        expect(state.get(n), `dependsOn cycle at ${n}`).not.toBe('visiting');
        if (state.get(n) === 'done') return;
        expect(edges.has(n), `dependsOn names a missing Kustomization ${n}`).toBe(true);
        state.set(n, 'visiting');
        edges.get(n)!.forEach(visit);
        state.set(n, 'done');
      };
      [...edges.keys()].forEach(visit);
      for (const hr of objects.filter((o) => o.kind === 'HelmRelease')) {
        const spec = hr.spec as { chart?: { spec: { sourceRef: { kind: string; name: string; namespace: string } } }; chartRef?: { kind: string; name: string; namespace: string }; dependsOn?: { name: string; namespace: string }[] };
        const ref = spec.chartRef ?? spec.chart!.spec.sourceRef;
        expect(defined.has(key(ref.kind, ref.namespace, ref.name)), `${cluster} HelmRelease ${hr.metadata.name} source`).toBe(true);
        for (const d of spec.dependsOn ?? []) expect(defined.has(key('HelmRelease', d.namespace, d.name))).toBe(true);
      }
    }
  });
});
