import { existsSync, readFileSync } from 'node:fs';
import { defaultPlatform, type ClusterDefinition, type Platform } from '@platform/platform-config';
import { parse } from 'yaml';
import { z } from 'zod';
import { HaCheckInputError } from './input-error';

const MIB = 1024 * 1024;

/** How the standby is promoted when the region is lost (found by `--cluster` in the repo, or declared). */
export interface PromotionPath {
  /** Workflow that runs it, relative to the repository root (`.github/workflows/region-failover.yml`). */
  readonly workflow: string;
  /** What a person runs instead (`npm run failover -- promote --standby dr`). */
  readonly command?: string;
  /** Worst-case seconds from the decision to promote to the app answering on the standby. */
  readonly estimatedSeconds: number;
  /** Seconds per phase, when known (PROMOTION_PHASE_SECONDS). */
  readonly phases?: Readonly<Record<string, number>>;
  /** How the phases that depend on configuration were derived (set by the analysis). */
  readonly basis?: readonly string[];
  /** The standby's database as the repository's manifests define it (found with the path): promoted, or restored. */
  readonly standbyDatabase?: StandbyDatabase;
}

/** What decides the database phase of a promotion (src/promotion.ts reads it from `clusters/`). */
export interface StandbyDatabase {
  /** `Cluster/<namespace>/<name>` on the standby. */
  readonly id: string;
  /** A CloudNativePG replica cluster replaying the primary's archive (promoted in place), else restored from it. */
  readonly replica: boolean;
  /** `spec.storage.size` in bytes: the most a restore downloads. */
  readonly storageBytes?: number;
  /** Seconds between the primary's scheduled base backups (its ScheduledBackup): the WAL a restore replays. */
  readonly baseBackupIntervalSeconds?: number;
}

/** platform-config's FailoverDecision as ha-check reads it: each term labelled policy or assumed. */
export interface FailoverDecisionTerms {
  readonly kind: string;
  readonly seconds: number;
  readonly terms: ReadonlyArray<{ readonly name: string; readonly seconds: number; readonly source: 'policy' | 'assumed'; readonly why: string }>;
}

/** What the cluster promises; ha-check exits 1 when the deployment does not keep a promise. */
export interface Objectives {
  /** Where these came from: `platform-config:<cluster>`, a file, or `defaults`. */
  readonly source: string;
  readonly tolerateAzLoss: boolean;
  readonly tolerateRegionLoss: boolean;
  /** etcd backups must be replicated to another region. */
  readonly requireCrossRegionBackups: boolean;
  readonly apiRtoSeconds?: number;
  readonly appRtoSeconds?: number;
  readonly rpoMinutes?: number;
  /** Declared snapshot interval; used when the synthesized output does not show one. */
  readonly etcdSnapshotIntervalMinutes?: number;
  readonly replicaRegion?: string;
  readonly standbyCluster?: string;
  readonly standbyRegion?: string;
  /** Set on a standby: the primary it takes over from (its failover record must be SECONDARY). */
  readonly primaryCluster?: string;
  /** Seconds users may be without the app when the region is lost (detection + promotion + DNS TTL). */
  readonly regionRtoSeconds?: number;
  /** Seconds of data a region loss may lose (archive timeout, or snapshot interval without a standby, + replication lag); default: rpoMinutes. */
  readonly regionRpoSeconds?: number;
  readonly promotion?: PromotionPath;
  /** How the failover is decided (platform-config `failover.decision`): the promotion's `decision` phase, term by term. */
  readonly failoverDecision?: FailoverDecisionTerms;
  /** WAL the pair's primary database writes at its busiest, bytes per second (platform-config backups.databaseWalMiBPerMinute of the primary): the promotion's replay. */
  readonly databaseWalBytesPerSecond?: number;
  /** Seconds from a load step to every HPA at its maximum with its pods Ready (elasticity: metrics, HPA, nodes, pod start). */
  readonly scaleOutSeconds?: number;
  /** Picks the node-monitor grace period default (40 s before 1.32, 50 s since). */
  readonly kubernetesVersion?: string;
  /** Networks operators and CI reach the public API from (apiEndpoint.allowedCidrs of an internet-facing endpoint): each must get through. */
  readonly apiAllowedCidrs?: readonly string[];
}

/** With no cluster and no file: survive any one AZ and keep backups in another region. */
export const DEFAULT_OBJECTIVES: Objectives = {
  source: 'defaults',
  tolerateAzLoss: true,
  tolerateRegionLoss: false,
  requireCrossRegionBackups: true,
};

/** The cluster's declared objectives from platform-config. */
export function objectivesForCluster(cluster: string, platform: Platform = defaultPlatform()): Objectives {
  let def;
  try {
    def = platform.cluster(cluster);
  } catch (error) {
    throw new HaCheckInputError((error as Error).message);
  }
  const pair = platform.failoverRoleOf(def);
  const standby = pair?.role === 'primary' ? pair.standby : undefined;
  const primary = pair?.role === 'standby' ? pair.primary : undefined;
  // The per-AZ appRtoSeconds is no regional promise: regionRtoSeconds is (when declared).
  const { regionRtoSeconds, ...declared } = def.objectives;
  return {
    source: `platform-config:${cluster}`,
    ...declared,
    ...(regionRtoSeconds !== undefined ? { regionRtoSeconds } : {}),
    ...(primary ? { primaryCluster: primary.name } : {}),
    // A declared replica region is a promise too, not only a region-loss objective.
    requireCrossRegionBackups: def.backups.replicaRegion !== undefined || def.objectives.tolerateRegionLoss,
    etcdSnapshotIntervalMinutes: def.backups.etcdSnapshotIntervalMinutes,
    ...(def.backups.replicaRegion ? { replicaRegion: def.backups.replicaRegion } : {}),
    ...(def.failover ? { standbyCluster: def.failover.standbyCluster } : {}),
    ...(standby ? { standbyRegion: standby.region } : {}),
    ...(decisionOf(pair?.primary) ?? {}),
    // The WAL a promotion replays is the primary's (a standby replays its primary's archive).
    databaseWalBytesPerSecond: ((pair?.primary ?? def).backups.databaseWalMiBPerMinute * MIB) / 60,
    kubernetesVersion: def.kubernetesVersion,
    ...(def.apiEndpoint.exposure === 'internet-facing' && def.apiEndpoint.allowedCidrs.length > 0 ? { apiAllowedCidrs: def.apiEndpoint.allowedCidrs } : {}),
  };
}

function decisionOf(primary: ClusterDefinition | undefined): { failoverDecision: FailoverDecisionTerms } | undefined {
  const d = primary?.failover?.decision;
  return d ? { failoverDecision: { kind: d.kind, seconds: d.seconds, terms: d.terms.map((t) => ({ ...t })) } } : undefined;
}

const objectivesFileSchema = z.strictObject({
  tolerateAzLoss: z.boolean({ error: 'expected true or false' }).default(true),
  tolerateRegionLoss: z.boolean({ error: 'expected true or false' }).default(false),
  requireCrossRegionBackups: z.boolean({ error: 'expected true or false' }).optional(),
  apiRtoSeconds: z.number({ error: 'expected seconds' }).int({ error: 'expected whole seconds' }).positive({ error: 'expected more than 0 seconds' }).optional(),
  appRtoSeconds: z.number({ error: 'expected seconds' }).int({ error: 'expected whole seconds' }).positive({ error: 'expected more than 0 seconds' }).optional(),
  rpoMinutes: z.number({ error: 'expected minutes' }).int({ error: 'expected whole minutes' }).positive({ error: 'expected more than 0 minutes' }).optional(),
  etcdSnapshotIntervalMinutes: z.number({ error: 'expected minutes' }).positive({ error: 'expected more than 0 minutes' }).optional(),
  replicaRegion: z.string({ error: 'expected a region name' }).optional(),
  standbyCluster: z.string({ error: 'expected a cluster name' }).optional(),
  standbyRegion: z.string({ error: 'expected a region name' }).optional(),
  primaryCluster: z.string({ error: 'expected a cluster name' }).optional(),
  regionRtoSeconds: z.number({ error: 'expected seconds' }).int({ error: 'expected whole seconds' }).positive({ error: 'expected more than 0 seconds' }).optional(),
  regionRpoSeconds: z.number({ error: 'expected seconds' }).int({ error: 'expected whole seconds' }).positive({ error: 'expected more than 0 seconds' }).optional(),
  scaleOutSeconds: z.number({ error: 'expected seconds' }).int({ error: 'expected whole seconds' }).positive({ error: 'expected more than 0 seconds' }).optional(),
  databaseWalBytesPerSecond: z.number({ error: 'expected bytes per second' }).positive({ error: 'expected more than 0 bytes per second' }).optional(),
  promotion: z
    .strictObject({
      workflow: z.string({ error: 'expected a workflow path such as .github/workflows/region-failover.yml' }),
      command: z.string().optional(),
      estimatedSeconds: z.number({ error: 'expected seconds' }).int({ error: 'expected whole seconds' }).positive({ error: 'expected more than 0 seconds' }),
    })
    .optional(),
  kubernetesVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, { error: 'expected a version such as 1.34.1' }).optional(),
  apiAllowedCidrs: z.array(z.string({ error: 'expected an IPv4 CIDR block' })).optional(),
});

/** Objectives from a JSON or YAML file (the fields of Objectives; unset ones take the defaults). */
export function objectivesFromFile(path: string): Objectives {
  if (!existsSync(path)) throw new HaCheckInputError(`${path}: no such objectives file`);
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new HaCheckInputError(`${path}: malformed objectives (${(error as Error).message.split('\n')[0]})`);
  }
  // Accept a whole cluster definition's `objectives` block as well as the flat form.
  const flat = raw !== null && typeof raw === 'object' && 'objectives' in raw ? { ...(raw as { objectives: object }).objectives } : raw;
  const result = objectivesFileSchema.safeParse(flat ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join('.') || '(root)';
    throw new HaCheckInputError(`${path}: ${field}: ${issue.message.replace(/^Invalid input: /, '')}`);
  }
  const o = result.data;
  return { ...o, source: path, requireCrossRegionBackups: o.requireCrossRegionBackups ?? (o.replicaRegion !== undefined || o.tolerateRegionLoss || DEFAULT_OBJECTIVES.requireCrossRegionBackups) };
}
