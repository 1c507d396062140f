import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findWorkload, gitArchiveFolder, rebaseDestination, renderBackup, renderRecoveryCluster } from './database';

const CRDS = resolve(__dirname, '../../k8s-addons/crds');
/** What apps/gitops generated for the primary (the script's real input). */
const GENERATED = resolve(__dirname, '../../../clusters/production');

function crdValidator(file: string) {
  const crd = parse(readFileSync(resolve(CRDS, file), 'utf8'));
  const schema = crd.spec.versions.find((v: { name: string }) => v.name === 'v1').schema.openAPIV3Schema;
  return new Ajv({ strict: false, allErrors: true }).compile(schema);
}

describe('findWorkload', () => {
  it('reads the database and the app from the generated manifests', () => {
    const w = findWorkload(GENERATED);
    expect({ db: `${w.namespace}/${w.database}`, app: `${w.appNamespace}/${w.deployment}`, origin: w.origin }).toEqual({ db: 'data/orders', app: 'web/web', origin: 'manifests' });
    expect(w.backup?.destinationPath).toBe('s3://hakube-production-app-backups-ap-northeast-1/postgres/orders');
  });

  it('falls back to the documented defaults when there are no manifests', () => {
    expect(findWorkload('/nonexistent')).toMatchObject({ namespace: 'data', database: 'orders', appNamespace: 'web', deployment: 'web', origin: 'defaults' });
  });
});

describe('rebaseDestination', () => {
  it('keeps the prefix and swaps the bucket', () => {
    expect(rebaseDestination('s3://a/postgres/orders', 'b')).toBe('s3://b/postgres/orders');
    expect(rebaseDestination('s3://a', 'b')).toBe('s3://b/');
  });
  it('names a path that is not S3', () => {
    expect(() => rebaseDestination('gs://a/x', 'b')).toThrow('backup destinationPath: got "gs://a/x"; expected s3://<bucket>[/<prefix>]');
  });
});

describe('gitArchiveFolder', () => {
  it("is the generated destination's prefix, rebased onto the bucket, plus the server name", () => {
    expect(gitArchiveFolder(findWorkload(GENERATED), 'standby-bucket')).toEqual({ bucket: 'standby-bucket', prefix: 'postgres/orders/orders/' });
  });
  it('uses an explicit server name and a bucket root', () => {
    expect(gitArchiveFolder({ database: 'orders', backup: { destinationPath: 's3://a/', serverName: 'orders-r0' } }, 'b')).toEqual({ bucket: 'b', prefix: 'orders-r0/' });
    expect(gitArchiveFolder({ database: 'orders' }, 'b')).toEqual({ bucket: 'b', prefix: 'orders/' });
  });
});

describe('rendered objects', () => {
  const workload = findWorkload(GENERATED);
  /** The restore runs on the standby: its pods must carry the standby's own workload role. */
  const standby = findWorkload(resolve(GENERATED, '..', 'dr'));
  const [namespace, cluster] = renderRecoveryCluster({
    workload,
    source: { destinationPath: 's3://replica/postgres/orders', serverName: 'orders', region: 'ap-northeast-1', s3Credentials: { inheritFromIAMRole: true } },
    target: { archive: { bucket: 'own', region: 'ap-northeast-1' }, serverName: 'orders-r1' },
    targetWorkload: standby,
    runId: 'r1',
  }) as [Record<string, unknown>, { spec: Record<string, unknown> }];

  it('is a valid CNPG 1.30 Cluster that bootstraps by recovery and keeps the HA placement', () => {
    const validate = crdValidator('postgresql.cnpg.io_clusters.yaml');
    expect(validate(cluster), JSON.stringify(validate.errors)).toBe(true);
    expect(namespace).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'data' } });
    expect(cluster.spec.bootstrap).toEqual({ recovery: { source: 'origin', database: 'app', owner: 'app' } });
    expect(cluster.spec).toMatchObject({ instances: 3, affinity: { podAntiAffinityType: 'required', topologyKey: 'topology.kubernetes.io/zone' }, storage: { size: '20Gi', storageClass: 'gp3' } });
    expect((cluster.spec.backup as { barmanObjectStore: unknown }).barmanObjectStore).toMatchObject({ destinationPath: 's3://own/postgres/orders', serverName: 'orders-r1' });
  });

  it('gives the restored instances the target cluster’s own web identity (its role trusts only its issuer), never the source’s', () => {
    const env = cluster.spec.env as { name: string; value: string }[];
    const roleArn = env.find((e) => e.name === 'AWS_ROLE_ARN')?.value;
    expect(roleArn).toMatch(/:role\/dr-irsa-postgres-backups$/);
    expect(cluster.spec.serviceAccountTemplate).toEqual({ metadata: { annotations: { 'eks.amazonaws.com/role-arn': roleArn } } });
    expect(cluster.spec.projectedVolumeTemplate).toEqual((standby.databaseSpec as Record<string, unknown>).projectedVolumeTemplate);
    expect(JSON.stringify(cluster)).not.toContain('production-irsa');
    expect(((cluster.spec.externalClusters as { barmanObjectStore: { s3Credentials: unknown } }[])[0]).barmanObjectStore.s3Credentials).toEqual({ inheritFromIAMRole: true });
  });

  it('as a replica in the distributed topology (fail-back switchover): valid, following the source, naming its own archive too', () => {
    const replica = renderRecoveryCluster({
      workload,
      source: { destinationPath: 's3://dr-own/postgres/orders', serverName: 'orders-r0', region: 'ap-northeast-1', s3Credentials: { inheritFromIAMRole: true } },
      target: { archive: { bucket: 'own', region: 'ap-northeast-1' }, serverName: 'orders-r1' },
      targetWorkload: workload,
      runId: 'r1',
      topology: { self: 'production', primary: 'dr', source: 'dr' },
    })[1] as { spec: { replica: unknown; bootstrap: unknown; externalClusters: { name: string; barmanObjectStore: { serverName: string } }[] } };
    const validate = crdValidator('postgresql.cnpg.io_clusters.yaml');
    expect(validate(replica), JSON.stringify(validate.errors)).toBe(true);
    expect(replica.spec.replica).toEqual({ self: 'production', primary: 'dr', source: 'dr' });
    expect(replica.spec.bootstrap).toEqual({ recovery: { source: 'dr', database: 'app', owner: 'app' } });
    expect(replica.spec.externalClusters.map((e) => [e.name, e.barmanObjectStore.serverName])).toEqual([
      ['dr', 'orders-r0'],
      ['production', 'orders-r1'],
    ]);
  });

  it("carries the owner's managed role and the bootstrap's credentials Secret from Git (the app's password survives the restore), and nothing when Git has none", () => {
    const spec = (standby.databaseSpec as Record<string, unknown> & { bootstrap: { recovery: Record<string, unknown> } });
    const shared = {
      ...workload,
      databaseSpec: { ...workload.databaseSpec, managed: { roles: [{ name: 'app', ensure: 'present', login: true, passwordSecret: { name: 'orders-app-credentials' } }] } },
    };
    const target = { ...standby, databaseSpec: { ...spec, bootstrap: { recovery: { ...spec.bootstrap.recovery, secret: { name: 'orders-app-credentials' } } } } };
    const restored = renderRecoveryCluster({ workload: shared, source: { destinationPath: 's3://replica/postgres/orders', serverName: 'orders', region: 'ap-northeast-1', s3Credentials: {} }, target: { archive: { bucket: 'own', region: 'ap-northeast-1' }, serverName: 'orders-r1' }, targetWorkload: target, runId: 'r1' })[1] as { spec: Record<string, unknown> };
    expect(crdValidator('postgresql.cnpg.io_clusters.yaml')(restored)).toBe(true);
    expect(restored.spec.managed).toEqual(shared.databaseSpec.managed);
    expect(restored.spec.bootstrap).toEqual({ recovery: { source: 'origin', database: 'app', owner: 'app', secret: { name: 'orders-app-credentials' } } });
    expect(cluster.spec.managed).toBeUndefined();
  });

  it('is a valid CNPG Backup', () => {
    const validate = crdValidator('postgresql.cnpg.io_backups.yaml');
    const backup = renderBackup(workload, 'failback', 'r1');
    expect(validate(backup), JSON.stringify(validate.errors)).toBe(true);
    expect(backup).toMatchObject({ metadata: { name: 'orders-failback-r1', namespace: 'data' }, spec: { cluster: { name: 'orders' }, method: 'barmanObjectStore' } });
  });
});
