import type { ClusterDefinition } from '@platform/platform-config';

/*
 * Every timing the bootstrap chooses, as functions of the cluster definition, in one file so
 * ha-check and the manifests can mirror them instead of guessing. See docs/bootstrap-timings.md.
 */

/** How fast a dead node is noticed and its pods leave (kubelet, controller manager, API server). */
export interface FailoverTimings {
  /** kubelet `nodeStatusUpdateFrequency`. */
  readonly nodeStatusUpdateFrequencySeconds: number;
  /** kubelet `nodeLeaseDurationSeconds`; the lease is renewed every quarter of it (the heartbeat). */
  readonly nodeLeaseDurationSeconds: number;
  /** kubelet `nodeStatusReportFrequency`: full status posts when nothing changed (API load). */
  readonly nodeStatusReportFrequencySeconds: number;
  /** kube-controller-manager `--node-monitor-period`. */
  readonly nodeMonitorPeriodSeconds: number;
  /** kube-controller-manager `--node-monitor-grace-period`: no heartbeat this long → NotReady/Unknown. */
  readonly nodeMonitorGracePeriodSeconds: number;
  /** kube-apiserver `--default-not-ready-toleration-seconds` (pods without their own toleration). */
  readonly notReadyTolerationSeconds: number;
  /** kube-apiserver `--default-unreachable-toleration-seconds`. */
  readonly unreachableTolerationSeconds: number;
  /** What the budget assumes a pod needs after eviction: scheduling, image pull, readiness. */
  readonly podStartBudgetSeconds: number;
  /** Node death → node tainted: grace period + one monitor period. */
  readonly detectionSeconds: number;
  /** Node death → pods evicted: detection + toleration. */
  readonly evictionSeconds: number;
  /** Node death → replacement pods ready elsewhere (estimate): eviction + pod start budget. */
  readonly podRecoverySeconds: number;
}

/** Clusters whose app RTO is at most this get the fast heartbeat profile. */
export const FAST_FAILOVER_APP_RTO_SECONDS = 300;
/** Tolerations below this evict pods on short network blips (an API server restart, a GC pause). */
export const MIN_TOLERATION_SECONDS = 30;
/** Upstream default; longer only delays recovery. */
export const MAX_TOLERATION_SECONDS = 300;
const POD_START_BUDGET_SECONDS = 60;

const FAST = { update: 4, lease: 16, report: 60, monitor: 2, grace: 20 } as const;
// Upstream defaults of Kubernetes 1.32+ (grace 50 s since 1.32).
const STANDARD = { update: 10, lease: 40, report: 300, monitor: 5, grace: 50 } as const;

/**
 * Heartbeat and eviction timings chosen so pods of a dead node run elsewhere within
 * `objectives.appRtoSeconds`. The grace period stays five heartbeats long (the kubelet's
 * own retry count) so one lost heartbeat never marks a node NotReady.
 */
export function failoverTimings(cluster: Pick<ClusterDefinition, 'name' | 'objectives'>): FailoverTimings {
  const rto = cluster.objectives.appRtoSeconds;
  const profile = rto <= FAST_FAILOVER_APP_RTO_SECONDS ? FAST : STANDARD;
  const detectionSeconds = profile.grace + profile.monitor;
  const budget = rto - detectionSeconds - POD_START_BUDGET_SECONDS;
  if (budget < MIN_TOLERATION_SECONDS) {
    const needed = detectionSeconds + POD_START_BUDGET_SECONDS + MIN_TOLERATION_SECONDS;
    throw new Error(
      `cluster ${cluster.name}: objectives.appRtoSeconds ${rto} is too short; expected at least ${needed} ` +
        `(${detectionSeconds} s to detect a dead node + ${MIN_TOLERATION_SECONDS} s minimum toleration + ${POD_START_BUDGET_SECONDS} s to start pods)`,
    );
  }
  // Multiples of 5 s read better in manifests and change less often when objectives move a little.
  const toleration = Math.min(MAX_TOLERATION_SECONDS, Math.floor(budget / 5) * 5);
  return {
    nodeStatusUpdateFrequencySeconds: profile.update,
    nodeLeaseDurationSeconds: profile.lease,
    nodeStatusReportFrequencySeconds: profile.report,
    nodeMonitorPeriodSeconds: profile.monitor,
    nodeMonitorGracePeriodSeconds: profile.grace,
    notReadyTolerationSeconds: toleration,
    unreachableTolerationSeconds: toleration,
    podStartBudgetSeconds: POD_START_BUDGET_SECONDS,
    detectionSeconds,
    evictionSeconds: detectionSeconds + toleration,
    podRecoverySeconds: detectionSeconds + toleration + POD_START_BUDGET_SECONDS,
  };
}

/** Lifetimes of the join material in SSM and how often it is refreshed. */
export interface JoinMaterialTimings {
  /** kubeadm deletes uploaded control-plane certificates (the kubeadm-certs Secret) after this. */
  readonly certificateKeyLifetimeSeconds: number;
  /** TTL of each bootstrap token created. */
  readonly tokenTtlSeconds: number;
  /** The refresh timer rewrites material older than this. */
  readonly refreshAfterSeconds: number;
  /** Interval of join-material-refresh.timer on every control-plane node. */
  readonly refreshTimerSeconds: number;
  /** RandomizedDelaySec of that timer (spreads the control-plane nodes apart). */
  readonly refreshJitterSeconds: number;
  /** Oldest the published material can get: refreshAfter + timer + jitter (< certificate lifetime). */
  readonly maxAgeSeconds: number;
  /**
   * Lifetime of the refresh lock (a publish takes seconds): after it, another node may break
   * the lock of a node that died mid-refresh. Shorter than the timer, so a dead holder costs one round.
   */
  readonly refreshLockSeconds: number;
}

export function joinMaterialTimings(): JoinMaterialTimings {
  const refreshAfterSeconds = 3600;
  const refreshTimerSeconds = 900;
  const refreshJitterSeconds = 120;
  return {
    certificateKeyLifetimeSeconds: 7200,
    tokenTtlSeconds: 4 * 3600,
    refreshAfterSeconds,
    refreshTimerSeconds,
    refreshJitterSeconds,
    maxAgeSeconds: refreshAfterSeconds + refreshTimerSeconds + refreshJitterSeconds,
    refreshLockSeconds: 300,
  };
}

/**
 * service-account-keys.timer: every control-plane node runs `service-account-key-rotation.sh apply`
 * on its own, so after an operator's `announce`, `sign` or `retire` every live node takes the new
 * key set and records it (what the next phase's gate reads) without anyone logging in to it.
 */
export interface ServiceAccountKeyTimings {
  /** OnUnitActiveSec of the timer (and its OnBootSec). */
  readonly applyEverySeconds: number;
  /** RandomizedDelaySec: the nodes do not restart their API servers at the same moment. */
  readonly jitterSeconds: number;
  /** TimeoutStartSec of the service: systemd stops an apply stuck in a restart wait; the next run resumes it. */
  readonly applyTimeoutSeconds: number;
  /**
   * Worst case from a phase change to a node having applied and recorded it when it does not wait for
   * another node's restart (the cluster-wide restart lock): one period, the jitter and one whole apply.
   * Nodes that wait take one more such round per node ahead of them.
   */
  readonly convergeWithinSeconds: number;
}

export function serviceAccountKeyTimings(): ServiceAccountKeyTimings {
  const applyEverySeconds = 300;
  const jitterSeconds = 30;
  const applyTimeoutSeconds = 900;
  return { applyEverySeconds, jitterSeconds, applyTimeoutSeconds, convergeWithinSeconds: applyEverySeconds + jitterSeconds + applyTimeoutSeconds };
}

/** etcd snapshot cadence and retention (etcd-snapshot.timer and its retention step). */
export interface SnapshotSchedule {
  readonly intervalMinutes: number;
  readonly retentionDays: number;
  /** Newest snapshots kept whatever their age. */
  readonly keepAtLeast: number;
  /** Worst-case etcd data lost when the whole control plane is lost: one interval plus the upload. */
  readonly worstCaseDataLossMinutes: number;
}

export function snapshotSchedule(cluster: Pick<ClusterDefinition, 'backups'>): SnapshotSchedule {
  const intervalMinutes = cluster.backups.etcdSnapshotIntervalMinutes;
  return { intervalMinutes, retentionDays: cluster.backups.retentionDays, keepAtLeast: 3, worstCaseDataLossMinutes: intervalMinutes + 1 };
}
