#!/usr/bin/env bash
# etcd snapshot (run by etcd-snapshot.timer on every control-plane node; only the etcd
# leader acts, so there is one snapshot per interval). Each archive holds the snapshot and
# the cluster CAs and service-account keys a restore needs, and is stored with SSE-KMS as
#   s3://$BACKUP_BUCKET/$SNAPSHOT_PREFIX/etcd-<cluster>-<YYYYMMDDTHHMMSSZ>.tar.gz
# The node writes snapshots but cannot read them back: only the restore role (etcd-restore.sh
# request) can, because any host-network pod reaches this node's role.
# Names sort by time. Retention deletes archives older than SNAPSHOT_RETENTION_DAYS but
# always keeps the newest SNAPSHOT_KEEP_MIN, so stopped snapshots never empty the bucket: this
# is the only pruning of current objects (the bucket's lifecycle expires only what this deletes,
# as noncurrent versions, after the retention).
# After each upload the node records its time for node-exporter's textfile collector
# (SNAPSHOT_METRIC_FILE): a leader that cannot upload stops the snapshots, and the
# EtcdSnapshotStale alert sees the newest recorded time grow old.
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=node-bootstrap-etcd-snapshot
load_env
PKI=$KUBE_DIR/pki
export ETCDCTL_CACERT=$PKI/etcd/ca.crt ETCDCTL_CERT=$PKI/etcd/healthcheck-client.crt ETCDCTL_KEY=$PKI/etcd/healthcheck-client.key
LOCAL_ETCD=https://127.0.0.1:2379
SINGLE_PUT_MAX_BYTES=$((5 * 1024 * 1024 * 1024))

is_leader() {
  local status member leader
  status=$(etcdctl --endpoints="$LOCAL_ETCD" endpoint status -w json) || die "etcdctl endpoint status failed"
  member=$(grep -o '"member_id":[0-9]*' <<<"$status" | head -n1 | cut -d: -f2)
  leader=$(grep -o '"leader":[0-9]*' <<<"$status" | head -n1 | cut -d: -f2)
  [[ -n $member && $member == "$leader" ]]
}

snapshot_name() { printf 'etcd-%s-%s.tar.gz\n' "$CLUSTER_NAME" "$(date -u -d "@$1" +%Y%m%dT%H%M%SZ)"; }

# Epoch seconds of a snapshot key, from its name.
snapshot_epoch() {
  local stamp=${1##*-}
  stamp=${stamp%.tar.gz}
  [[ $stamp =~ ^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z$ ]] || return 1
  date -u -d "${BASH_REMATCH[1]}-${BASH_REMATCH[2]}-${BASH_REMATCH[3]}T${BASH_REMATCH[4]}:${BASH_REMATCH[5]}:${BASH_REMATCH[6]}Z" +%s
}

take_snapshot() {
  local work name
  work=$(mktemp -d)
  WORK=$work
  name=$(snapshot_name "$(now_epoch)")
  step snapshot-save
  etcdctl --endpoints="$LOCAL_ETCD" snapshot save "$work/snapshot.db" >/dev/null || die "etcdctl snapshot save failed"
  step archive
  tar -czf "$work/$name" -C "$work" snapshot.db -C "$KUBE_DIR" pki/ca.crt pki/ca.key pki/sa.key pki/sa.pub \
    pki/front-proxy-ca.crt pki/front-proxy-ca.key pki/etcd/ca.crt pki/etcd/ca.key || die "archiving snapshot and CAs failed"
  step upload
  # One PutObject, never a multipart upload (what `aws s3 cp` does above 8 MB): S3 documents that
  # completing an SSE-KMS multipart upload needs kms:Decrypt as well, and this node's role may
  # encrypt snapshots but never decrypt them (the archive holds sa.key). One PUT takes up to 5 GiB.
  (($(stat -c %s "$work/$name") <= SINGLE_PUT_MAX_BYTES)) || die "$name is larger than one PutObject takes ($SINGLE_PUT_MAX_BYTES bytes)"
  aws s3api put-object --region "$REGION" --bucket "$BACKUP_BUCKET" --key "$SNAPSHOT_PREFIX/$name" --body "$work/$name" \
    --server-side-encryption aws:kms --ssekms-key-id "$KMS_KEY" >/dev/null ||
    die "upload of $name to s3://$BACKUP_BUCKET/$SNAPSHOT_PREFIX failed"
  log "stored s3://$BACKUP_BUCKET/$SNAPSHOT_PREFIX/$name"
}

# Written to a temp file in the same directory (no .prom suffix: the collector skips it) and
# renamed, so a scrape never reads half a file; world-readable for node-exporter's user.
record_success() {
  local dir tmp uploaded
  step record-success
  uploaded=$(now_epoch)
  dir=$(dirname "$SNAPSHOT_METRIC_FILE")
  mkdir -p "$dir" || die "creating $dir failed"
  tmp=$(mktemp "$dir/.etcd_snapshot.XXXXXX") || die "creating a temp file in $dir failed"
  if ! { printf '# HELP %s Time of the last etcd snapshot this node uploaded.\n# TYPE %s gauge\n%s %s\n' \
    "$SNAPSHOT_METRIC" "$SNAPSHOT_METRIC" "$SNAPSHOT_METRIC" "$uploaded" >"$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$SNAPSHOT_METRIC_FILE"; }; then
    rm -f "$tmp"
    die "writing $SNAPSHOT_METRIC_FILE failed"
  fi
  log "recorded upload time $uploaded in $SNAPSHOT_METRIC_FILE"
}

apply_retention() {
  local keys key cutoff kept=0 epoch
  step retention
  cutoff=$(($(now_epoch) - SNAPSHOT_RETENTION_DAYS * 86400))
  # The CLI follows ListObjectsV2's 1000-key pages itself; with --output text it prints one
  # line per page (tab-separated keys, None for an empty page): all lines are read.
  keys=$(aws s3api list-objects-v2 --region "$REGION" --bucket "$BACKUP_BUCKET" --prefix "$SNAPSHOT_PREFIX/etcd-$CLUSTER_NAME-" \
    --query 'Contents[].Key' --output text) || die "listing snapshots failed"
  while read -r key; do
    [[ -n $key && $key != None ]] || continue
    epoch=$(snapshot_epoch "$key") || { log "ignoring $key: not a snapshot name"; continue; }
    kept=$((kept + 1))
    if ((kept > SNAPSHOT_KEEP_MIN && epoch < cutoff)); then
      log "deleting $key (older than $SNAPSHOT_RETENTION_DAYS days)"
      aws s3api delete-object --region "$REGION" --bucket "$BACKUP_BUCKET" --key "$key" >/dev/null || die "deleting $key failed"
    fi
  done < <(tr '\t' '\n' <<<"$keys" | sort -r)
}

WORK=
cleanup() { if [[ -n $WORK ]]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

main() {
  step leader-check
  if ! is_leader; then
    log "this member is not the etcd leader: the leader takes the snapshot"
    return
  fi
  take_snapshot
  record_success
  apply_retention
}

main "$@"
