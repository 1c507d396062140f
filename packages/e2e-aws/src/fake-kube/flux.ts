import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { apiVersionOf, FAKE_RESOURCES, type FakeKubeApi } from '../fake-kube-api';
import type { Obj } from './patch';

export const FLUX_KUSTOMIZATION = 'kustomize.toolkit.fluxcd.io/v1';

/**
 * The objects a kustomize overlay directory renders, following `kustomization.yaml`
 * `resources` (files and directories) as kustomize does; without one, every YAML file in it.
 */
export function renderDirectory(dir: string): Obj[] {
  const kustomization = join(dir, 'kustomization.yaml');
  const entries = existsSync(kustomization) ? (((parseAllDocuments(readFileSync(kustomization, 'utf8'))[0]?.toJS() as { resources?: string[] } | null)?.resources ?? [])) : [];
  return entries.flatMap((entry) => {
    const path = resolve(dir, entry);
    if (statSync(path).isDirectory()) return renderDirectory(path);
    return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as Obj).filter((o) => o && typeof o === 'object');
  });
}

/**
 * Flux's kustomize-controller for one cluster: every Kustomization in flux-system that is not
 * `spec.suspend`ed is reconciled every `intervalTicks` ticks: Git's objects under its
 * `spec.path` (resolved against the repository root, as the GitRepository's artifact) are
 * server-side applied with kustomize-controller's field-manager takeover (failover's
 * flux-ssa-model: managers starting with `kubectl` lose their fields, Git's values are forced).
 * The root Kustomization `flux-system` (what the FluxInstance's sync creates) applies
 * `./clusters/<name>`. Objects of kinds the fake API does not serve (Services, RBAC, HPAs…) are
 * not applied; pruning of objects removed from Git is not modelled.
 */
export class FakeFlux {
  private ticks = 0;
  /** Reconciles per Kustomization name, for the report. */
  readonly reconciles = new Map<string, number>();

  constructor(
    private readonly api: FakeKubeApi,
    private readonly repoRoot: string,
    private readonly revision: string,
    private readonly intervalTicks = 5,
  ) {
    api.addController(() => this.tick());
  }

  /** The root Kustomization and one reconcile of it (as bootstrap leaves the cluster). */
  bootstrap(cluster: string): void {
    this.api.fluxApply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'flux-system' } });
    this.api.fluxApply({ apiVersion: FLUX_KUSTOMIZATION, kind: 'Kustomization', metadata: { name: 'flux-system', namespace: 'flux-system' }, spec: { interval: '10m', path: `./clusters/${cluster}`, prune: true, sourceRef: { kind: 'GitRepository', name: 'flux-system' } } });
    for (let i = 0; i < 3; i++) this.reconcileAll();
  }

  private tick(): void {
    this.ticks += 1;
    if (this.ticks % this.intervalTicks === 0) this.reconcileAll();
  }

  private reconcileAll(): void {
    for (const k of this.api.all(FLUX_KUSTOMIZATION, 'Kustomization', 'flux-system')) {
      const meta = k.metadata as Obj;
      const spec = (k.spec ?? {}) as Obj;
      if (spec.suspend === true) continue;
      const path = join(this.repoRoot, String(spec.path ?? '.'));
      const objects = existsSync(path) ? renderDirectory(path) : [];
      for (const o of objects) {
        if (!FAKE_RESOURCES.some((r) => apiVersionOf(r) === o.apiVersion && r.kind === o.kind)) continue;
        const m = (o.metadata ?? {}) as Obj;
        const resource = FAKE_RESOURCES.find((r) => apiVersionOf(r) === o.apiVersion && r.kind === o.kind)!;
        this.api.fluxApply(resource.namespaced && !m.namespace ? { ...o, metadata: { ...m, namespace: 'default' } } : o);
      }
      this.reconciles.set(meta.name as string, (this.reconciles.get(meta.name as string) ?? 0) + 1);
      this.api.writeStatus({ apiVersion: FLUX_KUSTOMIZATION, kind: 'Kustomization', namespace: 'flux-system', name: meta.name as string }, {
        observedGeneration: meta.generation,
        lastAppliedRevision: this.revision,
        lastAttemptedRevision: this.revision,
        conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: `Applied revision: ${this.revision}`, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
      });
    }
  }
}

