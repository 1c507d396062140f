/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is read field by field */
import { APP_HEALTH_CHECK_PATH, DatabaseStore, defaultPlatform, loadPlatform, ORDERS_API, platformInput, WAL_ARCHIVE_TIMEOUT_SECONDS } from '@platform/platform-config';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { addOnContext, PostgresCluster, synthClusterTree } from '../src';

const platform = defaultPlatform();
type Obj = { kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, any> };
const objects = (cluster: string): Obj[] => parseAllDocuments(synthClusterTree(platform, cluster)['apps/postgres.yaml']!).map((d) => d.toJS() as Obj);
const find = (objs: Obj[], kind: string, name?: string) => objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name))!;

describe('PostgreSQL for regional failover', () => {
  const objs = objects('production');
  const cluster = find(objs, 'Cluster');

  it('names its archive in Git, ships WAL at least every archive timeout, WAL on its own volume, switchover updates', () => {
    expect(cluster.spec.backup.barmanObjectStore.serverName).toBe('orders');
    expect(cluster.spec.postgresql.parameters).toEqual({ archive_timeout: `${WAL_ARCHIVE_TIMEOUT_SECONDS}s` });
    expect(cluster.spec.walStorage).toEqual({ storageClass: 'gp3', size: '48Gi' });
    expect(cluster.spec.storage).toEqual({ storageClass: 'gp3', size: '20Gi' });
    expect(cluster.spec.primaryUpdateMethod).toBe('switchover');
  });

  it('creates the orders table and a role that may only read and insert it', () => {
    const sql = cluster.spec.bootstrap.initdb.postInitApplicationSQL as string[];
    expect(sql[0]).toMatch(/^CREATE TABLE orders /);
    expect(sql).toContain('GRANT SELECT, INSERT ON orders TO web_anon');
    expect(sql.join(';')).not.toMatch(/UPDATE|DELETE/);
  });

  it('the orders API reads the database Secret, is ready only while the database answers, and serves the health path on any Host', () => {
    const api = find(objs, 'Deployment', ORDERS_API.name);
    const container = api.spec.template.spec.containers[0];
    expect(container.env).toContainEqual({ name: 'PGRST_DB_URI', valueFrom: { secretKeyRef: { name: 'orders-app', key: 'uri' } } });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 3001, scheme: 'HTTP' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/live', port: 3001, scheme: 'HTTP' });
    const ingress = find(objs, 'Ingress', ORDERS_API.name);
    // Route 53's checker sends the load balancer's name as Host: the health rule has no host.
    expect(ingress.spec.rules[0]).toEqual({ http: { paths: [{ path: APP_HEALTH_CHECK_PATH, pathType: 'Exact', backend: { service: { name: ORDERS_API.name, port: { number: 3001 } } } }] } });
    expect(ingress.spec.rules[1].host).toBe(platform.names.appHostname);
    expect(ingress.spec.rules[1].http.paths[0]).toMatchObject({ path: ORDERS_API.path, pathType: 'Prefix' });
    expect(find(objs, 'Service', ORDERS_API.name).spec.ports).toContainEqual({ name: 'admin', port: 3001, targetPort: 3001 });
  });
});

describe('the standby database is a replica cluster of its primary', () => {
  const dr = find(objects('dr'), 'Cluster');
  const names = platform.namesOf('production');

  it('bootstraps from and keeps replaying the primary archive as replicated into its region, read-only: a replica in the distributed topology', () => {
    // Git's failover-state.json says production serves: dr is a replica of it.
    expect(dr.spec.replica).toEqual({ self: 'dr', primary: 'production', source: 'production' });
    expect(dr.spec.bootstrap).toEqual({ recovery: { source: 'production', database: 'app', owner: 'app' } });
    expect(dr.spec.externalClusters).toEqual([
      {
        name: 'production',
        barmanObjectStore: expect.objectContaining({
          destinationPath: `s3://${names.appBackupReplicaBucket}/postgres/orders`,
          // The server name Git records for the primary (fail-back rewrites it).
          serverName: 'orders',
          endpointURL: 'https://s3.ap-northeast-1.amazonaws.com',
        }),
      },
      // Its own archive: the topology names every cluster (what a demoted production would read).
      { name: 'dr', barmanObjectStore: expect.objectContaining({ destinationPath: `s3://${platform.namesOf('dr').appBackupBucket}/postgres/orders`, serverName: 'orders', endpointURL: 'https://s3.ap-northeast-1.amazonaws.com' }) },
    ]);
    // No empty writable initdb copy on the pilot light.
    expect(dr.spec.bootstrap.initdb).toBeUndefined();
  });

  it('the primary stays an initdb cluster, primary of the same topology, reading dr\'s archive from dr\'s bucket once it is demoted', () => {
    const production = find(objects('production'), 'Cluster');
    expect(production.spec.bootstrap.initdb).toBeDefined();
    expect(production.spec.replica).toEqual({ self: 'production', primary: 'production', source: 'dr' });
    expect(production.spec.externalClusters.map((e: { name: string; barmanObjectStore: { destinationPath: string; endpointURL: string } }) => [e.name, e.barmanObjectStore.destinationPath, e.barmanObjectStore.endpointURL])).toEqual([
      ['production', `s3://${names.appBackupReplicaBucket}/postgres/orders`, 'https://s3.ap-northeast-1.amazonaws.com'],
      ['dr', `s3://${platform.namesOf('dr').appBackupBucket}/postgres/orders`, 'https://s3.ap-northeast-1.amazonaws.com'],
    ]);
    // A cluster in no pair has no topology.
    expect(find(objects('staging'), 'Cluster').spec.replica).toBeUndefined();
  });

  it('is valid against the CloudNativePG 1.30 CRD', () => {
    const crd = parse(readFileSync(resolve(__dirname, '../crds/postgresql.cnpg.io_clusters.yaml'), 'utf8'));
    const schema = crd.spec.versions.find((v: { name: string }) => v.name === 'v1').schema.openAPIV3Schema;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    for (const cluster of [dr, find(objects('production'), 'Cluster')]) expect(validate(cluster), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe('the primary archives straight into the standby region', () => {
  const production = find(objects('production'), 'Cluster');
  const names = platform.namesOf('production');
  const drRegion = platform.cluster('dr').region;

  it('writes WAL and base backups (one object store) into its bucket in dr\'s region, the folder dr replays from', () => {
    const store = production.spec.backup.barmanObjectStore;
    expect(store.destinationPath).toBe(`s3://${names.appWalArchive.bucket}/postgres/orders`);
    expect(names.appWalArchive).toEqual({ bucket: names.appBackupReplicaBucket, region: drRegion });
    expect(store.endpointURL).toBe(`https://s3.${drRegion}.amazonaws.com`);
    // What dr reads as production's archive is exactly what production writes: no replication between.
    const source = find(objects('dr'), 'Cluster').spec.externalClusters.find((e: { name: string }) => e.name === 'production').barmanObjectStore;
    expect([source.destinationPath, source.serverName, source.endpointURL]).toEqual([store.destinationPath, store.serverName, store.endpointURL]);
  });

  it('signs for the archive region: boto3 reads AWS_DEFAULT_REGION (not AWS_REGION) for S3 and the regional STS endpoint', () => {
    expect(production.spec.env).toContainEqual({ name: 'AWS_DEFAULT_REGION', value: drRegion });
    expect(production.spec.env).toContainEqual({ name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' });
    // Every bucket production's database reads or writes is in that region.
    for (const e of production.spec.externalClusters) expect(e.barmanObjectStore.endpointURL).toBe(`https://s3.${drRegion}.amazonaws.com`);
    // Clusters that archive at home keep their own region.
    const staging = find(objects('staging'), 'Cluster');
    expect(staging.spec.env).toContainEqual({ name: 'AWS_DEFAULT_REGION', value: platform.cluster('staging').region });
    expect(staging.spec.backup.barmanObjectStore.destinationPath).toBe(`s3://${platform.namesOf('staging').appBackupBucket}/postgres/orders`);
  });

  it('rejects a WAL volume too small for the archive outage it must ride out at platform-config\'s WAL rate, and an outage that is not positive', () => {
    const ctx = addOnContext(platform, 'production');
    const rate = platform.cluster('production').backups.databaseWalMiBPerMinute;
    expect(rate).toBe(60);
    expect(() => new PostgresCluster({ walStorage: '14Gi' }).validate(ctx)).toThrow('postgres: walStorage is "14Gi"; expected at least 48Gi (whole Gi): 12 h of WAL at 60 MiB/min (backups.databaseWalMiBPerMinute) while the archive is unreachable, plus max_wal_size');
    expect(() => new PostgresCluster({ walStorage: '60G' }).validate(ctx)).toThrow('postgres: walStorage is "60G"; expected at least 48Gi (whole Gi)');
    expect(() => new PostgresCluster({ archiveOutageHours: -1 }).validate(ctx)).toThrow('postgres: archiveOutageHours is -1; expected more than 0 hours');
    expect(() => new PostgresCluster({ archiveOutageHours: 24 }).validate(ctx)).toThrow('postgres: walStorage is "48Gi"; expected at least 94Gi');
    expect(() => new PostgresCluster({ archiveOutageHours: 24, walStorage: '94Gi' }).validate(ctx)).not.toThrow();
  });

  it('uploads a catch-up backlog 8 segments at a time', () => {
    expect(production.spec.backup.barmanObjectStore.wal).toEqual({ compression: 'gzip', maxParallel: 8 });
  });

  it('sets AWS_REGION (STS, the SDKs other than boto3) and AWS_DEFAULT_REGION (boto3: barman-cloud) on purpose, both present', () => {
    const names = production.spec.env.map((e: { name: string }) => e.name);
    expect(names).toEqual(expect.arrayContaining(['AWS_REGION', 'AWS_DEFAULT_REGION']));
    // boto3 ignores AWS_REGION: dropping AWS_DEFAULT_REGION as a duplicate signs S3 for us-east-1.
    expect(production.spec.env.find((e: { name: string }) => e.name === 'AWS_DEFAULT_REGION').value).toBe(platform.namesOf('production').appDatabaseStore.region);
  });

  it('pulls the heartbeat image only when missing (a registry pull every minute could miss a beat)', () => {
    const job = find(objects('production'), 'CronJob', 'orders-heartbeat');
    expect(job.spec.jobTemplate.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
  });
});

describe('DatabaseStore.ownRegion(): the escape hatch while the standby region is down', () => {
  const clusters = platformInput.clusters.map((c) => (c.name === 'production' ? { ...c, backups: { ...c.backups, databaseStore: DatabaseStore.ownRegion() } } : c));
  const escaped = loadPlatform({ ...platformInput, clusters });
  const tree = (name: string) => parseAllDocuments(synthClusterTree(escaped, name)['apps/postgres.yaml']!).map((d) => d.toJS() as Obj);
  const moved = find(tree('production'), 'Cluster');
  const names = escaped.namesOf('production');

  it("moves only production's own spec.backup home: dr keeps replaying the folder in Tokyo, which S3 replication feeds", () => {
    expect(moved.spec.backup.barmanObjectStore.destinationPath).toBe(`s3://${names.appBackupBucket}/postgres/orders`);
    expect(moved.spec.backup.barmanObjectStore.endpointURL).toBe('https://s3.ap-northeast-2.amazonaws.com');
    expect(moved.spec.env).toContainEqual({ name: 'AWS_DEFAULT_REGION', value: 'ap-northeast-2' });
    // The topology is untouched on both sides: dr's manifests are byte for byte the same.
    const before = find(objects('production'), 'Cluster');
    expect(moved.spec.externalClusters).toEqual(before.spec.externalClusters);
    expect(synthClusterTree(escaped, 'dr')['apps/postgres.yaml']).toBe(synthClusterTree(platform, 'dr')['apps/postgres.yaml']);
    // Same folder and server name below another bucket: replication copies the same keys to where dr reads.
    expect(moved.spec.backup.barmanObjectStore.destinationPath.replace(names.appBackupBucket, names.appWalArchive.bucket)).toBe(before.spec.backup.barmanObjectStore.destinationPath);
    expect(moved.spec.backup.barmanObjectStore.serverName).toBe(before.spec.backup.barmanObjectStore.serverName);
  });
});
