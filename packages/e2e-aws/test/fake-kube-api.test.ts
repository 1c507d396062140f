import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { defaultPlatform } from '@platform/platform-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../src/fake-kube-api';
import { walSegmentName } from '../src/fake-kube/barman-store';
import { CNPG, HEALTHY } from '../src/fake-kube/cnpg';
import { deploymentController } from '../src/fake-kube/deployments';
import { FLUX_KUSTOMIZATION } from '../src/fake-kube/flux';
import type { Obj } from '../src/fake-kube/patch';
import { crdSchemas, FakeWorld } from '../src/fake-kube/world';

// The real kubectl against the fakes: what the failover tool's calls depend on.
const exec = promisify(execFile);
const repoRoot = resolve(__dirname, '../../..');

function kubectlIn(work: string) {
  return async (context: string, ...args: string[]) => {
    try {
      const { stdout, stderr } = await exec('kubectl', ['--context', context, ...args], { env: { ...process.env, KUBECONFIG: join(work, 'config'), KUBECACHEDIR: join(work, 'cache') }, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
}

describe('FakeKubeApi answers kubectl as an API server does', () => {
  const work = mkdtempSync(join(tmpdir(), 'fake-kube-'));
  const k = kubectlIn(work);
  const kubectl = (...args: string[]) => k('dr', ...args);
  let api: FakeKubeApi;

  beforeAll(async () => {
    api = await FakeKubeApi.start(
      'dr',
      [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'data' } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } },
        { apiVersion: CNPG, kind: 'Backup', metadata: { name: 'fenced-1', namespace: 'data', labels: { 'hakube.io/purpose': 'fenced' } }, spec: { cluster: { name: 'orders' } } },
        { apiVersion: CNPG, kind: 'Backup', metadata: { name: 'daily-1', namespace: 'data', labels: { 'hakube.io/purpose': 'scheduled' } }, spec: { cluster: { name: 'orders' } } },
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } } } },
      ],
      { tickMs: 150, schemas: crdSchemas(repoRoot) },
    );
    api.addController(deploymentController);
    writeFileSync(join(work, 'config'), api.kubeconfig());
  });
  afterAll(async () => {
    await api.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('answers /readyz with ok', async () => {
    expect((await kubectl('get', '--raw=/readyz')).stdout).toBe('ok');
  });

  it('a missing object is NotFound, and --ignore-not-found prints nothing', async () => {
    const missing = await kubectl('get', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', '-o', 'json');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('(NotFound): clusters.postgresql.cnpg.io "orders" not found');
    expect(await kubectl('get', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', '--ignore-not-found', '-o', 'name')).toMatchObject({ code: 0, stdout: '' });
  });

  it('lists by label selector, with resourceVersions', async () => {
    const list = JSON.parse((await kubectl('get', 'backups.postgresql.cnpg.io', '-n', 'data', '-l', 'hakube.io/purpose=fenced', '-o', 'json')).stdout) as { items: { metadata: { name: string; resourceVersion: string } }[] };
    expect(list.items.map((i) => i.metadata.name)).toEqual(['fenced-1']);
    expect(Number(list.items[0]!.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it('defaults a Deployment to 1 replica, as the API server does', async () => {
    expect(JSON.parse((await kubectl('get', 'deployment', 'web', '-n', 'web', '-o', 'json')).stdout).spec.replicas).toBe(1);
  });

  it('a merge patch changes the object under its field manager, with a new resourceVersion and generation', async () => {
    const before = JSON.parse((await kubectl('get', 'backups.postgresql.cnpg.io', 'daily-1', '-n', 'data', '-o', 'json')).stdout) as Obj;
    const patched = await kubectl('patch', 'backups.postgresql.cnpg.io', 'daily-1', '-n', 'data', '--type', 'merge', '-p', '{"spec":{"method":"barmanObjectStore"}}', '--field-manager=platform-failover');
    expect(patched).toMatchObject({ code: 0 });
    const after = JSON.parse((await kubectl('get', 'backups.postgresql.cnpg.io', 'daily-1', '-n', 'data', '-o', 'json', '--show-managed-fields')).stdout) as { metadata: { resourceVersion: string; generation: number; managedFields: { manager: string; fieldsV1: Obj }[] }; spec: Obj };
    expect(after.spec.method).toBe('barmanObjectStore');
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number((before.metadata as Obj).resourceVersion));
    expect(after.metadata.generation).toBe(2);
    expect(after.metadata.managedFields.find((m) => m.manager === 'platform-failover')?.fieldsV1).toEqual({ 'f:spec': { 'f:method': {} } });
  });

  it('refuses a strategic merge patch of a custom resource (415) and a JSON patch of a missing path (422)', async () => {
    const strategic = await kubectl('patch', 'backups.postgresql.cnpg.io', 'daily-1', '-n', 'data', '--type', 'strategic', '-p', '{"spec":{"method":"x"}}');
    expect(strategic.code).toBe(1);
    expect(strategic.stderr).toContain('the body of the request was in an unknown format');
    const json = await kubectl('patch', 'backups.postgresql.cnpg.io', 'daily-1', '-n', 'data', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/target/x","value":1}]');
    expect(json.code).toBe(1);
    expect(json.stderr).toContain('doc is missing path');
  });

  it('refuses a field the CRD does not declare (fieldValidation=Strict) and a value outside its enum', async () => {
    writeFileSync(join(work, 'bad.yaml'), 'apiVersion: postgresql.cnpg.io/v1\nkind: Backup\nmetadata:\n  name: b2\n  namespace: data\nspec:\n  cluster:\n    name: orders\n  bogus: 1\n');
    const unknown = await kubectl('apply', '-f', join(work, 'bad.yaml'));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('strict decoding error: unknown field "spec.bogus"');
    const badEnum = await kubectl('patch', 'backups.postgresql.cnpg.io', 'daily-1', '-n', 'data', '--type', 'merge', '-p', '{"spec":{"method":"floppy"}}');
    expect(badEnum.code).toBe(1);
    expect(badEnum.stderr).toContain('Unsupported value: "floppy"');
  });

  it('server-side apply: a field another manager set differently is a 409 conflict unless --force-conflicts', async () => {
    writeFileSync(join(work, 'apply.yaml'), 'apiVersion: postgresql.cnpg.io/v1\nkind: Backup\nmetadata:\n  name: daily-1\n  namespace: data\nspec:\n  cluster:\n    name: orders\n  method: volumeSnapshot\n');
    const conflict = await kubectl('apply', '--server-side', '--field-manager=someone-else', '-f', join(work, 'apply.yaml'));
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('conflict with "platform-failover"');
    expect(await kubectl('apply', '--server-side', '--field-manager=someone-else', '--force-conflicts', '-f', join(work, 'apply.yaml'))).toMatchObject({ code: 0 });
    const owners = api.managers({ apiVersion: CNPG, kind: 'Backup', namespace: 'data', name: 'daily-1' });
    expect(owners.find((m) => m.manager === 'someone-else')?.fields).toContain('spec.method');
    expect(owners.find((m) => m.manager === 'platform-failover')).toBeUndefined();
  });

  it('scales through the scale subresource; rollout status waits until the Deployment controller reports the replicas ready', async () => {
    expect(await kubectl('scale', 'deployment', 'web', '-n', 'web', '--replicas=3')).toMatchObject({ code: 0 });
    expect(api.read({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'web', name: 'web' })?.status).not.toMatchObject({ readyReplicas: 3 });
    expect(await kubectl('rollout', 'status', 'deployment/web', '-n', 'web', '--timeout=20s')).toMatchObject({ code: 0, stdout: expect.stringContaining('successfully rolled out') });
    expect(api.read({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'web', name: 'web' })?.status).toMatchObject({ readyReplicas: 3, observedGeneration: 2 });
    expect(api.requests.some((r) => r.includes('/deployments?') && r.includes('watch=true'))).toBe(true);
    expect(api.managers({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'web', name: 'web' }).find((m) => m.fields.includes('spec.replicas'))?.manager).toBe('kubectl');
  });

  it('deletes with propagation: dependents go with their owner (Background), and delete --wait returns once the object is gone', async () => {
    api.put({ apiVersion: CNPG, kind: 'Cluster', metadata: { name: 'tmp', namespace: 'data' }, spec: { instances: 1 } });
    const owner = api.read({ apiVersion: CNPG, kind: 'Cluster', namespace: 'data', name: 'tmp' })!;
    api.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tmp-1', namespace: 'data', ownerReferences: [{ apiVersion: CNPG, kind: 'Cluster', name: 'tmp', uid: (owner.metadata as Obj).uid, controller: true }] }, spec: { containers: [{ name: 'postgres' }] } });
    expect(await kubectl('delete', 'clusters.postgresql.cnpg.io', 'tmp', '-n', 'data', '--wait=true', '--timeout=20s')).toMatchObject({ code: 0 });
    expect(api.read({ apiVersion: CNPG, kind: 'Cluster', namespace: 'data', name: 'tmp' })).toBeUndefined();
    await FakeWorld.until('the garbage collector', 5, () => api.read({ apiVersion: 'v1', kind: 'Pod', namespace: 'data', name: 'tmp-1' }) === undefined);
  });

  it('execs over WebSocket into a registered container; exit codes come back', async () => {
    api.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-1', namespace: 'data' }, spec: { containers: [{ name: 'postgres' }] }, status: { phase: 'Running' } });
    api.onExec('postgres', (_pod, _c, command) => (command.includes('SELECT 1') ? { stdout: '1\n', exitCode: 0 } : { stdout: '', stderr: 'ERROR: no', exitCode: 3 }));
    expect(await kubectl('exec', '-n', 'data', 'db-1', '-c', 'postgres', '--', 'psql', '-c', 'SELECT 1')).toMatchObject({ code: 0, stdout: '1\n' });
    expect(await kubectl('exec', '-n', 'data', 'db-1', '-c', 'postgres', '--', 'psql', '-c', 'SELECT 2')).toMatchObject({ code: 3 });
    const wrong = await kubectl('exec', '-n', 'data', 'db-1', '-c', 'nope', '--', 'true');
    expect(wrong.code).not.toBe(0);
  });
});

describe('the fake world: Flux, CloudNativePG and the Deployment controller over the generated clusters/', () => {
  const work = mkdtempSync(join(tmpdir(), 'fake-world-'));
  const platform = defaultPlatform();
  let world: FakeWorld;
  const db = (c: string) => world.database(c, 'data', 'orders') ?? {};
  const status = (c: string) => (db(c).status ?? {}) as Obj;

  beforeAll(async () => {
    world = await FakeWorld.start({ repoRoot, platform, clusters: [platform.cluster('dr'), platform.cluster('production')], tickMs: 100, fluxIntervalTicks: 3 });
    writeFileSync(join(work, 'dr'), world.get('dr').api.kubeconfig());
    writeFileSync(join(work, 'production'), world.get('production').api.kubeconfig());
  });
  afterAll(async () => {
    await world.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const kube = (context: string, ...args: string[]) =>
    exec('kubectl', ['--context', context, ...args], { env: { ...process.env, KUBECONFIG: `${join(work, 'dr')}:${join(work, 'production')}`, KUBECACHEDIR: join(work, 'cache') }, timeout: 60_000 }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it("the standby's replica cluster waits for a base backup, then replays the primary's replicated archive", async () => {
    await FakeWorld.until('production healthy', 20, () => status('production').phase === HEALTHY || undefined);
    expect(status('dr')).toMatchObject({ phase: 'Setting up primary' });
    expect(String(status('dr').phaseReason)).toContain('no target backup found in s3://hakube-production-app-backups-ap-northeast-1/postgres/orders/orders');
    expect(world.get('production').cnpg.insert('data', 'orders', { item: 'a' })).toBeUndefined();
    world.get('production').api.create({ apiVersion: CNPG, kind: 'Backup', metadata: { name: 'first', namespace: 'data' }, spec: { cluster: { name: 'orders' } } }, 'test');
    const backup = await FakeWorld.until('the backup', 10, () => {
      const s = world.get('production').api.read({ apiVersion: CNPG, kind: 'Backup', namespace: 'data', name: 'first' })?.status as Obj | undefined;
      return s?.phase === 'completed' ? s : undefined;
    });
    // Where clusters/production archives (straight into its replica-region bucket since 8accb03), as the Backup reports it.
    const archive = ((db('production').spec as Obj).backup as { barmanObjectStore: { destinationPath: string } }).barmanObjectStore.destinationPath;
    expect(archive).toBe(`s3://${platform.namesOf(platform.cluster('production')).appBackupReplicaBucket}/postgres/orders`);
    expect(backup).toMatchObject({ phase: 'completed', serverName: 'orders', destinationPath: archive });
    expect(Date.parse(String(backup.stoppedAt))).toBeGreaterThan(0);
    await FakeWorld.until('dr healthy', 20, () => status('dr').phase === HEALTHY || undefined);
    expect(world.get('production').cnpg.insert('data', 'orders', { item: 'b' })).toBeUndefined();
    await FakeWorld.until('dr replays b', 10, () => world.get('dr').cnpg.rows('data', 'orders')?.some((r) => r.item === 'b') || undefined);
    expect(world.get('dr').cnpg.insert('data', 'orders', { item: 'c' })).toContain('read-only');
    expect((await kube('dr', 'exec', '-n', 'data', 'orders-1', '-c', 'postgres', '--', 'psql', '-XAtq', '-d', 'postgres', '-c', 'SELECT pg_is_in_recovery()')).stdout).toBe('t\n');
    expect((await kube('dr', 'exec', '-n', 'data', 'orders-1', '-c', 'postgres', '--', 'psql', '-XAtq', '-c', 'SELECT now()')).code).toBe(1);
  });

  it("Flux takes back a field kubectl's default manager set, not one set under platform-failover", async () => {
    const suspend = (m?: string) => kube('dr', 'patch', 'kustomizations.kustomize.toolkit.fluxcd.io', 'apps', '-n', 'flux-system', '--type', 'merge', '-p', '{"spec":{"suspend":true}}', ...(m ? [`--field-manager=${m}`] : []));
    const suspended = () => (world.get('dr').api.read({ apiVersion: FLUX_KUSTOMIZATION, kind: 'Kustomization', namespace: 'flux-system', name: 'apps' })?.spec as Obj).suspend;
    const syncs = () => world.get('dr').flux.reconciles.get('flux-system') ?? 0;
    expect((await suspend()).code).toBe(0);
    const n = syncs();
    await FakeWorld.until('a flux-system sync', 10, () => syncs() > n || undefined);
    expect(suspended()).toBeUndefined();
    expect((await suspend('platform-failover')).code).toBe(0);
    const m = syncs();
    await FakeWorld.until('two flux-system syncs', 10, () => syncs() > m + 1 || undefined);
    expect(suspended()).toBe(true);
  });

  it('a held replica stays one segment behind while the primary switches and archives the next one', async () => {
    const before = world.get('dr').cnpg.position('data', 'orders')!;
    world.get('dr').cnpg.holdReplay('data', 'orders');
    expect(world.get('production').cnpg.insert('data', 'orders', { item: 'held' })).toBeUndefined();
    const segment = world.get('production').cnpg.switchWal('data', 'orders');
    const bytes = (lsn: string) => parseInt(lsn.split('/')[0]!, 16) * 2 ** 32 + parseInt(lsn.split('/')[1]!, 16);
    expect(segment).not.toBe(walSegmentName(before.timeline, bytes(before.lsn)));
    // The folder dr replays: its replica source's object store.
    const spec = db('dr').spec as { replica: { source: string }; externalClusters: { name: string; barmanObjectStore: { destinationPath: string; serverName?: string } }[] };
    const source = spec.externalClusters.find((e) => e.name === spec.replica.source)!;
    const replicated = `${source.barmanObjectStore.destinationPath}/${source.barmanObjectStore.serverName ?? source.name}`;
    await FakeWorld.until('the new segment in the replicated folder', 10, () => (world.store.read(replicated)?.wal && walSegmentName(world.store.read(replicated)!.wal!.timeline, world.store.read(replicated)!.wal!.lsn) === segment) || undefined);
    // Ticks pass; the replica replays nothing new.
    await new Promise((r) => setTimeout(r, 500));
    expect(world.get('dr').cnpg.position('data', 'orders')!.lsn).toBe(before.lsn);
    expect(world.get('dr').cnpg.rows('data', 'orders')?.map((r) => r.item)).not.toContain('held');
  });

  it('promotes a replica cluster when spec.replica.primary names itself (Git renders the distributed topology; enabled next to primary is refused): a promotion phase, then a new timeline and writes', async () => {
    const both = await kube('dr', 'patch', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', '--type', 'merge', '-p', '{"spec":{"replica":{"enabled":false}}}', '--field-manager=platform-failover');
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('replica.enabled cannot be used together with replica.primary');
    // Every tick's phase (the promotion phase lasts one tick, shorter than kubectl's round trip).
    const phases = new Set<string>();
    world.get('dr').api.addController(() => phases.add(String(status('dr').phase)));
    expect((await kube('dr', 'patch', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', '--type', 'merge', '-p', '{"spec":{"replica":{"primary":"dr"},"backup":{"barmanObjectStore":{"serverName":"orders-new"}}}}', '--field-manager=platform-failover')).code).toBe(0);
    await FakeWorld.until('promoted', 10, () => (status('dr').phase === HEALTHY && Number(status('dr').timelineID) === 2) || undefined);
    expect(phases).toContain('Promoting to primary cluster');
    // Recovery ended only after the held segment was replayed.
    expect(world.get('dr').cnpg.rows('data', 'orders')?.map((r) => r.item)).toContain('held');
    expect((await kube('dr', 'exec', '-n', 'data', 'orders-1', '-c', 'postgres', '--', 'psql', '-c', 'SELECT pg_is_in_recovery()')).stdout).toBe('f\n');
    expect(world.get('dr').cnpg.insert('data', 'orders', { item: 'on-dr' })).toBeUndefined();
  });

  it('hibernation stops the instances and keeps the data; a Backup of a hibernated cluster fails', async () => {
    expect((await kube('production', 'annotate', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', 'cnpg.io/hibernation=on', '--overwrite', '--field-manager=platform-failover')).code).toBe(0);
    await FakeWorld.until('no pods', 10, () => world.get('production').api.all('v1', 'Pod', 'data').length === 0 || undefined);
    expect(((status('production').conditions ?? []) as Obj[]).find((c) => c.type === 'cnpg.io/hibernation')).toMatchObject({ status: 'True', reason: 'Hibernated' });
    world.get('production').api.create({ apiVersion: CNPG, kind: 'Backup', metadata: { name: 'while-hibernated', namespace: 'data' }, spec: { cluster: { name: 'orders' } } }, 'test');
    const s = await FakeWorld.until('the backup to end', 10, () => {
      const b = world.get('production').api.read({ apiVersion: CNPG, kind: 'Backup', namespace: 'data', name: 'while-hibernated' })?.status as Obj | undefined;
      return b?.phase === 'failed' ? b : undefined;
    });
    expect(s.error).toContain('no ready instance');
  });

  it('a new cluster archiving into a folder another cluster used fails WAL archiving (barman: Expected empty archive), and its Backups end walArchivingFailing', async () => {
    // Flux is not suspended on production: deleting the Cluster makes Flux create Git's again, archiving under `orders`.
    expect((await kube('production', 'delete', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', '--wait=true', '--timeout=20s')).code).toBe(0);
    await FakeWorld.until('a new incarnation', 20, () => (status('production').phase === HEALTHY && ((status('production').conditions ?? []) as Obj[]).some((c) => c.type === 'ContinuousArchiving')) || undefined);
    expect(((status('production').conditions ?? []) as Obj[]).find((c) => c.type === 'ContinuousArchiving')).toMatchObject({ status: 'False', message: expect.stringContaining('Expected empty archive') });
    world.get('production').api.create({ apiVersion: CNPG, kind: 'Backup', metadata: { name: 'into-used', namespace: 'data' }, spec: { cluster: { name: 'orders' } } }, 'test');
    await FakeWorld.until('walArchivingFailing', 10, () => (world.get('production').api.read({ apiVersion: CNPG, kind: 'Backup', namespace: 'data', name: 'into-used' })?.status as Obj | undefined)?.phase === 'walArchivingFailing' || undefined);
  });
});

describe('distributed topology: demotion token and promotion token (CloudNativePG 1.24+)', () => {
  const platform = defaultPlatform();
  let world: FakeWorld;
  const status = (c: string) => ((world.database(c, 'data', 'orders') ?? {}).status ?? {}) as Obj;
  const patch = (c: string, spec: Obj) => world.get(c).api.write({ apiVersion: CNPG, kind: 'Cluster', namespace: 'data', name: 'orders' }, 'platform-failover', (o) => Object.assign(o.spec as Obj, spec));

  beforeAll(async () => {
    world = await FakeWorld.start({ repoRoot, platform, clusters: [platform.cluster('dr'), platform.cluster('production')], tickMs: 100, fluxIntervalTicks: 1000 });
    await FakeWorld.until('production healthy', 20, () => status('production').phase === HEALTHY || undefined);
    world.get('production').api.create({ apiVersion: CNPG, kind: 'Backup', metadata: { name: 'first', namespace: 'data' }, spec: { cluster: { name: 'orders' } } }, 'test');
    await FakeWorld.until('dr replica healthy', 20, () => status('dr').phase === HEALTHY || undefined);
  });
  afterAll(() => world.stop());

  it('the demoted primary writes status.demotionToken; a promotionToken of another system never promotes; the right one promotes once replayed up to it', async () => {
    world.get('production').cnpg.insert('data', 'orders', { item: 'last-on-production' });
    const spec = world.database('production', 'data', 'orders')!.spec as Obj;
    patch('production', { replica: { self: 'production', primary: 'dr', source: 'dr-archive' }, externalClusters: [...((spec.externalClusters as Obj[] | undefined) ?? []), { name: 'dr-archive', barmanObjectStore: { destinationPath: 's3://hakube-dr-app-backups-ap-northeast-1/postgres/orders', serverName: 'orders' } }] });
    const token = await FakeWorld.until('a demotion token', 10, () => status('production').demotionToken as string | undefined);
    const content = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as Record<string, string>;
    expect(Object.keys(content).sort()).toEqual(['databaseSystemIdentifier', 'latestCheckpointREDOLocation', 'latestCheckpointTimelineID', 'operatorVersion', 'redoWalFile', 'timeOfLatestCheckpoint']);
    expect(world.get('production').cnpg.insert('data', 'orders', { item: 'after-demotion' })).toContain('read-only');

    const forged = Buffer.from(JSON.stringify({ ...content, databaseSystemIdentifier: '1' })).toString('base64');
    patch('dr', { replica: { self: 'dr', primary: 'dr', source: 'primary-archive', promotionToken: forged } });
    await new Promise((r) => setTimeout(r, 800));
    expect(String(status('dr').phaseReason)).toContain('promotionToken is for database system 1');
    expect(world.get('dr').cnpg.insert('data', 'orders', { item: 'x' })).toContain('read-only');

    patch('dr', { replica: { self: 'dr', primary: 'dr', source: 'primary-archive', promotionToken: token } });
    await FakeWorld.until('dr promoted', 10, () => (status('dr').phase === HEALTHY && Number(status('dr').timelineID) === Number(content.latestCheckpointTimelineID) + 1) || undefined);
    expect(world.get('dr').cnpg.rows('data', 'orders')?.map((r) => r.item)).toContain('last-on-production');
    expect(world.get('dr').cnpg.insert('data', 'orders', { item: 'first-on-dr' })).toBeUndefined();
    expect(status('dr').lastPromotionToken).toBe(token);
  });

  it("psql answers the WAL positions from the replay model: a primary's write position, a replica's replay position, the token's REDO location where a promotion ended recovery", async () => {
    const work = mkdtempSync(join(tmpdir(), 'fake-topology-'));
    try {
      for (const c of ['dr', 'production']) writeFileSync(join(work, c), world.get(c).api.kubeconfig());
      const psql = (c: string, query: string) =>
        exec('kubectl', ['--context', c, 'exec', '-n', 'data', 'orders-1', '-c', 'postgres', '--', 'psql', '-XAtq', '-d', 'postgres', '-c', query], { env: { ...process.env, KUBECONFIG: `${join(work, 'dr')}:${join(work, 'production')}`, KUBECACHEDIR: join(work, 'cache') }, timeout: 60_000 }).then(
          (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
          (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
        );
      const lsn = (text: string) => text.trim().split('/').reduce((n, part) => (n << 32n) + BigInt(`0x${part}`), 0n);
      const token = JSON.parse(Buffer.from(String(status('dr').lastPromotionToken), 'base64').toString('utf8')) as Record<string, string>;
      // dr: promoted at the token, then wrote: its write position is past the REDO location, recovery ended there.
      const written = await psql('dr', 'SELECT pg_current_wal_lsn()');
      expect(written.code).toBe(0);
      expect(lsn(written.stdout)).toBeGreaterThan(lsn(token.latestCheckpointREDOLocation!));
      expect((await psql('dr', 'SELECT pg_last_wal_replay_lsn()')).stdout).toBe(`${token.latestCheckpointREDOLocation}\n`);
      // production: demoted, replaying dr's archive (its source dr-archive names dr's bucket, which dr archives into).
      const refused = await psql('production', 'SELECT pg_current_wal_lsn()');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('recovery is in progress');
      expect(lsn((await psql('production', 'SELECT pg_last_wal_replay_lsn()')).stdout)).toBeGreaterThanOrEqual(lsn(token.latestCheckpointREDOLocation!));
      // archive-freshness's one query (failover's steps/archive-freshness.ts), psql -XAtq: recovery|replay LSN|timeline|wal_segment_size.
      const control = await psql('production', "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), timeline_id, (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') FROM pg_control_checkpoint()");
      expect(control.code).toBe(0);
      const [recovering, replayed, timeline, segmentBytes] = control.stdout.trim().split('|');
      expect([recovering, replayed, segmentBytes]).toEqual(['t', (await psql('production', 'SELECT pg_last_wal_replay_lsn()')).stdout.trim(), '16777216']);
      expect(Number(timeline)).toBeGreaterThanOrEqual(2);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("the webhook refuses replica.enabled next to replica.primary, and a topology name missing from externalClusters", async () => {
    const work = mkdtempSync(join(tmpdir(), 'fake-webhook-'));
    try {
      writeFileSync(join(work, 'dr'), world.get('dr').api.kubeconfig());
      const patchDr = (p: Obj) =>
        exec('kubectl', ['--context', 'dr', 'patch', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', '--type', 'merge', '-p', JSON.stringify(p)], { env: { ...process.env, KUBECONFIG: join(work, 'dr'), KUBECACHEDIR: join(work, 'cache') }, timeout: 60_000 }).then(
          () => ({ code: 0, stderr: '' }),
          (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
        );
      const both = await patchDr({ spec: { replica: { enabled: true } } });
      expect(both.code).not.toBe(0);
      expect(both.stderr).toContain('replica.enabled cannot be used together with replica.primary');
      const missing = await patchDr({ spec: { replica: { primary: 'elsewhere' } } });
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('spec.replica.primary: Invalid value: "elsewhere": external cluster not found in spec.externalClusters');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
