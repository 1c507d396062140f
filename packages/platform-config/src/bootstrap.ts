import type { ClusterNames } from './names';

/**
 * Names only the node bootstrap and its runbooks use, derived from the cluster's names so
 * the IAM policies (scoped to `ssmPrefix` and the backup bucket) already cover them.
 */
export interface BootstrapNames {
  /** SSM parameter an operator sets to the snapshot key to restore on the next `kubeadm init`. */
  readonly restoreFrom: string;
  /**
   * SSM String beside `restoreFrom`: a pre-signed GET URL of that snapshot, signed by the restore
   * role (`names.etcdRestoreRole`), through which the node downloads it (its own role cannot read
   * snapshots). Kept apart from `restoreFrom` so the key, not the bearer URL, appears in logs.
   */
  readonly restoreUrl: string;
  /**
   * SSM String: the etcd cluster's generation, written by every `kubeadm init` (a new cluster or a
   * restore) and kept on each slot's etcd volume; a volume of another generation is wiped and its
   * slot joins fresh, never rejoining the old cluster beside a restored one (docs/decisions/etcd-volumes.md).
   */
  readonly etcdGeneration: string;
  /** Key prefix of etcd snapshots in `etcdBackupBucket` (no trailing slash). */
  readonly etcdSnapshotPrefix: string;
  /**
   * Create-only SSM parameter a control-plane node holds while it rewrites the join material,
   * so two nodes' refreshes never interleave (`<instance id> <expiry epoch>`).
   */
  readonly joinRefreshLock: string;
  /**
   * Key of a role's script bundle in `bootstrapBucket`. One key per role, updated in place: every
   * change is a new object version, and launch templates pin the version (and its SHA-256), so an
   * older launch template still fetches its own bundle while old versions are retained.
   */
  bundleKey(role: 'control-plane' | 'worker'): string;
  /**
   * SSM String: the outgoing service-account public key (PEM) during a key rotation's `sign`
   * phase, still accepted by every API server and published in the JWKS
   * (docs/runbooks/service-account-issuer.md). Absent outside a rotation.
   */
  readonly serviceAccountPreviousKey: string;
  /**
   * SSM SecureString (cluster KMS key): the incoming service-account private key (PEM) from a
   * rotation's `announce` until its `retire`; nodes booting in `sign` take it as `sa.key`.
   */
  readonly serviceAccountNextKey: string;
  /**
   * SSM String: the rotation phase every control-plane node applies at boot (`announce` or
   * `sign`); absent outside a rotation. service-account-key-rotation.sh is its only writer.
   */
  readonly serviceAccountRotation: string;
  /** SSM String per control-plane instance (`<prefix>/<instance id>`): the key set its API server runs with. */
  readonly serviceAccountKeyAcks: string;
  /**
   * SSM String, create-only (`holder=<instance id> since=<epoch>`): held by the one control-plane
   * node whose service-account-keys apply restarts its kube-apiserver, so the timer never restarts
   * every API server at once. Taken over (one waiter, `<lock>/takeover-<holder>-<since>`) when the
   * holder is gone or older than the rotation script's RESTART_LOCK_TTL_SECONDS.
   */
  readonly serviceAccountRestartLock: string;
  /**
   * SSM String per control-plane instance (`<prefix>/<instance id>`): the `serviceAccountIdentity`
   * stage its user data carried and the SHA-256 of its rendered kube-apiserver patch
   * (`stage=<stage> config=<sha256>`), written by the node at the end of every successful boot. The
   * apply's identity-roll gate (packages/pipeline) reads them: a stage moves only once every running
   * control-plane node runs the previous one.
   */
  readonly identityStageRecords: string;
}

export function bootstrapNames(names: Pick<ClusterNames, 'cluster' | 'ssmPrefix'>): BootstrapNames {
  return {
    restoreFrom: `${names.ssmPrefix}/kubeadm/restore-from`,
    restoreUrl: `${names.ssmPrefix}/kubeadm/restore-url`,
    etcdGeneration: `${names.ssmPrefix}/etcd/generation`,
    etcdSnapshotPrefix: `etcd-snapshots/${names.cluster}`,
    joinRefreshLock: `${names.ssmPrefix}/kubeadm/join-refresh-lock`,
    bundleKey: (role) => `bootstrap/${role}.lzma`,
    serviceAccountPreviousKey: `${names.ssmPrefix}/service-account/previous-public-key`,
    serviceAccountNextKey: `${names.ssmPrefix}/service-account/next-private-key`,
    serviceAccountRotation: `${names.ssmPrefix}/service-account/rotation`,
    serviceAccountKeyAcks: `${names.ssmPrefix}/service-account/key-set`,
    serviceAccountRestartLock: `${names.ssmPrefix}/service-account/restart-lock`,
    identityStageRecords: `${names.ssmPrefix}/identity-stage`,
  };
}
