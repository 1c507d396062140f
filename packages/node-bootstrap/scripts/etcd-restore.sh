#!/usr/bin/env bash
# Restore after losing the whole control plane (docs/runbooks/etcd-restore.md).
#   list               snapshots in the backup bucket, newest first
#   copy-back KEY|latest operator, after a region loss: copy a snapshot from the replica
#                      (REPLICA_BUCKET in REPLICA_REGION) back into this cluster's own bucket,
#                      encrypted with its own key: nodes read only their region's bucket
#   request KEY|latest operator: as the restore role (RESTORE_ROLE_ARN), sign a GET URL of KEY
#                      valid RESTORE_URL_SECONDS; store it and KEY as the restore request and
#                      release the init lock, so the next control-plane node that boots
#                      initialises the cluster from KEY
#   apply KEY          node (called by control-plane.sh before kubeadm init): downloads KEY
#                      through the signed URL, puts the CAs back and restores the snapshot
#                      into a one-member etcd data dir
# Snapshots hold pki/sa.key and the CA keys, and every host-network pod reaches the node role,
# so that role writes snapshots but cannot read them: S3 serves (and KMS decrypts) the download
# with the permission of the restore role that signed the URL.
# On an operator machine set the variables of /etc/node-bootstrap/env (or pass ENV_FILE).
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=node-bootstrap-etcd-restore
if [[ -n ${ENV_FILE:-} || -r $BOOTSTRAP_ETC/env ]]; then load_env "${ENV_FILE:-$BOOTSTRAP_ETC/env}"; fi
for var in REGION KMS_KEY BACKUP_BUCKET SNAPSHOT_PREFIX CLUSTER_NAME SSM_RESTORE_FROM SSM_INIT_LOCK SSM_JOIN_TOKEN SSM_CA_CERT_HASH SSM_CERTIFICATE_KEY; do
  [[ -n ${!var:-} ]] || die "$var is not set (see docs/runbooks/etcd-restore.md)"
done

RESTORE_URL_SECONDS=${RESTORE_URL_SECONDS:-3600}
# An SSM String (standard tier) holds at most 4096 characters.
SSM_STRING_MAX=4096

# Restore-role credentials for the calls that read snapshots (as_restore_role). An hour at most:
# IAM's limit for a session assumed from another role's session, and the URL dies with it.
assume_restore_role() {
  local creds
  [[ -n ${RESTORE_ROLE_ARN:-} ]] || die "RESTORE_ROLE_ARN is not set: the ARN of names.etcdRestoreRole, the cluster stack's output etcd_restore_role_arn (docs/runbooks/etcd-restore.md)"
  if ! [[ $RESTORE_URL_SECONDS =~ ^[0-9]+$ ]] || ((RESTORE_URL_SECONDS < 900 || RESTORE_URL_SECONDS > 3600)); then
    die "RESTORE_URL_SECONDS=$RESTORE_URL_SECONDS; expected 900 to 3600 seconds (an assumed role's session)"
  fi
  step assume-restore-role
  creds=$(aws sts assume-role --region "$REGION" --role-arn "$RESTORE_ROLE_ARN" --role-session-name "etcd-restore-$CLUSTER_NAME" \
    --duration-seconds "$RESTORE_URL_SECONDS" --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text) ||
    die "cannot assume $RESTORE_ROLE_ARN: only an operator whose own policy allows sts:AssumeRole on it may (never a node role)"
  read -r RESTORE_KEY_ID RESTORE_SECRET RESTORE_TOKEN <<<"$creds"
  [[ -n ${RESTORE_TOKEN:-} ]] || die "sts assume-role printed no credentials for $RESTORE_ROLE_ARN"
}

as_restore_role() { AWS_ACCESS_KEY_ID=$RESTORE_KEY_ID AWS_SECRET_ACCESS_KEY=$RESTORE_SECRET AWS_SESSION_TOKEN=$RESTORE_TOKEN "$@"; }

list_snapshots() { # [bucket region]
  aws s3api list-objects-v2 --region "${2:-$REGION}" --bucket "${1:-$BACKUP_BUCKET}" --prefix "$SNAPSHOT_PREFIX/etcd-$CLUSTER_NAME-" \
    --query 'Contents[].Key' --output text | tr '\t' '\n' | grep -v '^None$' | sort -r
}

copy_back() {
  local key=${1:-}
  [[ -n $key ]] || die "usage: etcd-restore.sh copy-back KEY|latest"
  for var in REPLICA_BUCKET REPLICA_REGION; do
    [[ -n ${!var:-} ]] || die "$var is not set: names.etcdBackupReplicaBucket and backups.replicaRegion (docs/runbooks/etcd-restore.md)"
  done
  step resolve-replica-snapshot
  if [[ $key == latest ]]; then
    key=$(list_snapshots "$REPLICA_BUCKET" "$REPLICA_REGION" | head -n1) || true
    [[ -n $key ]] || die "no snapshot under s3://$REPLICA_BUCKET/$SNAPSHOT_PREFIX in $REPLICA_REGION"
  fi
  step copy-back
  # Re-encrypted with this cluster's key: the replica's key is another region's.
  aws s3 cp "s3://$REPLICA_BUCKET/$key" "s3://$BACKUP_BUCKET/$key" --source-region "$REPLICA_REGION" --region "$REGION" \
    --sse aws:kms --sse-kms-key-id "$KMS_KEY" --only-show-errors || die "copying $key from s3://$REPLICA_BUCKET ($REPLICA_REGION) to s3://$BACKUP_BUCKET ($REGION) failed"
  aws s3api head-object --region "$REGION" --bucket "$BACKUP_BUCKET" --key "$key" >/dev/null || die "$key is not in s3://$BACKUP_BUCKET after the copy"
  log "copied $key back into s3://$BACKUP_BUCKET; now: etcd-restore.sh request $key"
  printf '%s\n' "$key"
}

request() {
  local key=${1:-} url tmp
  [[ -n $key ]] || die "usage: etcd-restore.sh request KEY|latest"
  [[ -n ${SSM_RESTORE_URL:-} ]] || die "SSM_RESTORE_URL is not set (see docs/runbooks/etcd-restore.md)"
  assume_restore_role
  step resolve-snapshot
  if [[ $key == latest ]]; then
    key=$(as_restore_role list_snapshots | head -n1) || true
    [[ -n $key ]] || die "no snapshot under s3://$BACKUP_BUCKET/$SNAPSHOT_PREFIX"
  fi
  as_restore_role aws s3api head-object --region "$REGION" --bucket "$BACKUP_BUCKET" --key "$key" >/dev/null || die "snapshot $key not found"
  step sign-download
  # Signing is local: S3 checks the restore role's permission (GetObject, kms:Decrypt) when the node uses the URL.
  url=$(as_restore_role aws s3 presign "s3://$BACKUP_BUCKET/$key" --region "$REGION" --expires-in "$RESTORE_URL_SECONDS") || die "signing a download URL of $key failed"
  [[ $url == http*X-Amz-Signature=* ]] || die "aws s3 presign printed no SigV4-signed URL"
  ((${#url} <= SSM_STRING_MAX)) || die "the signed URL is ${#url} characters; an SSM String holds $SSM_STRING_MAX"
  step mark-restore
  # The URL is a bearer credential until it expires: never on a command line or in a log. From a
  # file (file://), which every AWS CLI reads locally (v1 would fetch an http(s):// value instead).
  tmp=$(umask 077 && mktemp) || die "creating a temporary file failed"
  printf '%s' "$url" >"$tmp"
  if ! aws ssm put-parameter --region "$REGION" --name "$SSM_RESTORE_URL" --value "file://$tmp" --type String --overwrite >/dev/null; then
    rm -f "$tmp"
    die "writing $SSM_RESTORE_URL failed"
  fi
  rm -f "$tmp"
  # The key last: a node takes restore-from as the request, and its URL is in place by then.
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
  log "restore of $key requested; its download URL expires in ${RESTORE_URL_SECONDS}s: now replace every control-plane instance (runbook step 4)"
}

apply() {
  local key=${1:-} work
  [[ -n $key ]] || die "usage: etcd-restore.sh apply KEY"
  for var in NODE_NAME NODE_IP; do [[ -n ${!var:-} ]] || die "$var is not set"; done
  [[ -n ${SSM_RESTORE_URL:-} ]] || die "SSM_RESTORE_URL is not set"
  step read-restore-url
  local url status=0 again="run etcd-restore.sh request $key again (docs/runbooks/etcd-restore.md step 3)"
  url=$(ssm_get "$SSM_RESTORE_URL") || status=$?
  ((status != 3)) || die "no signed download URL in $SSM_RESTORE_URL (this node's role cannot read snapshots): $again"
  ((status == 0)) || die "cannot read $SSM_RESTORE_URL"
  # The URL names its object: it must be the requested snapshot, not an older request's.
  [[ ${url%%\?*} == */"$key" ]] || die "$SSM_RESTORE_URL signs another object than $key: $again"
  work=$(mktemp -d)
  step download-snapshot
  # The URL is never logged: it reads the snapshot until it expires.
  retry 3 curl -fsS -o "$work/snapshot.tar.gz" "$url" ||
    die "download of $key through the signed URL failed (expired after RESTORE_URL_SECONDS, or the restore role cannot read it): $again"
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
  # The member's address is its slot's (control-plane.sh ETCD_IP), the node's own without one.
  local staging=$ETCD_DATA_DIR.restoring
  rm -rf "$staging"
  etcdutl snapshot restore "$work/snapshot.db" --data-dir "$staging" --name "$NODE_NAME" \
    --initial-cluster "$NODE_NAME=https://${ETCD_IP:-$NODE_IP}:2380" --initial-advertise-peer-urls "https://${ETCD_IP:-$NODE_IP}:2380" || die "etcdutl snapshot restore failed"
  install -d -m 0700 "$ETCD_DATA_DIR" || die "creating $ETCD_DATA_DIR failed"
  mv "$staging/member" "$ETCD_DATA_DIR/member" || die "moving the restored member into $ETCD_DATA_DIR failed"
  rm -rf "$staging" "$work"
  log "restored $key into $ETCD_DATA_DIR as a one-member cluster"
}

case "${1:-}" in
  list) list_snapshots ;;
  copy-back) copy_back "${2:-}" ;;
  request) request "${2:-}" ;;
  apply) apply "${2:-}" ;;
  *) die "usage: etcd-restore.sh list | copy-back KEY|latest | request KEY|latest | apply KEY" ;;
esac
