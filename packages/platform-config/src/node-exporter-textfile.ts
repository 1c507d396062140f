/**
 * node-exporter's textfile collector: a host directory on every node that kube-prometheus-stack's
 * node-exporter reads (`--collector.textfile.directory`, a read-only hostPath) and host scripts
 * write `*.prom` files into. node-bootstrap's etcd-snapshot.sh records its last successful upload
 * here and k8s-addons' `EtcdSnapshotStale` alert reads it, so both take the names from this file.
 */
export const NODE_EXPORTER_TEXTFILE_DIR = '/var/lib/node-exporter/textfile';

/** The etcd snapshot freshness metric: a gauge, the epoch seconds of the last successful upload. */
export const ETCD_SNAPSHOT_METRIC = {
  name: 'etcd_snapshot_last_success_timestamp_seconds',
  /** Written on the control-plane node that uploaded (only the etcd leader does). */
  file: `${NODE_EXPORTER_TEXTFILE_DIR}/etcd_snapshot.prom`,
} as const;
