import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPlatform, FAILOVER_FIELD_MANAGER, type ClusterDefinition } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { findWorkload } from '../src/database';
import { scaleAppsToZero } from '../src/private/apps';
import { fluxSuspendArgs } from '../src/private/flux';
import type { StepContext } from '../src/step';
import { HIBERNATION_ANNOTATION } from '../src/steps/fence-returned-primary';
import { cnpgBootstrapWebhook, created, flatten, FLUX_TAKEOVER, fluxApply, kubectl, serverSideApply, update } from '../src/testing/flux-ssa-model';
import { GENERATED_CLUSTERS } from './harness';

const platform = defaultPlatform();
const production = platform.cluster('production');
const generated = (file: string, kind: string, name: string) =>
  parseAllDocuments(readFileSync(join(GENERATED_CLUSTERS, 'production', file), 'utf8'))
    .map((d) => d.toJSON() as { kind: string; metadata: { name: string } })
    .find((o) => o.kind === kind && o.metadata.name === name)! as unknown as Record<string, unknown>;
/** Git's objects as the root (flux-system) and apps Kustomizations apply them. */
const appsKustomization = generated('flux-system/flux-layers.yaml', 'Kustomization', 'apps');
const ordersApi = generated('apps/postgres.yaml', 'Deployment', 'orders-api');
const database = generated('apps/postgres.yaml', 'Cluster', 'orders');

/** The argv scaleAppsToZero emits, captured through a recording context. */
async function scaleArgs(cluster: ClusterDefinition): Promise<string[][]> {
  const calls: string[][] = [];
  const ctx = { cli: { mutate: async (_tool: string, args: readonly string[]) => void calls.push([...args]) } } as unknown as StepContext;
  await scaleAppsToZero(ctx, cluster, findWorkload(join(GENERATED_CLUSTERS, cluster.name)));
  return calls;
}

describe("kustomize-controller's field-manager takeover (model of its server-side apply)", () => {
  it('a plain `kubectl patch` suspend is undone by the next sync of flux-system: the bug this fixes', () => {
    const live = created(appsKustomization);
    kubectl(live, ['patch', 'kustomizations.kustomize.toolkit.fluxcd.io', 'apps', '-n', 'flux-system', '--type', 'merge', '-p', '{"spec":{"suspend":true}}']);
    expect(live.fields.get('spec.suspend')).toBe(true);
    fluxApply(live, appsKustomization);
    expect(live.fields.has('spec.suspend')).toBe(false);
  });

  it("the failover tool's suspend survives any number of syncs", () => {
    const live = created(appsKustomization);
    kubectl(live, fluxSuspendArgs(production, 'apps', true));
    for (let i = 0; i < 3; i++) fluxApply(live, appsKustomization);
    expect(live.fields.get('spec.suspend')).toBe(true);
    // …and its resume is the same manager's, so nothing is left behind.
    kubectl(live, fluxSuspendArgs(production, 'apps', false));
    fluxApply(live, appsKustomization);
    expect(live.fields.get('spec.suspend')).toBe(false);
  });

  it('apps scaled to zero by the fence stay at zero through a sync (Git sets no replicas)', async () => {
    expect((ordersApi.spec as Record<string, unknown>).replicas).toBeUndefined();
    const live = created(ordersApi);
    const [toZero] = await scaleArgs(production);
    kubectl(live, toZero!);
    fluxApply(live, ordersApi);
    expect(live.fields.get('spec.replicas')).toBe(0);
    // The same patch under kubectl's default manager would be dropped (the API server defaults replicas to 1).
    const plain = created(ordersApi);
    kubectl(plain, toZero!.filter((a) => !a.startsWith('--field-manager=')));
    fluxApply(plain, ordersApi);
    expect(plain.fields.has('spec.replicas')).toBe(false);
  });

  it('the hibernation annotation survives a sync of the database', () => {
    const live = created(database);
    kubectl(live, ['--context', 'production', 'annotate', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', `${HIBERNATION_ANNOTATION}=on`, '--overwrite', `--field-manager=${FAILOVER_FIELD_MANAGER}`]);
    fluxApply(live, database);
    expect(live.fields.get(`metadata.annotations.${HIBERNATION_ANNOTATION}`)).toBe('on');
  });

  it('takes over every kubectl-prefixed manager, not only kubectl-patch; never the failover one', () => {
    for (const manager of ['kubectl', 'kubectl-edit', 'kubectl-client-side-apply', 'kubectl-annotate', 'before-first-apply']) {
      const live = created(appsKustomization);
      kubectl(live, [...fluxSuspendArgs(production, 'apps', true).filter((a) => !a.startsWith('--field-manager=')), `--field-manager=${manager}`]);
      fluxApply(live, appsKustomization);
      expect(live.fields.has('spec.suspend'), manager).toBe(false);
    }
    expect(FLUX_TAKEOVER.some((m) => FAILOVER_FIELD_MANAGER.startsWith(m.name))).toBe(false);
  });
});

describe("CloudNativePG's one-bootstrap webhook over server-side apply's merge of spec.bootstrap", () => {
  const git = () => structuredClone(database) as { spec: Record<string, unknown> };
  const recovery = () => ({ ...git(), spec: { ...git().spec, bootstrap: { recovery: { source: 'dr', database: 'app', owner: 'app' } } } });

  it('a Cluster the failover tool server-side applied with bootstrap.recovery makes Flux\'s apply of Git\'s initdb fail, and nothing changes', () => {
    const live = { fields: new Map<string, unknown>(), managedFields: [] };
    serverSideApply(live, FAILOVER_FIELD_MANAGER, recovery(), cnpgBootstrapWebhook);
    const before = new Map(live.fields);
    expect(() => fluxApply(live, git(), cnpgBootstrapWebhook)).toThrow('Only one bootstrap method can be specified at a time');
    expect(live.fields).toEqual(before);
  });

  it('re-applied by the same manager without spec.bootstrap, the recovery fields go and Flux\'s initdb is admitted', () => {
    const live = { fields: new Map<string, unknown>(), managedFields: [] };
    serverSideApply(live, FAILOVER_FIELD_MANAGER, recovery(), cnpgBootstrapWebhook);
    const { bootstrap: _bootstrap, ...rest } = recovery().spec;
    serverSideApply(live, FAILOVER_FIELD_MANAGER, { ...recovery(), spec: rest }, cnpgBootstrapWebhook);
    expect([...live.fields.keys()].filter((p) => p.startsWith('spec.bootstrap.'))).toEqual([]);
    // Fields it still applies stay.
    expect(live.fields.get('spec.instances')).toBe((git().spec as { instances: number }).instances);
    fluxApply(live, git(), cnpgBootstrapWebhook);
    expect(live.fields.get('spec.bootstrap.initdb.owner')).toBe('app');
  });

  it('a client-side `kubectl apply` (restore-database, --rebuild) is taken over by Flux: its recovery fields are dropped, initdb admitted', () => {
    const live = { fields: new Map<string, unknown>(), managedFields: [] };
    update(live, 'kubectl-client-side-apply', flatten(recovery()));
    fluxApply(live, git(), cnpgBootstrapWebhook);
    expect([...live.fields.keys()].filter((p) => p.startsWith('spec.bootstrap.recovery'))).toEqual([]);
  });
});
