#!/usr/bin/env bash
# Join material (bootstrap token, CA certificate hash, certificate key) in SSM, encrypted
# with the cluster KMS key. `publish` writes it now; `refresh` (the timer on every
# control-plane node) rewrites it only when the published certificate key is older than
# JOIN_REFRESH_AFTER_SECONDS, because kubeadm deletes uploaded certificates after 2 hours.
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=node-bootstrap-join-material
load_env
export KUBECONFIG=$KUBE_DIR/admin.conf

# A restore request (etcd-restore.sh request) deleted the join material of the lost cluster: a node
# of that cluster still running must not put it back (joiners would join or rejoin the old cluster
# beside the restored one). The restored cluster's initialiser clears the request before it publishes.
# Exit 0 requested, 1 not, 2 unknown.
restore_requested() {
  local value status=0
  value=$(ssm_get "$SSM_RESTORE_FROM") || status=$?
  case $status in
    0) [[ $value != None ]] && return 0 || return 1 ;;
    3) return 1 ;;
    *) return 2 ;;
  esac
}

# Uploads a new certificate key, creates a token and stores all three. The token is written
# last: waiters take a published token as "the rest is there too".
publish() {
  local key join_command token hash status=0
  # Under the lock, right before anything is written: a request made meanwhile is seen.
  step check-restore-request
  restore_requested || status=$?
  ((status != 2)) || die "cannot read $SSM_RESTORE_FROM: not publishing join material while a restore may be pending"
  if ((status == 0)); then
    [[ $1 == try ]] || die "a restore is requested ($SSM_RESTORE_FROM): not publishing this cluster's join material"
    log "a restore is requested ($SSM_RESTORE_FROM): this cluster's join material stays deleted"
    return 0
  fi
  step upload-certs
  # upload-certs sends this node's sa.key to every node that joins: never a key the rotation no longer signs with.
  run_sibling service-account-issuer.sh check-signing-key || die "not uploading certificates with a stale sa.key"
  key=$(kubeadm certs certificate-key) || die "kubeadm certs certificate-key failed"
  kubeadm init phase upload-certs --upload-certs --certificate-key "$key" >/dev/null || die "kubeadm init phase upload-certs failed"
  step create-token
  join_command=$(kubeadm token create --ttl "$JOIN_TOKEN_TTL" --print-join-command) || die "kubeadm token create failed"
  token=$(sed -n 's/.*--token \([^ ]*\).*/\1/p' <<<"$join_command")
  hash=$(sed -n 's/.*--discovery-token-ca-cert-hash \([^ ]*\).*/\1/p' <<<"$join_command")
  # The join command holds the token: never echoed, not even when it is malformed.
  [[ $token =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || die "kubeadm token create printed no token of the form [a-z0-9]{6}.[a-z0-9]{16}"
  [[ $hash == sha256:* ]] || die "kubeadm token create printed no --discovery-token-ca-cert-hash sha256:..."
  step store-join-material
  ssm_put_secret "$SSM_CERTIFICATE_KEY" "$key" || die "writing $SSM_CERTIFICATE_KEY failed"
  ssm_put_secret "$SSM_CA_CERT_HASH" "$hash" || die "writing $SSM_CA_CERT_HASH failed"
  ssm_put_secret "$SSM_JOIN_TOKEN" "$token" || die "writing $SSM_JOIN_TOKEN failed"
  log "join material published (token ttl $JOIN_TOKEN_TTL)"
}

# Two nodes uploading certificates at once could leave in SSM the key of the upload that
# lost: every publish holds a create-only lock parameter "<instance id> <expiry epoch>".
# Exit 0 taken, 1 held by another node (not expired), 2 SSM failed.
take_lock() {
  local now value holder expiry stale
  now=$(now_epoch)
  LOCK_VALUE="$INSTANCE_ID $((now + JOIN_REFRESH_LOCK_SECONDS))"
  aws_call ssm put-parameter --region "$REGION" --name "$SSM_JOIN_REFRESH_LOCK" --value "$LOCK_VALUE" --type String && return 0
  [[ $AWS_ERR == *ParameterAlreadyExists* ]] || { log "cannot create $SSM_JOIN_REFRESH_LOCK: $AWS_ERR"; return 2; }
  value=$(ssm_get "$SSM_JOIN_REFRESH_LOCK") || return 1 # released meanwhile: the next round takes it
  read -r holder expiry <<<"$value"
  if [[ $expiry =~ ^[0-9]+$ ]] && ((expiry > now)); then
    log "join material refresh held by $holder until $expiry"
    return 1
  fi
  # Expired (its holder died mid-publish): one create-only parameter per lock value, so
  # exactly one node breaks it.
  stale=${value//[^a-zA-Z0-9_.-]/_}
  aws_call ssm put-parameter --region "$REGION" --name "$SSM_JOIN_REFRESH_LOCK/break-$stale" --value "$INSTANCE_ID" --type String || return 1
  aws_call ssm put-parameter --region "$REGION" --name "$SSM_JOIN_REFRESH_LOCK" --value "$LOCK_VALUE" --type String --overwrite ||
    { log "cannot take over $SSM_JOIN_REFRESH_LOCK: $AWS_ERR"; return 2; }
  log "broke the expired refresh lock of $holder"
}

release_lock() {
  local value
  value=$(ssm_get "$SSM_JOIN_REFRESH_LOCK") || return 0
  if [[ $value != "$LOCK_VALUE" ]]; then
    log "refresh lock now held as '$value': leaving it"
    return 0
  fi
  aws_call ssm delete-parameter --region "$REGION" --name "$SSM_JOIN_REFRESH_LOCK" || log "WARNING: could not release $SSM_JOIN_REFRESH_LOCK ($AWS_ERR); it expires by itself"
}

# locked_publish wait|try: publish under the lock; `try` gives up when another node holds it.
locked_publish() {
  local attempt status
  INSTANCE_ID=$(imds instance-id)
  for ((attempt = 1; ; attempt++)); do
    status=0
    take_lock || status=$?
    ((status == 0)) && break
    ((status == 2)) && die "cannot take the join material lock $SSM_JOIN_REFRESH_LOCK"
    if [[ $1 == try ]]; then
      log "another node is refreshing the join material: nothing to do"
      return 0
    fi
    ((attempt < ${JOIN_LOCK_WAIT_ATTEMPTS:-60})) || die "join material lock $SSM_JOIN_REFRESH_LOCK still held after $attempt attempts"
    sleep "$RETRY_SLEEP_SECONDS"
  done
  trap release_lock EXIT
  # Another node may have refreshed while this one waited for the lock.
  if [[ $1 == try ]] && material_is_fresh; then return 0; fi
  publish "$1"
}

# Succeeds when the published certificate key is younger than JOIN_REFRESH_AFTER_SECONDS.
material_is_fresh() {
  local age
  step check-age
  if ! aws_call ssm get-parameter --region "$REGION" --name "$SSM_CERTIFICATE_KEY" --query Parameter.LastModifiedDate --output text; then
    [[ $AWS_ERR == *ParameterNotFound* ]] || die "cannot read the age of $SSM_CERTIFICATE_KEY: $AWS_ERR"
    log "no join material published yet: publishing"
    return 1
  fi
  age=$(($(now_epoch) - $(date -u -d "$AWS_OUT" +%s)))
  if ((age < JOIN_REFRESH_AFTER_SECONDS)); then
    log "join material is ${age}s old (refresh after ${JOIN_REFRESH_AFTER_SECONDS}s): nothing to do"
    return 0
  fi
  log "join material is ${age}s old: refreshing"
  return 1
}

refresh() {
  [[ -f $KUBECONFIG ]] || die "$KUBECONFIG missing: not an initialised control-plane node"
  material_is_fresh && return
  locked_publish try
}

case "${1:-}" in
  publish) locked_publish wait ;;
  refresh) refresh ;;
  *) die "usage: join-material.sh publish|refresh" ;;
esac
