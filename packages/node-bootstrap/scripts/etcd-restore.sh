#!/usr/bin/env bash
# Restore after losing the whole control plane (docs/runbooks/etcd-restore.md).
#   list               snapshots in the backup bucket, newest first
#   request KEY|latest operator: mark KEY for restore and release the init lock, so the next
#                      control-plane node that boots initialises the cluster from KEY
#   apply KEY          node (called by control-plane.sh before kubeadm init): puts the CAs
#                      back and restores the snapshot into a one-member etcd data dir
# On an operator machine set the variables of /etc/node-bootstrap/env (or pass ENV_FILE).
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=node-bootstrap-etcd-restore
if [[ -n ${ENV_FILE:-} || -r $BOOTSTRAP_ETC/env ]]; then load_env "${ENV_FILE:-$BOOTSTRAP_ETC/env}"; fi
for var in REGION KMS_KEY BACKUP_BUCKET SNAPSHOT_PREFIX CLUSTER_NAME SSM_RESTORE_FROM SSM_INIT_LOCK SSM_JOIN_TOKEN SSM_CA_CERT_HASH SSM_CERTIFICATE_KEY; do
  [[ -n ${!var:-} ]] || die "$var is not set (see docs/runbooks/etcd-restore.md)"
done

list_snapshots() {
  aws s3api list-objects-v2 --region "$REGION" --bucket "$BACKUP_BUCKET" --prefix "$SNAPSHOT_PREFIX/etcd-$CLUSTER_NAME-" \
    --query 'Contents[].Key' --output text | tr '\t' '\n' | grep -v '^None$' | sort -r
}

request() {
  local key=${1:-}
  [[ -n $key ]] || die "usage: etcd-restore.sh request KEY|latest"
  step resolve-snapshot
  if [[ $key == latest ]]; then
    key=$(list_snapshots | head -n1) || true
    [[ -n $key ]] || die "no snapshot under s3://$BACKUP_BUCKET/$SNAPSHOT_PREFIX"
  fi
  aws s3api head-object --region "$REGION" --bucket "$BACKUP_BUCKET" --key "$key" >/dev/null || die "snapshot $key not found"
  step mark-restore
  aws ssm put-parameter --region "$REGION" --name "$SSM_RESTORE_FROM" --value "$key" --type String --overwrite >/dev/null ||
    die "writing $SSM_RESTORE_FROM failed"
  step remove-join-material
  # Old join material points at the lost cluster: delete it (absent = not published), so
  # joiners wait until the restored cluster's initialiser creates it again. The token first:
  # a published token is what waiters take as "the rest is there too".
  for var in SSM_JOIN_TOKEN SSM_CA_CERT_HASH SSM_CERTIFICATE_KEY; do
    if ! aws_call ssm delete-parameter --region "$REGION" --name "${!var}" && [[ $AWS_ERR != *ParameterNotFound* ]]; then
      die "deleting ${!var} failed: $AWS_ERR"
    fi
  done
  step release-init-lock
  if ! aws_call ssm delete-parameter --region "$REGION" --name "$SSM_INIT_LOCK" && [[ $AWS_ERR != *ParameterNotFound* ]]; then
    die "deleting the init lock $SSM_INIT_LOCK failed: $AWS_ERR"
  fi
  log "restore of $key requested: now replace every control-plane instance (runbook step 4)"
}

apply() {
  local key=${1:-} work
  [[ -n $key ]] || die "usage: etcd-restore.sh apply KEY"
  for var in NODE_NAME NODE_IP; do [[ -n ${!var:-} ]] || die "$var is not set"; done
  work=$(mktemp -d)
  step download-snapshot
  aws s3 cp "s3://$BACKUP_BUCKET/$key" "$work/snapshot.tar.gz" --region "$REGION" --only-show-errors || die "download of $key failed"
  tar -xzf "$work/snapshot.tar.gz" -C "$work" || die "$key is not a readable archive"
  [[ -s $work/snapshot.db && -s $work/pki/ca.key && -s $work/pki/etcd/ca.key ]] || die "$key lacks snapshot.db or the CA keys"
  step restore-pki
  # The old CAs keep every kubelet, service-account token and kubeconfig valid.
  mkdir -p "$KUBE_DIR/pki/etcd"
  (umask 077 && cp -a "$work/pki/." "$KUBE_DIR/pki/") || die "copying the CAs into $KUBE_DIR/pki failed"
  step restore-etcd-data
  [[ ! -e $ETCD_DATA_DIR/member ]] || die "$ETCD_DATA_DIR/member exists: refusing to overwrite etcd data"
  # etcdutl only restores into an empty directory; the data dir may hold an unfinished
  # attempt's member.unfinished-*, so restore beside it and move the member in.
  local staging=$ETCD_DATA_DIR.restoring
  rm -rf "$staging"
  etcdutl snapshot restore "$work/snapshot.db" --data-dir "$staging" --name "$NODE_NAME" \
    --initial-cluster "$NODE_NAME=https://$NODE_IP:2380" --initial-advertise-peer-urls "https://$NODE_IP:2380" || die "etcdutl snapshot restore failed"
  install -d -m 0700 "$ETCD_DATA_DIR" || die "creating $ETCD_DATA_DIR failed"
  mv "$staging/member" "$ETCD_DATA_DIR/member" || die "moving the restored member into $ETCD_DATA_DIR failed"
  rm -rf "$staging" "$work"
  log "restored $key into $ETCD_DATA_DIR as a one-member cluster"
}

case "${1:-}" in
  list) list_snapshots ;;
  request) request "${2:-}" ;;
  apply) apply "${2:-}" ;;
  *) die "usage: etcd-restore.sh list | request KEY|latest | apply KEY" ;;
esac
