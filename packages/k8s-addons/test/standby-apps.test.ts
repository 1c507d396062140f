import { defaultPlatform } from '@platform/platform-config';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { synthClusterTree } from '../src';
import { cnpgOperatorSecrets, fluxWait, promote, type Obj } from './support/cnpg-flux-model';

const platform = defaultPlatform();
const docs = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj).filter(Boolean);
/** Every object Flux's `apps` Kustomization applies on a cluster. */
const appsLayer = (cluster: string): Obj[] =>
  Object.entries(synthClusterTree(platform, cluster))
    .filter(([file]) => file.startsWith('apps/') && !file.endsWith('kustomization.yaml'))
    .flatMap(([, text]) => docs(text));
/** Secrets not written by Flux: none since the database has a workload role instead of access keys. */
const live = (_cluster: string) => ({ externalSecrets: [] as string[] });
/** The fixture predates that: the node bootstrap then wrote the backup key Secret it names. */
const liveBeforeWorkloadRoles = { externalSecrets: ['data/app-backup-s3'] };
const deployment = (objects: Obj[], name: string) => objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;

describe('CloudNativePG secret creation (model)', () => {
  const cluster = (spec: Record<string, unknown>): Obj => ({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'orders', namespace: 'data' }, spec });

  it('writes the app Secret for initdb, and for a recovery only once the cluster is no replica', () => {
    expect(cnpgOperatorSecrets(cluster({ bootstrap: { initdb: { database: 'app', owner: 'app' } } }))).toContain('data/orders-app');
    expect(cnpgOperatorSecrets(cluster({}))).toContain('data/orders-app'); // defaulting webhook: initdb app/app
    const replica = cluster({ bootstrap: { recovery: { source: 'x', database: 'app', owner: 'app' } }, replica: { enabled: true, source: 'x' } });
    expect(cnpgOperatorSecrets(replica)).toEqual(['data/orders-ca', 'data/orders-server', 'data/orders-replication']);
    expect(cnpgOperatorSecrets(promote([replica], 3)[0]!)).toContain('data/orders-app');
    // Distributed topology: a replica while `primary` names another cluster.
    expect(cnpgOperatorSecrets(cluster({ bootstrap: { recovery: { source: 'x', database: 'app', owner: 'app' } }, replica: { primary: 'other', source: 'x' } }))).not.toContain('data/orders-app');
  });

  it('writes none when the bootstrap names its own Secret, and the superuser one only when enabled', () => {
    expect(cnpgOperatorSecrets(cluster({ bootstrap: { recovery: { source: 'x', database: 'app', owner: 'app', secret: { name: 'mine' } } } }))).not.toContain('data/mine');
    expect(cnpgOperatorSecrets(cluster({ enableSuperuserAccess: true }))).toContain('data/orders-superuser');
  });
});

describe("Flux's wait on the apps layer", () => {
  it('never became Ready on dr before the fix: orders-api waits for the app Secret a replica cluster does not get', () => {
    const before = docs(readFileSync(resolve(__dirname, 'fixtures/dr-postgres-before-standby-scale-fix.yaml'), 'utf8'));
    const result = fluxWait(before, liveBeforeWorkloadRoles);
    expect(result.ready).toBe(false);
    expect(result.statuses.filter((s) => !s.current).map((s) => `${s.id}: ${s.message}`)).toEqual([
      'Deployment/data/orders-api: Available: 0/3, pods wait for Secret/data/orders-app (CreateContainerConfigError)',
      'PodDisruptionBudget/data/orders-api: Budget not met. healthy 0 < 2',
    ]);
  });

  it('is Ready on dr in pilot light, with the database a replica and no orders-api pod to write through', () => {
    const objects = appsLayer('dr');
    const result = fluxWait(objects, live('dr'));
    expect(result.statuses.filter((s) => !s.current)).toEqual([]);
    expect(result.ready).toBe(true);
    expect(deployment(objects, 'orders-api').spec?.replicas).toBe(0);
    expect(objects.find((o) => o.kind === 'Cluster')?.spec?.replica).toEqual({ self: 'dr', primary: 'production', source: 'production' });
  });

  it('is Ready on dr after the promotion: the operator writes orders-app and verify-app scales orders-api to one per zone', () => {
    const promoted = promote(appsLayer('dr'), platform.cluster('dr').availabilityZones.length);
    const result = fluxWait(promoted, live('dr'));
    expect(result.ready).toBe(true);
    expect(result.statuses.find((s) => s.id === 'Deployment/data/orders-api')?.message).toBe('Deployment is available. Replicas: 3');
  });

  it('is Ready on production and staging, whose orders-api is not scaled down', () => {
    for (const cluster of ['production', 'staging']) {
      const objects = appsLayer(cluster);
      expect(fluxWait(objects, live(cluster)).ready, cluster).toBe(true);
      expect(deployment(objects, 'orders-api').spec?.replicas, cluster).toBeUndefined();
    }
  });
});
