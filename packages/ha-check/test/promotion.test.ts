import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOAD_BALANCER_ALIAS_TTL_SECONDS } from '@platform/platform-config';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { syntheticCluster, writeSyntheticCluster } from '../bench/synthetic-cluster';
import {
  DATABASE_RECOVERY_DEFAULTS,
  dailyCronIntervalSeconds,
  FAILOVER_WORKFLOW,
  findPromotionPath,
  loadManifests,
  ManifestFiles,
  formatText,
  objectivesForCluster,
  PROMOTION_PHASE_SECONDS,
  promotionEstimateSeconds,
  RESTORE_DATABASE_UPPER_BOUND_SECONDS,
  runHaCheck,
  type RegionScenario,
} from '../src';
import { databaseTakeover } from '../src/private/promotion-estimate';
import { tempDir } from './helpers';
import { PRIMARY_OBJECTIVES } from './fixtures/region-failover';

const root = join(__dirname, '..', '..', '..');

describe('promotion path', () => {
  it('is found in this repository for production (its standby dr) and for dr itself, with dr\'s replica cluster to promote', () => {
    const production = findPromotionPath('production', objectivesForCluster('production'), root);
    expect(production).toEqual({
      workflow: FAILOVER_WORKFLOW,
      command: 'npm run failover -- promote --standby dr',
      estimatedSeconds: promotionEstimateSeconds(),
      phases: PROMOTION_PHASE_SECONDS,
      standbyDatabase: { id: 'Cluster/data/orders', replica: true, storageBytes: 20 * 2 ** 30, baseBackupIntervalSeconds: 86_400 },
    });
    expect(findPromotionPath('dr', objectivesForCluster('dr'), root)?.command).toBe('npm run failover -- promote --standby dr');
  });

  it('parses each manifest file once: the build of clusters/production reuses what the promotion path parsed, with the same objects as a build of its own', () => {
    const files = new ManifestFiles();
    expect(findPromotionPath('production', objectivesForCluster('production'), root, files)?.standbyDatabase?.id).toBe('Cluster/data/orders');
    const parsed = files.size;
    // clusters/production and clusters/dr, each file once.
    expect(parsed).toBeGreaterThan(2);
    const shared = loadManifests(join(root, 'clusters', 'production'), { builder: 'files', files });
    expect(files.size).toBe(parsed);
    expect(shared).toEqual(loadManifests(join(root, 'clusters', 'production'), { builder: 'files' }));
  });

  it('is absent for a cluster outside any pair, and where the workflow or the script is missing', () => {
    expect(findPromotionPath('staging', objectivesForCluster('staging'), root)).toBeUndefined();
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { failover: 'tsx packages/failover/src/cli.ts' } }));
    expect(findPromotionPath('production', objectivesForCluster('production'), dir)).toBeUndefined();
    mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
    writeFileSync(join(dir, FAILOVER_WORKFLOW), 'on:\n  push:\njobs: {}\n# npm run failover\n');
    expect(findPromotionPath('production', objectivesForCluster('production'), dir)).toBeUndefined();
    writeFileSync(join(dir, FAILOVER_WORKFLOW), 'on:\n  workflow_dispatch:\njobs: {}\n# npm run failover\n');
    expect(findPromotionPath('production', objectivesForCluster('production'), dir)?.estimatedSeconds).toBe(promotionEstimateSeconds());
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: {} }));
    expect(findPromotionPath('production', objectivesForCluster('production'), dir)).toBeUndefined();
  });

  it('uses the upper bounds of the runbook\'s estimate table, phase by phase', () => {
    const runbook = readFileSync(join(root, 'docs', 'runbooks', 'region-failover.md'), 'utf8');
    const bound = (phase: string) => {
      const row = new RegExp(`^\\| ${phase}[ ,][^\\n]*\\| (?:[\\d.]+–|[≤<] )([\\d.]+) min \\|$`, 'm').exec(runbook);
      expect(row, `runbook row for ${phase}`).not.toBeNull();
      return Number(row?.[1]) * 60;
    };
    // The runbook's open-standby row counts the resolvers' alias TTL too, which the RTO adds on its own.
    for (const [phase, seconds] of Object.entries(PROMOTION_PHASE_SECONDS)) expect(bound(phase) - (phase === 'open-standby' ? LOAD_BALANCER_ALIAS_TTL_SECONDS : 0), phase).toBe(seconds);
    expect(bound('restore-database')).toBe(RESTORE_DATABASE_UPPER_BOUND_SECONDS);
  });

  it('names the failover script\'s own steps (packages/failover)', () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? sources(join(dir, e)) : e.endsWith('.ts') && !e.endsWith('.test.ts') ? [readFileSync(join(dir, e), 'utf8')] : []));
    const failover = sources(join(root, 'packages', 'failover', 'src')).join('\n');
    for (const phase of [...Object.keys(PROMOTION_PHASE_SECONDS).filter((p) => p !== 'decision'), 'restore-database']) expect(failover).toContain(`'${phase}'`);
  });
});

describe('the database phase', () => {
  it('reads a ScheduledBackup\'s daily runs', () => {
    expect(dailyCronIntervalSeconds('0 0 3 * * *')).toBe(86_400);
    expect(dailyCronIntervalSeconds('0 0 */6 * * *')).toBe(21_600);
    expect(dailyCronIntervalSeconds('0 30 1,13 * * *')).toBe(43_200);
    expect(dailyCronIntervalSeconds('0 0 3 * * 0')).toBeUndefined();
  });

  it('promotes a replica cluster: the switch plus the last WAL segments at the replay rate', () => {
    const t = DATABASE_RECOVERY_DEFAULTS;
    const replica = databaseTakeover({ id: 'Cluster/data/orders', replica: true }, 60);
    // 60 s of WAL at 1 MiB/s = 60 MiB → 4 segments of 16 MiB → 64 MiB at 16 MiB/s = 4 s.
    expect(replica).toMatchObject({ phase: 'promote-database', seconds: t.replicaSwitchSeconds + 4 });
    expect(replica.basis).toBe('promote-database 64 s = replica switch 60 + replay of the last 4 WAL segment(s) (60 s archive_timeout × 1 MiB/s WAL = 60 MiB, whole 16 MiB segments) at 16 MiB/s 4 (Cluster/data/orders is a replica cluster)');
    expect(replica.seconds).toBeLessThanOrEqual(120); // issue #19: database promotion ≤ 2 min
    // An idle primary still ships its segment: never less than one.
    expect(databaseTakeover({ id: 'x', replica: true }, 60, { ...t, walBytesPerSecond: 1 }).basis).toContain('the last 1 WAL segment(s)');
  });

  it('restores a standby that is no replica cluster: base backup download + the WAL since it, the slow path', () => {
    const restore = databaseTakeover({ id: 'Cluster/data/orders', replica: false, storageBytes: 20 * 2 ** 30, baseBackupIntervalSeconds: 86_400 }, 60);
    // 20 GiB at 100 MiB/s = 205 s; 86400 s × 1 MiB/s = 84.4 GiB at 16 MiB/s = 5400 s; start 60 s.
    expect(restore).toMatchObject({ phase: 'restore-database', seconds: 205 + 5400 + 60 });
    expect(restore.basis).toBe(
      'restore-database 5665 s = base backup download 20.0 GiB (spec.storage.size) at 100 MiB/s 205 + WAL replay since the base backup (86400 s between ScheduledBackups × 1 MiB/s = 84.4 GiB) at 16 MiB/s 5400 + start 60 (Cluster/data/orders is no replica cluster: restored from the replicated archive)',
    );
  });

  it('a non-replica standby in clusters/ yields the restore in the report, every term shown', () => {
    const repo = tempDir();
    mkdirSync(join(repo, '.github', 'workflows'), { recursive: true });
    writeFileSync(join(repo, FAILOVER_WORKFLOW), 'on:\n  workflow_dispatch:\njobs: {}\n# npm run failover\n');
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ scripts: { failover: 'tsx packages/failover/src/cli.ts' } }));
    const cnpg = (kind: string, spec: object) => dump({ apiVersion: 'postgresql.cnpg.io/v1', kind, metadata: { name: kind === 'Cluster' ? 'orders' : 'orders-daily', namespace: 'data' }, spec });
    mkdirSync(join(repo, 'clusters', 'dr', 'apps'), { recursive: true });
    mkdirSync(join(repo, 'clusters', 'fixture', 'apps'), { recursive: true });
    writeFileSync(join(repo, 'clusters', 'dr', 'apps', 'postgres.yaml'), cnpg('Cluster', { instances: 3, storage: { size: '20Gi' }, bootstrap: { initdb: { database: 'app', owner: 'app' } } }));
    writeFileSync(join(repo, 'clusters', 'fixture', 'apps', 'postgres.yaml'), cnpg('ScheduledBackup', { schedule: '0 0 3 * * *', cluster: { name: 'orders' } }));
    const promotion = findPromotionPath('fixture', PRIMARY_OBJECTIVES, repo);
    expect(promotion?.phases).toEqual({ ...Object.fromEntries(Object.entries(PROMOTION_PHASE_SECONDS).map(([k, v]) => (k === 'promote-database' ? ['restore-database', RESTORE_DATABASE_UPPER_BOUND_SECONDS] : [k, v]))) });
    expect(promotion?.standbyDatabase).toEqual({ id: 'Cluster/data/orders', replica: false, storageBytes: 20 * 2 ** 30, baseBackupIntervalSeconds: 86_400 });

    // The primary archives its WAL (60 s archive_timeout); the standby is sized like it.
    const primary = syntheticCluster({ dns: { role: 'PRIMARY' } });
    const archived = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'orders', namespace: 'data' }, spec: { instances: 3, postgresql: { parameters: { archive_timeout: '60s' } }, backup: { barmanObjectStore: { destinationPath: 's3://fixture-app-backups/postgres/orders' } } } };
    const paths = writeSyntheticCluster(tempDir(), { ...primary, manifests: { ...primary.manifests, apps: [...primary.manifests.apps, archived] } });
    const standby = writeSyntheticCluster(tempDir(), syntheticCluster({ name: 'dr', region: 'ap-northeast-1', replicaRegion: 'ap-northeast-2', dns: { role: 'SECONDARY' } })).terraform;
    const report = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: { ...PRIMARY_OBJECTIVES, promotion }, standbyTerraform: [standby], cluster: 'fixture' });
    const region = report.scenarios.find((s) => s.kind === 'region-loss') as RegionScenario;
    expect(region.promotion?.phases).toEqual({ decision: 600, preflight: 140, 'scale-workers': 0, 'nodes-ready': 0, 'restore-database': 5665, 'verify-app': 47, 'open-standby': 38 });
    expect(region.rto).toMatchObject({ detectionSeconds: 30, promotionSeconds: 6490, dnsTtlSeconds: 60, seconds: 6580 });
    const basis = region.promotion?.basis?.join('\n') ?? '';
    for (const term of ['scale-workers', 'restore-database 5665 s = base backup download', 'WAL replay since the base backup', 'open-standby 38 s', 'decision 600 s', 'preflight 140 s', 'verify-app 47 s']) expect(basis).toContain(term);
    // The text report shows every phase and the RTO's terms; the finding names them too.
    const text = formatText(report);
    expect(text).toContain('≈ 6490 s = decision 600 + preflight 140 + scale-workers 0 + nodes-ready 0 + restore-database 5665 + verify-app 47 + open-standby 38');
    expect(text).toContain('≈ 6580 s = detection 30 + promotion 6490 + TTL 60');
    expect(report.findings.find((f) => f.id === 'region.rto-exceeded')?.message).toContain('restore-database 5665');
  });
});
