import { DEFAULT_DATABASE_WAL_MIB_PER_MINUTE, WAL_ARCHIVER_BOUND_SECONDS } from '@platform/platform-config';
/**
 * Documented defaults behind the recovery estimates. Each is used only when the synthesized
 * output does not say otherwise; the report names which one was used.
 */
export const RECOVERY_DEFAULTS = {
  /** kube-controller-manager --node-monitor-grace-period: 40 s up to 1.31, 50 s from 1.32 (kubernetes#121793). */
  nodeMonitorGracePeriodSeconds(kubernetesVersion: string | undefined): number {
    const [major, minor] = (kubernetesVersion ?? '').split('.').map(Number);
    return Number.isFinite(minor) && (major < 1 || (major === 1 && minor < 32)) ? 40 : 50;
  },
  /** DefaultTolerationSeconds admission: not-ready / unreachable NoExecute tolerations. */
  unreachableTolerationSeconds: 300,
  /** cluster-autoscaler scan interval (10 s) plus its pending-pod reaction. */
  autoscalerReactionSeconds: 30,
  /** EC2 instance from RunInstances to a booted OS. */
  instanceLaunchSeconds: 90,
  /** cloud-init: containerd, kubeadm join, CNI ready (node-bootstrap's budget). */
  nodeBootstrapSeconds: 120,
} as const;

/** Seconds until new nodes join once pods are pending. */
export function capacityRecoverySeconds(): number {
  return RECOVERY_DEFAULTS.autoscalerReactionSeconds + RECOVERY_DEFAULTS.instanceLaunchSeconds + RECOVERY_DEFAULTS.nodeBootstrapSeconds;
}

/** Route 53 defaults used when a record or health check leaves them unset. */
export const ROUTE53_DEFAULTS = {
  /** `request_interval`: seconds between checks (10 "fast" or 30 "standard"). */
  requestIntervalSeconds: 30,
  /** `failure_threshold`: consecutive failures before a check is unhealthy. */
  failureThreshold: 3,
  /** An alias record to an ELB load balancer has a fixed TTL of 60 s (Route 53 FAQ, DNS failover). */
  aliasLoadBalancerTtlSeconds: 60,
} as const;

/**
 * S3 Replication Time Control replicates 99.99 % of objects within 15 minutes (its SLA; the
 * only value `replication_time.time.minutes` accepts).
 */
export const S3_RTC_MINUTES = 15;

/**
 * Replication lag counted in the regional RPO without Replication Time Control: AWS documents no
 * bound ("most objects within 15 minutes, some can take hours"), so the typical case is used and
 * `backup.replication-lag-unbounded` says so.
 */
export const S3_REPLICATION_TYPICAL_MINUTES = 15;

/**
 * A database archiving straight into a bucket in another region has no replication lag, only its
 * archiver's: the upload of the switched segment, held to platform-config's bound (its
 * DatabaseWalArchiveLate alert pages past archive_timeout + this).
 */
export const WAL_ARCHIVER_BOUND_MINUTES = WAL_ARCHIVER_BOUND_SECONDS / 60;

/** CloudNativePG sets `archive_timeout` to 5 min unless `spec.postgresql.parameters` says otherwise. */
export const CNPG_ARCHIVE_TIMEOUT_MINUTES = 5;

/**
 * Worst-case duration of each phase of promoting a pilot-light standby whose database is a
 * CloudNativePG replica cluster, in seconds: the upper bounds of the estimate table in
 * docs/runbooks/region-failover.md ("RTO and RPO"), which packages/failover's steps implement in
 * this order (preflight … open-standby). `decision` is the person who confirms a regional outage
 * and starts the workflow (region-failover.yml is workflow_dispatch); `open-standby` is the
 * standby's Route 53 check turning healthy once the promotion points it at the app. The region
 * analysis replaces the configuration-dependent phases with figures derived from the inputs
 * (private/promotion-estimate.ts). test/promotion.test.ts reads the runbook and fails when the two
 * disagree.
 */
export const PROMOTION_PHASE_SECONDS = {
  decision: 600,
  preflight: 60,
  'scale-workers': 300,
  'nodes-ready': 60,
  'promote-database': 120,
  'verify-app': 120,
  'open-standby': 30,
} as const;

/** Sum of PROMOTION_PHASE_SECONDS: the promotion estimate `--cluster` reports before the inputs refine it. */
export function promotionEstimateSeconds(): number {
  return Object.values(PROMOTION_PHASE_SECONDS).reduce((s, v) => s + v, 0);
}

/**
 * What packages/failover's promotion does on the critical path, for the phases the runbook bounds
 * only loosely (preflight, verify-app, and the tool's share of promote-database and
 * open-standby). Counts are the tool's own calls (packages/failover/test/promote.test.ts asserts
 * them call by call); times marked "assumed" are to be replaced by game-day journals.
 */
export const FAILOVER_TOOL_TERMS = {
  /** `--poll-seconds` default (packages/failover options.ts): a state the tool polls for is seen up to this late. */
  pollSeconds: 15,
  /** Assumed: workflow dispatch to the tool's first call: runner pickup, checkout, setup-node with the npm cache and `npm ci` of the whole monorepo (≈ 670 MB of node_modules: the largest part), OIDC credentials, fetch-kubeconfigs. */
  workflowStartSeconds: 120,
  /** Assumed: one `aws` / `kubectl` call from the runner (process start + round trip to the standby's region). */
  callSeconds: 1.5,
  /** preflight 5, archive-freshness 4, mark-promoted 1, scale-workers 2 + one update per growing ASG (added by the model), recheck-primary 1. */
  preflightCalls: 13,
  /** promote-database: Cluster read, Flux suspend (read + patch), the promotion patch; its polls are the poll term. */
  promoteCalls: 4,
  /** verify-app: read + scale per app Deployment (2 apps), the ingress NLB lookup, the probe, an order written and read back. */
  verifyCalls: 8,
  /** Assumed: an app pod on a standing node, image not cached on the pilot light: pull and container start. */
  podStartSeconds: 30,
  /** The apps' readiness probe period (orders-api and web: periodSeconds 5) until the first success. */
  readinessSeconds: 5,
  /** fence-primary 1, open-standby 4 (check path, NLB lookup, PRIMARY record, marker) before the standby's check starts passing. */
  openCalls: 5,
} as const;

const MIB = 1024 * 1024;

/**
 * The database terms of a promotion. Assumptions, not measurements: replace them with game-day
 * journals (packages/failover journals every step's duration) and the primary's measured WAL
 * rate (`pg_stat_wal.wal_bytes` sampled over a busy hour).
 */
export const DATABASE_RECOVERY_DEFAULTS = {
  /** A replica cluster's switch: `spec.replica.enabled: false`, the designated primary promoted and restarted, the Cluster Ready. */
  replicaSwitchSeconds: 60,
  /**
   * WAL the primary writes, bytes per second (busy hour), when the objectives carry none: platform-config's
   * default `backups.databaseWalMiBPerMinute`, the rate the WAL volume is sized for too. A cluster of
   * platform-config uses its own (Objectives.databaseWalBytesPerSecond).
   */
  walBytesPerSecond: (DEFAULT_DATABASE_WAL_MIB_PER_MINUTE * MIB) / 60,
  /** WAL a standby replays, bytes per second (restore from S3 + redo). */
  walReplayBytesPerSecond: 16 * MIB,
  /** PostgreSQL's WAL segment size (initdb default; CloudNativePG keeps it). */
  walSegmentBytes: 16 * MIB,
  /** A base backup downloaded from the replica bucket into the new volumes, bytes per second. */
  baseBackupDownloadBytesPerSecond: 100 * MIB,
  /** Until a scheduled base backup exists, the worst case is a day of WAL since the last one. */
  baseBackupIntervalSeconds: 86_400,
  /** CloudNativePG's archive_timeout when the Cluster sets none (5 min). */
  archiveTimeoutSeconds: 300,
} as const;

export type DatabaseRecoveryTerms = { -readonly [K in keyof typeof DATABASE_RECOVERY_DEFAULTS]: number };
