import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { findWorkload, renderRecoveryCluster } from '../src/database';
import { cnpgBootstrapWebhook, created, flatten, fluxApply, kubectl, serverSideApply, update, type LiveObject } from '../src/testing/flux-ssa-model';
import { GENERATED_CLUSTERS, type CnpgState, type FakeRun, type Rule, type S3Object } from './harness';
import { DR_BUCKET, DR_PROMOTED_BASE, DR_WROTE, FAILBACK_FINAL_STEPS, followingDrArchive, generatedPrimaryCluster, generatedStandbyCluster, PRODUCTION_BUCKET, promotedStandby, REPLICA_BOOTSTRAP as BOOTSTRAP, REPLICA_BUCKET, runFailback, type scenario } from './scenario';

let servers: Server[] = [];
afterEach(() => {
  servers.forEach((s) => s.close());
  servers = [];
});

const drNames = defaultPlatform().namesOf(defaultPlatform().cluster('dr'));
/** Where Git (postgres.ts) has production archive: its bucket in dr's region. */
const productionArchive = defaultPlatform().namesOf(defaultPlatform().cluster('production')).appWalArchive;

const STEPS = [
  'preflight',
  'mark-failing-back',
  'primary-nodes-ready',
  'fence-primary-apps',
  'rebuild-primary-replica',
  'primary-caught-up',
  'fence-standby-app',
  'demote-standby',
  'promote-primary',
  'mark-restored',
  ...FAILBACK_FINAL_STEPS,
];

async function switchover(extraArgs: string[] = [], overrides: Partial<Parameters<typeof scenario>[0]> = {}) {
  const result = await runFailback(extraArgs, overrides);
  servers.push(result.web.server);
  return result;
}

const prod = 'kubectl --context production';
const dr = 'kubectl --context dr';
const DEMOTE =
  `${dr} patch clusters.postgresql.cnpg.io orders -n data --type merge -p ` +
  JSON.stringify({
    spec: {
      replica: { enabled: null, self: 'dr', primary: 'production', source: 'production' },
      externalClusters: [
        {
          name: 'production',
          barmanObjectStore: {
            destinationPath: 's3://hakube-production-app-backups-ap-northeast-1/postgres/orders',
            endpointURL: 'https://s3.ap-northeast-1.amazonaws.com',
            s3Credentials: { inheritFromIAMRole: true },
            serverName: 'orders-r1',
            wal: { maxParallel: 8 },
          },
        },
        { name: 'dr', barmanObjectStore: { destinationPath: 's3://hakube-dr-app-backups-ap-northeast-1/postgres/orders', serverName: 'orders-r0', endpointURL: 'https://s3.ap-northeast-1.amazonaws.com', s3Credentials: { inheritFromIAMRole: true } } },
      ],
    },
  }) +
  ' --field-manager=platform-failover';
const PROMOTES = (c: string) => c.startsWith(`${prod} patch clusters.postgresql.cnpg.io orders`) && c.includes('"primary":"production"');

/** Git's production Cluster as kustomize-controller applies it (no status). */
const gitPrimaryCluster = () => {
  const { status: _status, ...cluster } = generatedPrimaryCluster();
  return cluster;
};

/**
 * production's data/orders with its field managers: Git's object as Flux created it, then every
 * recorded write of the run to it, replayed through flux-ssa-model (a delete removes it; a
 * server-side apply is its manager's, with CloudNativePG's webhook; a client-side apply and a
 * patch are Updates).
 */
function productionClusterAfter(run: FakeRun): LiveObject {
  let live = created(gitPrimaryCluster());
  for (const argv of run.argv) {
    const [tool, , context, verb, resource, name] = argv;
    if (tool !== 'kubectl' || context !== 'production') continue;
    const args = argv.slice(1);
    if (verb === 'delete' && resource === 'clusters.postgresql.cnpg.io' && name === 'orders') live = { fields: new Map(), managedFields: [] };
    else if (verb === 'patch' && resource === 'clusters.postgresql.cnpg.io' && name === 'orders') kubectl(live, args);
    else if (verb === 'apply') {
      const doc = parseAllDocuments(readFileSync(args[args.indexOf('-f') + 1]!, 'utf8'))
        .map((d) => d.toJSON() as Record<string, unknown>)
        .find((d) => d.kind === 'Cluster');
      if (!doc) continue;
      const manager = args.find((a) => a.startsWith('--field-manager='))?.slice('--field-manager='.length);
      if (args.includes('--server-side')) serverSideApply(live, manager ?? 'kubectl', doc, cnpgBootstrapWebhook);
      else update(live, manager ?? 'kubectl-client-side-apply', flatten(doc));
    }
  }
  return live;
}

describe('failback --primary production (switchover)', () => {
  it('rebuilds production as a replica of dr, demotes dr, promotes production with the demotion token at dr\'s last write: nothing lost, dr re-armed without a rebuild', async () => {
    const { run, web } = await switchover();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const journal = JSON.parse(readFileSync(join(run.outDir, 'journal.json'), 'utf8')) as { steps: { step: string; status: string }[] };
    expect(journal.steps.map((s) => s.step)).toEqual(STEPS);
    expect(journal.steps.every((s) => s.status === 'done')).toBe(true);

    // The diverged database goes only after its fenced backup is found; its replacement replicates dr.
    const at = (c: string) => run.calls.indexOf(c);
    const fencedCheck = run.calls.lastIndexOf(`${prod} get backups.postgresql.cnpg.io -n data -l failover.platform.io/purpose=fenced -o json`);
    const deleted = at(`${prod} delete clusters.postgresql.cnpg.io orders -n data --wait=true --timeout=1800s`);
    const applied = at(`${prod} apply --server-side --field-manager=platform-failover -f ${join(run.outDir, 'production-orders-replica.yaml')}`);
    expect(fencedCheck).toBeGreaterThan(0);
    expect(fencedCheck).toBeLessThan(deleted);
    expect(deleted).toBeLessThan(applied);
    const cluster = parseAllDocuments(readFileSync(join(run.outDir, 'production-orders-replica.yaml'), 'utf8'))[1]!.toJSON();
    expect(cluster.spec.replica).toEqual({ self: 'production', primary: 'dr', source: 'dr' });
    expect(cluster.spec.bootstrap).toEqual({ recovery: { source: 'dr', database: 'app', owner: 'app' } });
    expect(cluster.spec.externalClusters.map((e: { name: string; barmanObjectStore: { serverName: string; destinationPath: string } }) => [e.name, e.barmanObjectStore.destinationPath, e.barmanObjectStore.serverName])).toEqual([
      ['dr', 's3://hakube-dr-app-backups-ap-northeast-1/postgres/orders', 'orders-r0'],
      ['production', `s3://${productionArchive.bucket}/postgres/orders`, 'orders-r1'],
    ]);
    // Its own archive is what Git renders for production (postgres.ts: appWalArchive, in dr's region), under the new server name.
    const git = generatedPrimaryCluster() as { spec: { backup: { barmanObjectStore: Record<string, unknown> }; env: { name: string; value: string }[] } };
    expect(cluster.spec.backup.barmanObjectStore).toEqual({ ...git.spec.backup.barmanObjectStore, serverName: 'orders-r1' });
    expect(cluster.spec.env).toEqual(git.spec.env);
    expect(cluster.spec.env).toContainEqual({ name: 'AWS_DEFAULT_REGION', value: productionArchive.region });

    // Switchover: dr's apps to 0, then its demotion, then production's promotion with the token.
    const drAppsOff = at(`${dr} patch deployment web -n web --type merge -p {"spec":{"replicas":0}} --field-manager=platform-failover`);
    const demoted = at(DEMOTE);
    const promoted = run.calls.findIndex(PROMOTES);
    expect(applied).toBeLessThan(drAppsOff);
    expect(drAppsOff).toBeLessThan(demoted);
    expect(demoted).toBeLessThan(promoted);
    const token = run.cnpg.dr!.cluster!.status!.demotionToken!;
    expect(JSON.parse(Buffer.from(token, 'base64').toString('utf8'))).toMatchObject({ latestCheckpointREDOLocation: DR_WROTE, latestCheckpointTimelineID: '1' });
    expect(run.calls[promoted]).toBe(
      `${prod} patch clusters.postgresql.cnpg.io orders -n data --type merge -p ${JSON.stringify({ spec: { replica: { primary: 'production', promotionToken: token } } })} --field-manager=platform-failover`,
    );
    // What reality would show: production promoted exactly at dr's last write, after replaying to it.
    expect(run.cnpg.production!.promotedAt).toBe(DR_WROTE);
    expect(run.cnpg.production!.lostBytes).toBe(0);
    expect(run.cnpg.production!.cluster!.status!.lastPromotionToken).toBe(token);

    // Re-armed by the switchover itself: dr follows production's new archive; never deleted or re-applied.
    expect(run.calls.filter((c) => c.startsWith(`${dr} delete`) || c.startsWith(`${dr} apply`))).toEqual([]);
    expect(run.cnpg.dr!.cluster!.spec!.replica).toEqual({ self: 'dr', primary: 'production', source: 'production' });
    // Git records both archives: production's new one, and dr's, which it keeps.
    expect(readFileSync(run.archivesFile, 'utf8')).toContain('DATABASE_ARCHIVE_SERVER_NAMES: Readonly<Record<string, string>> = {\n  "dr": "orders-r0",\n  "production": "orders-r1",\n};');
    expect(JSON.parse(readFileSync(run.stateFile, 'utf8'))).toMatchObject({ production: { serving: 'production', runId: 'r1' } });
    expect(web.orders).toEqual(['failover-check-r1-failback']);
    expect(run.calls).toContain(`aws ssm delete-parameter --region ap-northeast-1 --name ${drNames.ssm.promotedMarker}`);
  });

  it("production's rebuilt database archives into the folder dr's re-armed replica replays (its bucket in dr's region, Git's store): its new timeline is there at once, whatever S3 replication's lag", async () => {
    // Replication of production's own (Seoul) bucket is no path for the archive any more: a day late, an archive written there is not in dr's folder.
    const { run } = await switchover([], { replicationLagSeconds: 86400 });
    expect(run.code).toBe(0);
    const follows = run.cnpg.dr!.cluster!.spec!.externalClusters!.find((e) => e.name === 'production')!.barmanObjectStore!;
    const folder = /^s3:\/\/([^/]+)\/(.*)$/.exec(follows.destinationPath!)!;
    expect(folder[1]).toBe(productionArchive.bucket);
    const prefix = `${folder[2]}/${follows.serverName}/wals/`;
    // Written there (the bucket's own objects, not a replicated view): production's promoted timeline (2) from dr's last write,
    // its history file first (what dr's replica needs to follow the switch).
    expect((run.s3[productionArchive.bucket] ?? []).filter((o) => o.Key.startsWith(prefix)).map((o) => [o.Key.slice(prefix.length), o.EndLsn])).toEqual([
      ['00000002.history', undefined],
      ['0000000200000000/000000020000000000000014.gz', DR_WROTE],
    ]);
    expect((run.s3[PRODUCTION_BUCKET] ?? []).filter((o) => o.Key.includes('/wals/'))).toEqual([]);
  });

  it("leaves production's database so that Flux's apply of Git's Cluster (bootstrap.initdb) is admitted when it resumes: the recovery bootstrap is released", async () => {
    const { run } = await switchover();
    expect(run.code).toBe(0);
    const release = join(run.outDir, 'production-orders-release-bootstrap.yaml');
    const applied = run.calls.indexOf(`${prod} apply --server-side --field-manager=platform-failover -f ${release}`);
    expect(applied).toBeGreaterThan(run.calls.findIndex(PROMOTES));
    const doc = parseAllDocuments(readFileSync(release, 'utf8'))[0]!.toJSON() as { spec: Record<string, unknown> & { replica: Record<string, unknown> } };
    expect(doc.spec.bootstrap).toBeUndefined();
    // The promotion stays as it is: no demotion back to dr.
    expect(doc.spec.replica).toMatchObject({ self: 'production', primary: 'production', source: 'dr' });
    const live = productionClusterAfter(run);
        expect([...live.fields.keys()].filter((p) => p.startsWith('spec.bootstrap.'))).toEqual([]);
    fluxApply(live, gitPrimaryCluster(), cnpgBootstrapWebhook);
    expect(live.fields.get('spec.bootstrap.initdb.database')).toBe('app');
    expect([...live.fields.keys()].filter((p) => p.startsWith('spec.bootstrap.recovery'))).toEqual([]);
    // The promotion outlives the sync.
    expect(live.fields.get('spec.replica.primary')).toBe('production');
  });

  it("a re-run between promote-primary's patch and the promotion finds production promoting with dr's token: not rebuilt, the switchover completes", async () => {
    const token = Buffer.from(
      JSON.stringify({ latestCheckpointTimelineID: '1', redoWalFile: '000000010000000000000014', databaseSystemIdentifier: '7300000000000000001', latestCheckpointREDOLocation: DR_WROTE, timeOfLatestCheckpoint: 'Thu 01 Jan 2026 12:30:00 PM UTC', operatorVersion: '1.27.0' }),
    ).toString('base64');
    const promoting = followingDrArchive(generatedPrimaryCluster(), { self: 'production', primary: 'production', source: 'dr', promotionToken: token });
    const demoted = promotedStandby() as { spec: { replica: Record<string, unknown> }; status: Record<string, unknown> };
    demoted.spec.replica = { self: 'dr', primary: 'production', source: 'production' };
    demoted.status = { ...demoted.status, demotionToken: token };
    // dr archived up to its shutdown checkpoint before the earlier run demoted it (the fake archives only while it models a primary).
    const drArchived = { Key: 'postgres/orders/orders-r0/wals/0000000100000000/000000010000000000000014.gz', LastModified: '2026-01-01T12:30:00+00:00', EndLsn: DR_WROTE };
    const { run } = await switchover([], { primaryCluster: { cluster: promoting, replayLsn: BOOTSTRAP }, standbyCluster: demoted, drBucket: [DR_PROMOTED_BASE, drArchived] });
    expect(run.stdout).toContain("data/orders on production is promoted, or promoting, with dr's current demotion token: the switchover is under way, nothing rebuilt");
    expect(run.calls.filter((c) => c.startsWith(`${prod} delete`) || c.startsWith(`${prod} apply --server-side`))).toEqual([]);
    expect(run.code).toBe(0);
    // It promoted at dr's last write once it had replayed up to the token.
    expect(run.cnpg.production!.promotedAt).toBe(DR_WROTE);
    expect(run.cnpg.production!.lostBytes).toBe(0);
  });

  it("refuses in the preflight, changing nothing, when dr's live archive has no base backup newer than its promotion (production's replica could not start), with the backup command", async () => {
    const older = { Key: 'postgres/orders/orders-r0/base/20251230T030000/backup.info', LastModified: '2025-12-30T03:01:00+00:00' };
    const { run } = await switchover([], { drBucket: [older] });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `FAILED at step preflight: dr's live archive s3://${DR_BUCKET}/postgres/orders/orders-r0/ (what production's replica would replay) has no base backup newer than dr's promotion at 2026-01-01T11:00:00Z (found: 20251230T030000): production's rebuild as a replica could not start. Nothing was changed. Take one on dr: echo '{"apiVersion":"postgresql.cnpg.io/v1","kind":"Backup","metadata":{"name":"orders-base-r1","namespace":"data","labels":{"app.kubernetes.io/managed-by":"platform-failover","failover.platform.io/purpose":"base"}},"spec":{"cluster":{"name":"orders"},"method":"barmanObjectStore"}}' | kubectl --context dr apply -f - ;`,
    );
    expect(run.calls.filter((c) => / (patch|apply|delete|scale|put-parameter|delete-parameter|update-health-check|change-resource-record-sets|update-auto-scaling-group|disable-alarm-actions) /.test(c))).toEqual([]);
    // The listing read dr's live folder (its spec.backup: bucket + serverName), not Git's.
    expect(run.s3Pages.map((p) => [p.bucket, p.prefix])).toContainEqual([DR_BUCKET, 'postgres/orders/orders-r0/base/']);
  });

  it('gives up waiting for a demotion token after --demotion-timeout and leaves a safe state: dr primary again and serving, production still a replica, nothing deleted; exit 1 with what to do', async () => {
    const { run } = await switchover(['--demotion-timeout', '8'], { standbyModel: { writeLsn: DR_WROTE, demotionArchives: false } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("FAILED at step demote-standby: timed out after 8 s waiting for dr's status.demotionToken; last seen: no status.demotionToken yet (shutdown checkpoint not archived).");
    expect(run.stdout).toContain('Switchover abandoned, nothing lost or deleted: data/orders on dr is primary again (orders-1 writable) and its apps are back at 3 replicas');
    expect(run.stdout).toContain("production's data/orders is still a replica of it and is NOT promoted");
    expect(run.stdout).toContain('then re-run the fail-back: it resumes and keeps the replica');
    // dr: promoted back with its own topology, its writes kept; its apps back up after its database is writable.
    expect(run.cnpg.dr!.cluster!.spec!.replica).toMatchObject({ self: 'dr', primary: 'dr', source: 'production' });
    expect(run.cnpg.dr!.cluster!.spec!.externalClusters!.find((e) => e.name === 'dr')!.barmanObjectStore!.serverName).toBe('orders');
    expect(run.cnpg.dr!.lostBytes).toBe(0);
    const drBack = run.calls.lastIndexOf(`${dr} patch deployment web -n web --type merge -p {"spec":{"replicas":3}} --field-manager=platform-failover`);
    const drOff = run.calls.indexOf(`${dr} patch deployment web -n web --type merge -p {"spec":{"replicas":0}} --field-manager=platform-failover`);
    expect(drOff).toBeGreaterThan(0);
    expect(drBack).toBeGreaterThan(drOff);
    // production: the replica it was rebuilt as, never promoted; nothing deleted on dr; DNS untouched.
    expect(run.calls.some(PROMOTES)).toBe(false);
    expect(run.cnpg.production!.cluster!.spec!.replica).toMatchObject({ primary: 'dr' });
    expect(run.cnpg.production!.promotedAt).toBeUndefined();
    expect(run.calls.filter((c) => c.startsWith(`${dr} delete`) || c.includes('change-resource-record-sets'))).toEqual([]);
    // No checkpoint: a re-run repeats the switchover (and keeps the replica it built).
    expect(run.calls.some((c) => c.includes('restored by run'))).toBe(false);
  });

  it('a re-run after an abandoned switchover resumes: keeps the replica the first run built, demotes dr, promotes production with the token, 0 bytes lost', async () => {
    const replica = followingDrArchive(generatedPrimaryCluster());
    (replica.spec as { backup: { barmanObjectStore: { serverName: string } } }).backup.barmanObjectStore.serverName = 'orders-r1';
    const { run } = await switchover(['--run-id', 'r2'], { primaryCluster: { cluster: replica, replayLsn: BOOTSTRAP }, marker: 'run r0: dr failing back to production, served since 2026-01-01T11:00:00Z' });
    expect(run.stdout).toContain('production already replicates dr (archives under orders-r1): kept, not rebuilt');
    expect(run.code).toBe(0);
    expect(run.cnpg.production!.promotedAt).toBe(DR_WROTE);
    expect(run.cnpg.production!.lostBytes).toBe(0);
  });

  it('refuses the promotion token next to minApplyDelay, and keeps a replica an earlier run built (not rebuilt)', async () => {
    const replica = generatedPrimaryCluster() as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    replica.spec = { ...replica.spec, replica: { self: 'production', primary: 'dr', source: 'dr', minApplyDelay: '5m' }, externalClusters: [{ name: 'dr', barmanObjectStore: { destinationPath: 's3://hakube-dr-app-backups-ap-northeast-1/postgres/orders', serverName: 'orders-r0' } }] };
    (replica.spec.backup as { barmanObjectStore: { serverName: string } }).barmanObjectStore.serverName = 'orders-r0a';
    const { run } = await switchover([], { primaryCluster: { cluster: replica, replayLsn: BOOTSTRAP } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('production already replicates dr (archives under orders-r0a): kept, not rebuilt');
    expect(run.calls.some((c) => c.startsWith(`${prod} delete`) || c.startsWith(`${prod} apply --server-side`))).toBe(false);
    expect(run.stdout).toContain('FAILED at step promote-primary: data/orders on production has spec.replica.minApplyDelay "5m", which CloudNativePG does not allow next to a promotionToken');
    expect(run.calls.some(PROMOTES)).toBe(false);
    // dr was demoted to follow the archive that replica writes.
    expect(run.cnpg.dr!.cluster!.spec!.externalClusters![0]!.barmanObjectStore!.serverName).toBe('orders-r0a');
  });
});

/**
 * The fake operator alone (fake-cli.mjs `cnpg`), driven the way a tool that skipped the token
 * would drive it: the test that fails the way reality would.
 */
describe('fake CloudNativePG: distributed topology', () => {
  function operator(rules: Rule[]) {
    const dir = mkdtempSync(join(tmpdir(), 'cnpg-model-'));
    symlinkSync(resolve(__dirname, 'fake-cli.mjs'), join(dir, 'kubectl'));
    writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules));
    const env = { ...process.env, FAKE_LOG: join(dir, 'log'), FAKE_RULES: join(dir, 'rules.json'), FAKE_STATE: join(dir, 'state.json') };
    // Asynchronous: a test's dozens of calls must not block vitest's worker.
    const kubectl = (...args: string[]) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((done) => {
        execFile(process.execPath, [join(dir, 'kubectl'), ...args], { env, encoding: 'utf8' }, (error, stdout, stderr) => done({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
      });
    const state = (name: string) => (JSON.parse(readFileSync(env.FAKE_STATE, 'utf8')) as Record<string, CnpgState>)[`cnpg:${name}`]!;
    return { kubectl, state };
  }
  const model = () => {
    const primaryReplica = followingDrArchive(generatedPrimaryCluster());
    return operator([
      // The object store: dr's live archive (its base backup; the promoted dr archives its WAL there), production's buckets.
      { tool: 'aws', match: '^s3api ', responses: [], s3: { [DR_BUCKET]: [DR_PROMOTED_BASE], [PRODUCTION_BUCKET]: [], [REPLICA_BUCKET]: [] }, s3Replication: [{ from: PRODUCTION_BUCKET, to: REPLICA_BUCKET }] },
      { tool: 'kubectl', match: '^--context production ', responses: [], cnpg: { name: 'production', cluster: primaryReplica, replayLsn: BOOTSTRAP, settlePolls: 0 } },
      { tool: 'kubectl', match: '^--context dr ', responses: [], cnpg: { name: 'dr', cluster: promotedStandby(), writeLsn: DR_WROTE, settlePolls: 0 } },
    ]);
  };
  const get = (context: string) => [`--context`, context, 'get', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', '-o', 'json'];
  const patch = (context: string, spec: unknown) => ['--context', context, 'patch', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', '--type', 'merge', '-p', JSON.stringify({ spec })];

  it('a promotion without the token promotes at once at what was replayed: dr\'s later writes are lost', async () => {
    const { kubectl, state } = model();
    await kubectl(...get('production'));
    await kubectl(...patch('production', { replica: { primary: 'production' } }));
    await kubectl(...get('production'));
    expect(state('production').promotedAt).toBe('0/11000000');
    expect(state('production').lostBytes).toBe(0x14000060 - 0x11000000);
  });

  it('with the token it stays in recovery until it replayed up to the REDO location, then promotes losing nothing', async () => {
    const { kubectl, state } = model();
    await kubectl(...patch('dr', { replica: { enabled: null, self: 'dr', primary: 'production', source: 'production' } }));
    let token = '';
    for (let i = 0; i < 5 && !token; i++) token = (JSON.parse((await kubectl(...get('dr'))).stdout) as { status: { demotionToken?: string } }).status.demotionToken ?? '';
    expect(token).not.toBe('');
    await kubectl(...patch('production', { replica: { primary: 'production', promotionToken: token } }));
    const recovery = async () => (await kubectl('--context', 'production', 'exec', '-n', 'data', 'orders-1', '-c', 'postgres', '--', 'psql', '-XAtq', '-d', 'postgres', '-c', 'SELECT pg_is_in_recovery()')).stdout.trim();
    await kubectl(...get('production'));
    expect(await recovery()).toBe('t');
    expect(state('production').promotedAt).toBeUndefined();
    for (let i = 0; i < 6; i++) await kubectl(...get('production'));
    expect(state('production').promotedAt).toBe(DR_WROTE);
    expect(state('production').lostBytes).toBe(0);
  });

  /**
   * production rebuilt the way rebuild-primary-replica renders it (renderRecoveryCluster), from
   * `source`, then the switchover driven to the end: dr demoted, its token read, production
   * promoted with it. Returns what reality would show.
   */
  async function switchoverFrom(source: { destinationPath: string; serverName: string }, extraObjects: S3Object[] = []) {
    const dir = mkdtempSync(join(tmpdir(), 'cnpg-replica-'));
    const workload = findWorkload(join(GENERATED_CLUSTERS, 'production'));
    const manifest = renderRecoveryCluster({
      workload,
      source: { ...source, region: 'ap-northeast-1', s3Credentials: { inheritFromIAMRole: true } },
      target: { archive: productionArchive, serverName: 'orders-r1' },
      targetWorkload: workload,
      runId: 'r1',
      topology: { self: 'production', primary: 'dr', source: 'dr' },
    });
    writeFileSync(join(dir, 'replica.yaml'), manifest.map((o) => `---\n${stringify(o)}`).join(''));
    const { kubectl, state } = operator([
      { tool: 'aws', match: '^s3api ', responses: [], s3: { [DR_BUCKET]: [DR_PROMOTED_BASE, ...extraObjects], [PRODUCTION_BUCKET]: [], [REPLICA_BUCKET]: [] }, s3Replication: [{ from: PRODUCTION_BUCKET, to: REPLICA_BUCKET }] },
      { tool: 'kubectl', match: '^--context production ', responses: [], cnpg: { name: 'production', cluster: null, bootstrapLsn: BOOTSTRAP, settlePolls: 0 } },
      { tool: 'kubectl', match: '^--context dr ', responses: [], cnpg: { name: 'dr', cluster: promotedStandby(), writeLsn: DR_WROTE, settlePolls: 0 } },
    ]);
    await kubectl('--context', 'production', 'apply', '--server-side', '--field-manager=platform-failover', '-f', join(dir, 'replica.yaml'));
    for (let i = 0; i < 3; i++) await kubectl(...get('production'));
    const bootstrapped = JSON.parse((await kubectl(...get('production'))).stdout) as { status: { phase?: string; currentPrimary?: string } };
    const podAnswers = await kubectl('--context', 'production', 'exec', '-n', 'data', 'orders-1', '-c', 'postgres', '--', 'psql', '-XAtq', '-d', 'postgres', '-c', 'SELECT pg_last_wal_replay_lsn()');
    await kubectl(...patch('dr', { replica: { enabled: null, self: 'dr', primary: 'production', source: 'production' } }));
    let token = '';
    for (let i = 0; i < 5 && !token; i++) token = (JSON.parse((await kubectl(...get('dr'))).stdout) as { status: { demotionToken?: string } }).status.demotionToken ?? '';
    await kubectl(...patch('production', { replica: { primary: 'production', promotionToken: token } }));
    for (let i = 0; i < 12; i++) await kubectl(...get('production'));
    return { bootstrapped, podAnswers, production: state('production') };
  }
  const drLive = { destinationPath: `s3://${DR_BUCKET}/postgres/orders`, serverName: 'orders-r0' };

  it("replays the archive FOLDER its external cluster names: pointed at dr's live archive (bucket + serverName) it promotes at dr's last write, 0 bytes lost", async () => {
    const { bootstrapped, production } = await switchoverFrom(drLive);
    expect(bootstrapped.status).toMatchObject({ phase: 'Cluster in healthy state', currentPrimary: 'orders-1' });
    expect(production.promotedAt).toBe(DR_WROTE);
    expect(production.lostBytes).toBe(0);
  });

  it('a replica pointed at a bucket that does not exist never bootstraps (no base backup: the full-recovery job fails, the Cluster stays "Setting up primary", no instance) and is never promoted', async () => {
    const { bootstrapped, podAnswers, production } = await switchoverFrom({ ...drLive, destinationPath: 's3://hakube-dr-app-backups-ap-northeast-3/postgres/orders' });
    expect(bootstrapped.status.phase).toBe('Setting up primary');
    expect(bootstrapped.status.currentPrimary).toBeUndefined();
    expect(podAnswers.status).not.toBe(0);
    expect(production.promotedAt).toBeUndefined();
  });

  it("a replica pointed at the wrong serverName (Git's pre-promotion `orders`, an empty folder) never bootstraps: no target backup found", async () => {
    const { bootstrapped, production } = await switchoverFrom({ ...drLive, serverName: 'orders' });
    expect(bootstrapped.status.phase).toBe('Setting up primary');
    expect(production.promotedAt).toBeUndefined();
  });

  it("a replica pointed at a stale folder that has a base backup (the pilot light's archive from before the promotion) bootstraps but never reaches the token's REDO location: never promoted, dr's writes are not there", async () => {
    const stale: S3Object[] = [
      { Key: 'postgres/orders/orders/base/20251231T030000/backup.info', LastModified: '2025-12-31T03:01:00+00:00' },
      { Key: 'postgres/orders/orders/wals/0000000100000000/000000010000000000000010.gz', LastModified: '2025-12-31T10:59:00+00:00' },
    ];
    const { bootstrapped, production } = await switchoverFrom({ ...drLive, serverName: 'orders' }, stale);
    expect(bootstrapped.status.phase).toBe('Cluster in healthy state');
    expect(production.promotedAt).toBeUndefined();
  });

  /**
   * The app owner's credentials across promotions (issue #19, docs/decisions/app-database-password.md):
   * two full round trips (dr promoted, production promoted back, twice), the second fail-back
   * rebuilding production as a replica of dr the way rebuild-primary-replica does. After each
   * promotion the app logs in with the password in the `orders-app` Secret it reads on the
   * cluster that now serves (the fake's CloudNativePG: fake-cli.mjs, "The app owner's password").
   */
  describe("the app's password after each promotion", () => {
    type Cluster = { spec: Record<string, unknown> & { bootstrap: Record<string, Record<string, unknown>>; backup: { barmanObjectStore: { serverName: string } } } };
    const APP = 'orders-app';
    /** Git's clusters as synthesized (the shipped rendering); `managedOwner: false` drops the owner's managed role (the rendering before). */
    const world = (managedOwner: boolean) => {
      const strip = (c: Cluster): Cluster => {
        if (!managedOwner) delete c.spec.managed;
        return c;
      };
      const production = strip(generatedPrimaryCluster() as Cluster);
      const standby = strip(generatedStandbyCluster() as Cluster);
      // dr's live archive holds a base backup taken after its promotion: what production's rebuild restores.
      const drBase = { Key: `postgres/orders/${standby.spec.backup.barmanObjectStore.serverName}/base/20260101T111500/backup.info`, LastModified: '2026-01-01T11:16:00+00:00' };
      return {
        standby,
        ...operator([
          { tool: 'aws', match: '^s3api ', responses: [], s3: { [DR_BUCKET]: [drBase], [productionArchive.bucket]: [] } },
          // Today's production was made by initdb: the role has the operator's random `orders-app` password.
          { tool: 'kubectl', match: '^--context production ', responses: [], cnpg: { name: 'production', cluster: production, writeLsn: BOOTSTRAP, replayLsn: BOOTSTRAP, settlePolls: 0, rolePassword: 'pw-initdb', secrets: { [APP]: 'pw-initdb' } } },
          { tool: 'kubectl', match: '^--context dr ', responses: [], cnpg: { name: 'dr', cluster: standby, replayLsn: BOOTSTRAP, settlePolls: 0 } },
        ]),
      };
    };
    type World = ReturnType<typeof world>;
    /** A planned switchover from `from` to `to`: `from` demoted, its new token read, `to` promoted with it. */
    async function switchTo(m: World, from: string, to: string) {
      const before = m.state(from).cluster?.status?.demotionToken;
      await m.kubectl(...patch(from, { replica: { primary: to } }));
      let token = '';
      for (let i = 0; i < 8 && !token; i++) {
        const t = (JSON.parse((await m.kubectl(...get(from))).stdout) as { status: { demotionToken?: string } }).status.demotionToken;
        if (t && t !== before) token = t;
      }
      expect(token, `${from}'s demotion token`).not.toBe('');
      await m.kubectl(...patch(to, { replica: { primary: to, promotionToken: token } }));
      for (let i = 0; i < 12; i++) await m.kubectl(...get(to));
      expect(m.state(to).cluster!.status!.lastPromotionToken).toBe(token);
    }
    /** Fail-back as rebuild-primary-replica does it: production deleted, re-created from dr's live archive (renderRecoveryCluster), then the switchover. */
    async function rebuildAndFailBack(m: World) {
      const dir = mkdtempSync(join(tmpdir(), 'cnpg-rebuild-'));
      const workload = findWorkload(join(GENERATED_CLUSTERS, 'production'));
      const manifest = renderRecoveryCluster({
        workload,
        source: { destinationPath: `s3://${DR_BUCKET}/postgres/orders`, serverName: m.standby.spec.backup.barmanObjectStore.serverName, region: 'ap-northeast-1', s3Credentials: { inheritFromIAMRole: true } },
        target: { archive: productionArchive, serverName: 'orders-r2' },
        targetWorkload: workload,
        runId: 'r2',
        topology: { self: 'production', primary: 'dr', source: 'dr' },
      });
      writeFileSync(join(dir, 'replica.yaml'), manifest.map((o) => `---\n${stringify(o)}`).join(''));
      await m.kubectl('--context', 'production', 'delete', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', '--wait=true');
      await m.kubectl('--context', 'production', 'apply', '--server-side', '--field-manager=platform-failover', '-f', join(dir, 'replica.yaml'));
      for (let i = 0; i < 3; i++) await m.kubectl(...get('production'));
      expect(m.state('production').secrets, 'the rebuilt replica has no orders-app yet').toEqual({});
      await switchTo(m, 'dr', 'production');
    }
    /** The app on `cluster` logs in with the password in the Secret it reads there. */
    async function appLogsIn(m: World, cluster: string) {
      const read = await m.kubectl('--context', cluster, 'get', 'secret', APP, '-n', 'data', '-o', 'json');
      if (read.status !== 0) return read.stderr.trim();
      const password = Buffer.from((JSON.parse(read.stdout) as { data: { password: string } }).data.password, 'base64').toString('utf8');
      const login = await m.kubectl('--context', cluster, 'exec', '-n', 'data', 'orders-1', '-c', 'postgres', '--', 'psql', `host=orders-rw dbname=app user=app password=${password}`, '-XAtq', '-c', 'SELECT 1');
      return login.status === 0 ? 'ok' : login.stderr.trim();
    }

    it("Git renders the owner as a managed role whose password is each cluster's own orders-app, keeping initdb's grant of the API role", () => {
      const role = { name: 'app', ensure: 'present', login: true, inRoles: ['web_anon'], passwordSecret: { name: APP } };
      for (const cluster of [generatedPrimaryCluster(), generatedStandbyCluster()] as Cluster[]) {
        expect(cluster.spec.managed).toEqual({ roles: [role] });
        // No `secret` in the bootstrap: the operator generates orders-app in each cluster, no shared Secret exists anywhere.
        expect(Object.values(cluster.spec.bootstrap)[0]!.secret).toBeUndefined();
      }
    });

    it("without the managed owner (the rendering before): the promoted dr logs in once, but production, promoted back on the same pods, keeps dr's password (the instance manager already applied its unchanged orders-app)", async () => {
      const m = world(false);
      expect(await appLogsIn(m, 'production')).toBe('ok');
      expect(await appLogsIn(m, 'dr')).toBe('Error from server (NotFound): secrets "orders-app" not found');
      await switchTo(m, 'production', 'dr');
      expect(m.state('dr').secrets![APP]).toMatch(/^[0-9a-f]{24}$/);
      expect(await appLogsIn(m, 'dr')).toBe('ok');
      await switchTo(m, 'dr', 'production');
      expect(await appLogsIn(m, 'production')).toContain('FATAL:  password authentication failed for user "app"');
    });

    it('as rendered (the owner a managed role on orders-app): the app logs in after every promotion of two full round trips, the second fail-back rebuilding production, with no Secret shared between the clusters', async () => {
      const m = world(true);
      expect(await appLogsIn(m, 'production')).toBe('ok');
      await switchTo(m, 'production', 'dr');
      expect(await appLogsIn(m, 'dr'), 'round 1: promoted dr').toBe('ok');
      await switchTo(m, 'dr', 'production');
      expect(await appLogsIn(m, 'production'), 'round 1: production back on the same pods').toBe('ok');
      await switchTo(m, 'production', 'dr');
      expect(await appLogsIn(m, 'dr'), 'round 2: dr promoted again on the same pods').toBe('ok');
      await rebuildAndFailBack(m);
      expect(await appLogsIn(m, 'production'), 'round 2: production rebuilt and promoted').toBe('ok');
      // Each cluster's own operator-generated Secret: nothing copied across regions, nothing in Git or Terraform.
      const [prodPassword, drPassword] = [m.state('production').secrets![APP], m.state('dr').secrets![APP]];
      expect(prodPassword).toMatch(/^[0-9a-f]{24}$/);
      expect(prodPassword).not.toBe('pw-initdb');
      expect(drPassword).toMatch(/^[0-9a-f]{24}$/);
      expect(drPassword).not.toBe(prodPassword);
    });
  });

  it('rejects minApplyDelay next to a promotion token, as the webhook does', async () => {
    const { kubectl } = model();
    const out = await kubectl(...patch('production', { replica: { minApplyDelay: '5m', primary: 'production', promotionToken: 'e30=' } }));
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('spec.replica.minApplyDelay and spec.replica.promotionToken cannot be used together');
  });
});

describe('failback --primary production --dry-run (switchover)', () => {
  it('issues no mutating call and prints the rebuild, the demotion and the token promotion it would make', async () => {
    const { run } = await switchover(['--dry-run']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.calls.filter((c) => / (patch|apply|delete|scale|put-parameter|delete-parameter|update-health-check|change-resource-record-sets|update-auto-scaling-group|disable-alarm-actions) /.test(c))).toEqual([]);
    expect(run.stdout).toContain(`would run: ${prod} apply --server-side --field-manager=platform-failover -f ${join(run.outDir, 'production-orders-replica.yaml')}`);
    expect(run.stdout).toContain(`would run: ${dr} patch clusters.postgresql.cnpg.io orders -n data --type merge -p '`);
    expect(run.stdout).toContain('dry run: would set data/orders on production spec.replica.primary: production with the demotion token demote-standby reads');
    expect(run.cnpg.production!.cluster!.spec!.replica).toEqual({ self: 'production', primary: 'production', source: 'dr' });
  });
});
