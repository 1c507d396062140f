import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ManifestFiles } from './manifests';
import type { Objectives, PromotionPath, StandbyDatabase } from './objectives';
import { parseQuantity } from './private/quantity';
import { PROMOTION_PHASE_SECONDS } from './recovery-times';

/** The repository's region-failover workflow (workflow_dispatch; runs `npm run failover`). */
export const FAILOVER_WORKFLOW = '.github/workflows/region-failover.yml';

const CNPG_API = 'postgresql.cnpg.io/v1';
type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; spec?: Record<string, unknown> };

/** Every object of the generated `clusters/<cluster>` folder (absent folder: none), each file parsed once in `files`. */
function clusterObjects(repoRoot: string, cluster: string, files: ManifestFiles): Doc[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir)
      .sort()
      .flatMap((e) => (statSync(join(dir, e)).isDirectory() ? walk(join(dir, e)) : /\.ya?ml$/.test(e) ? [join(dir, e)] : []));
  const dir = join(repoRoot, 'clusters', cluster);
  if (!existsSync(dir)) return [];
  return walk(dir).flatMap((f) => files.objects(f) as Doc[]);
}

/** Values a six-field (seconds first) or five-field cron field takes in `0..max`. */
function cronValues(field: string, max: number): number {
  return field.split(',').reduce((n, part) => {
    const [range, step] = part.split('/');
    const [lo, hi] = range === '*' ? [0, max] : range!.includes('-') ? range!.split('-').map(Number) : [Number(range), step ? max : Number(range)];
    return n + Math.floor(((hi ?? lo!) - lo!) / Number(step ?? 1)) + 1;
  }, 0);
}

/**
 * Seconds between runs of a CloudNativePG ScheduledBackup (six fields, seconds first) that runs
 * every day: 86400 / runs per day. Undefined for day-of-month, month or weekday restrictions.
 */
export function dailyCronIntervalSeconds(schedule: string): number | undefined {
  const fields = schedule.trim().split(/\s+/);
  const [sec, min, hour, dom, month, dow] = fields.length === 6 ? fields : ['0', ...fields];
  if (fields.length < 5 || dom !== '*' || month !== '*' || (dow !== '*' && dow !== '?')) return undefined;
  const runs = cronValues(sec!, 59) * cronValues(min!, 59) * cronValues(hour!, 23);
  return Number.isFinite(runs) && runs > 0 ? Math.round(86_400 / runs) : undefined;
}

/**
 * The standby's database from its generated manifests: a CloudNativePG replica cluster is
 * promoted in place; any other Cluster is restored from the replicated archive, from the
 * primary's newest scheduled base backup. Undefined when the standby runs no CNPG Cluster.
 */
export function findStandbyDatabase(repoRoot: string, primary: string, standby: string, files: ManifestFiles = new ManifestFiles()): StandbyDatabase | undefined {
  const cnpg = (objs: Doc[], kind: string) => objs.filter((o) => o.apiVersion === CNPG_API && o.kind === kind);
  const db = cnpg(clusterObjects(repoRoot, standby, files), 'Cluster').sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`))[0];
  if (!db) return undefined;
  const replica = db.spec?.replica as { enabled?: boolean; primary?: string; self?: string } | undefined;
  // CloudNativePG: `enabled` decides when set; otherwise a replica while `primary` names another cluster.
  const isReplica = replica !== undefined && (replica.enabled ?? (replica.self || db.metadata?.name) !== replica.primary);
  const backups = cnpg(clusterObjects(repoRoot, primary, files), 'ScheduledBackup').filter((b) => (b.spec?.cluster as { name?: string } | undefined)?.name === db.metadata?.name);
  const intervals = backups.map((b) => dailyCronIntervalSeconds(String(b.spec?.schedule ?? ''))).filter((s): s is number => s !== undefined);
  const storageBytes = parseQuantity((db.spec?.storage as { size?: unknown } | undefined)?.size);
  return {
    id: `Cluster/${db.metadata?.namespace ?? 'default'}/${db.metadata?.name ?? ''}`,
    replica: isReplica,
    ...(storageBytes !== undefined ? { storageBytes } : {}),
    ...(intervals.length > 0 ? { baseBackupIntervalSeconds: Math.min(...intervals) } : {}),
  };
}

/**
 * The repository's scripted promotion of the standby, when the repository at `repoRoot` has it:
 * the workflow file (manual dispatch, calling the `failover` script) and the root `failover`
 * npm script. The cluster promoted is the standby: `objectives.standbyCluster` for a primary,
 * the cluster itself for a standby. Undefined when there is no pair or no such path. The phases
 * are the runbook's upper bounds, with the database phase the standby's manifests call for
 * (`promote-database` for a replica cluster, else `restore-database`); the region analysis
 * derives the configuration-dependent ones. The manifests are parsed into `files` (the CLI passes
 * the same to the build, which then parses none of the primary's files again).
 */
export function findPromotionPath(cluster: string, objectives: Objectives, repoRoot: string, files: ManifestFiles = new ManifestFiles()): PromotionPath | undefined {
  const standby = objectives.standbyCluster ?? (objectives.primaryCluster ? cluster : undefined);
  if (!standby) return undefined;
  const primary = objectives.standbyCluster ? cluster : objectives.primaryCluster!;
  const workflow = join(repoRoot, FAILOVER_WORKFLOW);
  const pkg = join(repoRoot, 'package.json');
  if (!existsSync(workflow) || !existsSync(pkg)) return undefined;
  const text = readFileSync(workflow, 'utf8');
  if (!/^\s*workflow_dispatch:/m.test(text) || !/\bfailover\b/.test(text)) return undefined;
  let scripts: Record<string, unknown> = {};
  try {
    scripts = (JSON.parse(readFileSync(pkg, 'utf8')) as { scripts?: Record<string, unknown> }).scripts ?? {};
  } catch {
    return undefined;
  }
  if (typeof scripts.failover !== 'string') return undefined;
  const standbyDatabase = findStandbyDatabase(repoRoot, primary, standby, files);
  const phases: Record<string, number> = {};
  for (const [phase, seconds] of Object.entries(PROMOTION_PHASE_SECONDS)) {
    if (phase === 'promote-database' && standbyDatabase && !standbyDatabase.replica) phases['restore-database'] = RESTORE_DATABASE_UPPER_BOUND_SECONDS;
    else phases[phase] = seconds;
  }
  return {
    workflow: FAILOVER_WORKFLOW,
    command: `npm run failover -- promote --standby ${standby}`,
    estimatedSeconds: Object.values(phases).reduce((s, v) => s + v, 0),
    phases,
    ...(standbyDatabase ? { standbyDatabase } : {}),
  };
}

/** The runbook's upper bound for restoring a standby that is no replica cluster (5–15 min for a 20 Gi volume). */
export const RESTORE_DATABASE_UPPER_BOUND_SECONDS = 900;
