#!/usr/bin/env bash
# Rotates the cluster's service-account signing key in three phases, so that every token any API
# server signs verifies at every API server and at AWS STS until it expires, whatever node is
# replaced meanwhile (docs/runbooks/service-account-issuer.md, "Rotating the signing key"):
#   announce   a new key pair into SSM; every node accepts it and the JWKS lists it; sa.key still signs
#   sign       refused until every live control-plane node reports it accepts the new key and the
#              public JWKS lists it; then the new key signs, the old one is still accepted and listed
#   retire     refused until every node signs with the new key and the sign phase is older than
#              ROTATION_MIN_AGE_SECONDS; re-issues legacy token Secrets, re-uploads the join
#              certificates, then drops the old key
#   apply      this node: key files from the SSM state, restart kube-apiserver/controller-manager when
#              they changed, publish the JWKS and record the key set. Idempotent: every control-plane
#              node runs it from service-account-keys.timer (node-bootstrap timings.ts), so every live
#              node converges after each phase by itself; a node booting mid-rotation does the same in
#              control-plane.sh
#   status     the phase and what every live control-plane node reports
#   started    (control-plane.sh at boot) the API server starts with the key files on disk now
# The state lives in SSM under the cluster prefix, where a booting node reads it
# (service-account-issuer.sh key-set): $SSM_SA_ROTATION, $SSM_SA_NEXT_KEY, $SSM_SA_PREVIOUS_KEY.
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=service-account-key-rotation
load_env
export KUBECONFIG=$KUBE_DIR/admin.conf
: "${ROTATION_MIN_AGE_SECONDS:=86400}"
: "${RESTART_WAIT_ATTEMPTS:=60}"
: "${LEGACY_TOKEN_WAIT_ATTEMPTS:=30}"
# A restart lock older than this belongs to a holder that died mid-apply (a whole apply takes minutes).
: "${RESTART_LOCK_TTL_SECONDS:=1800}"
APPLIED=$STATE_DIR/service-account-keys.applied
LEGACY_TOKEN_TYPE=kubernetes.io/service-account-token

kid() { openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '='; }
# token_kid JWT: the kid of a JWS compact token's header.
token_kid() {
  local header=${1%%.*}
  header=$(printf '%s' "$header" | tr '_-' '/+')
  while ((${#header} % 4)); do header+='='; done
  printf '%s' "$header" | base64 -d 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin).get("kid", ""))'
}

phase() {
  local value status=0
  value=$(ssm_get "$SSM_SA_ROTATION") || status=$?
  case $status in
    0) [[ $value == None ]] && echo || echo "$value" ;;
    3) echo ;;
    *) die "reading $SSM_SA_ROTATION failed" ;;
  esac
}

# next_kid: the key id of the next key in SSM (writes $WORK/next.pub), or nothing when absent.
next_kid() {
  local value status=0
  value=$(ssm_get "$SSM_SA_NEXT_KEY") || status=$?
  ((status != 3)) || return 0
  ((status == 0)) || die "reading $SSM_SA_NEXT_KEY failed"
  printf '%s\n' "$value" | openssl pkey -pubout -out "$WORK/next.pub" 2>/dev/null || die "$SSM_SA_NEXT_KEY holds no private key"
  kid "$WORK/next.pub"
}

# Instance ids of the control-plane nodes that exist (stopped ones come back with their key files).
live_nodes() {
  aws ec2 describe-instances --region "$REGION" \
    --filters "Name=tag:aws:autoscaling:groupName,Values=${CONTROL_PLANE_ASGS// /,}" "Name=instance-state-name,Values=pending,running,stopping,stopped" \
    --query 'Reservations[].Instances[].InstanceId' --output text | tr '\t' '\n' | grep . || die "listing the control-plane instances failed"
}

# require_every_node WHAT PATTERN: every live node's recorded key set matches the bash glob PATTERN.
require_every_node() {
  local id value status missing=()
  while read -r id; do
    status=0
    value=$(ssm_get "$SSM_SA_KEY_ACKS/$id") || status=$?
    ((status == 0 || status == 3)) || die "reading $SSM_SA_KEY_ACKS/$id failed"
    # shellcheck disable=SC2053 # PATTERN is a glob
    [[ $status == 0 && " $value," == $2 ]] || missing+=("$id (${value:-nothing recorded})")
  done < <(live_nodes)
  ((${#missing[@]} == 0)) || die "not every control-plane node $1: ${missing[*]}; its service-account-keys.timer applies the phase (journalctl -t service-account-keys there), or replace it"
  log "every control-plane node $1"
}

# put_new NAME TYPE FILE: create-only (ParameterAlreadyExists when it exists); the value never on a command line.
put_new() {
  local extra=()
  [[ $2 != SecureString ]] || extra=(--key-id "$KMS_KEY" --tier Standard)
  aws_call ssm put-parameter --region "$REGION" --name "$1" --type "$2" "${extra[@]}" --value "file://$3"
}

# Restarts a static pod by moving its manifest away until the kubelet has stopped it, then back.
restart_static_pod() {
  local name=$1 manifest=$KUBE_DIR/manifests/$1.yaml held=$STATE_DIR/$1.yaml.held attempt
  [[ -f $manifest || -f $held ]] || die "$manifest missing"
  [[ -f $held ]] || mv "$manifest" "$held" || die "moving $manifest away failed"
  for ((attempt = 1; ; attempt++)); do
    [[ -n $(crictl ps --name "^$name\$" -q 2>/dev/null) ]] || break
    ((attempt < RESTART_WAIT_ATTEMPTS)) || { mv "$held" "$manifest"; die "$name still running after $attempt checks"; }
    sleep "$RETRY_SLEEP_SECONDS"
  done
  mv "$held" "$manifest" || die "moving $manifest back failed"
  log "$name restarted"
}

# take_restart_lock: the cluster-wide lock before this node restarts its kube-apiserver. The flock
# below is node-local, and every node's service-account-keys.timer fires within the same window after a
# phase: without this all API servers could restart at once. SSM PutParameter without --overwrite is
# create-only (ParameterAlreadyExists), so one node holds it. Returns 1 while another live node holds
# it (the next timer run retries). A holder that is gone (EC2 lists it no longer) or older than
# RESTART_LOCK_TTL_SECONDS is taken over by one waiter: a second create-only lock per stale value.
take_restart_lock() {
  local value status=0 holder since now live
  now=$(now_epoch)
  aws_call ssm put-parameter --region "$REGION" --name "$SSM_SA_RESTART_LOCK" --type String --value "holder=$INSTANCE_ID since=$now" && return 0
  [[ $AWS_ERR == *ParameterAlreadyExists* ]] || die "taking the restart lock $SSM_SA_RESTART_LOCK failed: $AWS_ERR"
  value=$(ssm_get "$SSM_SA_RESTART_LOCK") || status=$?
  ((status != 3)) || { log "the restart lock was released meanwhile: next run"; return 1; }
  ((status == 0)) || die "reading the restart lock $SSM_SA_RESTART_LOCK failed"
  [[ $value =~ ^holder=(i-[0-9a-z]+)\ since=([0-9]+)(\ failed=1)?$ ]] || die "the restart lock $SSM_SA_RESTART_LOCK holds $value; expected holder=<instance id> since=<epoch> [failed=1]"
  holder=${BASH_REMATCH[1]} since=${BASH_REMATCH[2]}
  # This node's own lock: an earlier apply here died before releasing it (its own API server is the one at stake).
  [[ $holder != "$INSTANCE_ID" ]] || return 0
  # A restart that failed on another node stops the rotation there: the same key set would take this
  # API server down too, one node after the other. Never taken over, whatever its age.
  if [[ -n ${BASH_REMATCH[3]} ]]; then
    log "the restart lock records a failed kube-apiserver restart on $holder (since $since): not restarting here; fix $holder, then clear it: aws ssm delete-parameter --region $REGION --name $SSM_SA_RESTART_LOCK"
    return 1
  fi
  # An EC2 error stops here (live_nodes dies): an unknown holder is never taken for a dead one.
  live=$(live_nodes)
  if ((now - since < RESTART_LOCK_TTL_SECONDS)) && grep -qx -- "$holder" <<<"$live"; then
    log "$holder restarts its kube-apiserver (restart lock since $since): not restarting here at the same time; the next run applies"
    return 1
  fi
  if ! aws_call ssm put-parameter --region "$REGION" --name "$SSM_SA_RESTART_LOCK/takeover-$holder-$since" --type String --value "$INSTANCE_ID"; then
    [[ $AWS_ERR == *ParameterAlreadyExists* ]] || die "taking over the restart lock failed: $AWS_ERR"
    log "another node takes over the restart lock from $holder: next run"
    return 1
  fi
  # The marker is deleted once a takeover's overwrite is done (below), so a waiter that read the same
  # stale value may create it again afterwards: its creation only proves that nobody is mid-takeover.
  # Re-read: the lock must still hold the stale value, else another node took it over already.
  local marker="$SSM_SA_RESTART_LOCK/takeover-$holder-$since" current
  status=0
  current=$(ssm_get "$SSM_SA_RESTART_LOCK") || status=$?
  if ((status != 0)) || [[ $current != "$value" ]]; then
    aws_call ssm delete-parameter --region "$REGION" --name "$marker" || [[ $AWS_ERR == *ParameterNotFound* ]] ||
      log "deleting the takeover marker $marker failed ($AWS_ERR)"
    log "the restart lock changed meanwhile (another node took it over from $holder, or released it): next run"
    return 1
  fi
  aws_call ssm put-parameter --region "$REGION" --name "$SSM_SA_RESTART_LOCK" --type String --overwrite --value "holder=$INSTANCE_ID since=$now" ||
    die "taking over the restart lock from $holder failed: $AWS_ERR"
  # Done: the marker is not needed any more (one per stale lock value would pile up in SSM forever).
  aws_call ssm delete-parameter --region "$REGION" --name "$marker" || [[ $AWS_ERR == *ParameterNotFound* ]] ||
    log "deleting the takeover marker $marker failed ($AWS_ERR): harmless, delete it by hand"
  log "took the restart lock over from $holder (gone, or holding it since $since)"
}

# fail_restart_lock: the restart failed while this node held the lock: keep it, marked failed, so no
# other node restarts into the same failure (take_restart_lock refuses a failed lock).
fail_restart_lock() {
  local value status=0
  value=$(ssm_get "$SSM_SA_RESTART_LOCK") || status=$?
  ((status == 0)) && [[ $value == "holder=$INSTANCE_ID "* && $value != *failed=1 ]] || return 0
  aws_call ssm put-parameter --region "$REGION" --name "$SSM_SA_RESTART_LOCK" --type String --overwrite --value "$value failed=1" ||
    log "marking the restart lock failed did not work ($AWS_ERR): other nodes may restart after ${RESTART_LOCK_TTL_SECONDS}s"
}

# release_restart_lock: deletes the lock only while this node holds it.
release_restart_lock() {
  local value status=0
  value=$(ssm_get "$SSM_SA_RESTART_LOCK") || status=$?
  ((status == 0)) || return 0
  [[ $value == "holder=$INSTANCE_ID "* ]] || return 0
  aws_call ssm delete-parameter --region "$REGION" --name "$SSM_SA_RESTART_LOCK" || [[ $AWS_ERR == *ParameterNotFound* ]] ||
    log "releasing the restart lock failed ($AWS_ERR): it expires after ${RESTART_LOCK_TTL_SECONDS}s"
}

# Asks this node's API server at its advertise address: its serving certificate names that (kubeadm's
# SANs), which on an etcd-slot node is the slot address, not the primary one.
wait_api_ready() {
  local attempt address
  address=$(sed -n 's/^ *- --advertise-address=//p' "$KUBE_DIR/manifests/kube-apiserver.yaml" | tr -d "'\"")
  [[ -n $address ]] || die "no --advertise-address in $KUBE_DIR/manifests/kube-apiserver.yaml"
  for ((attempt = 1; ; attempt++)); do
    kubectl --server "https://$address:6443" get --raw /readyz >/dev/null 2>&1 && return 0
    ((attempt < RESTART_WAIT_ATTEMPTS)) || die "kube-apiserver at $address not ready after $attempt checks"
    sleep "$RETRY_SLEEP_SECONDS"
  done
}

# A missing file hashes as absent (an unfinished boot): it never matches a later apply's.
fingerprint() { { cat "$KUBE_DIR/pki/sa.key" "$KUBE_DIR/$SA_KEY_BUNDLE" 2>/dev/null || :; } | sha256sum | cut -d' ' -f1; }

apply() {
  local key_before
  step apply
  # service-account-keys.timer runs this on every node; before the node has joined there is nothing to apply.
  [[ -f $STATE_DIR/control-plane.done ]] || { log "not part of the control plane yet: nothing to apply"; return 0; }
  # One apply at a time on a node: the timer's and an operator's announce/sign/retire both move the manifests.
  exec 9>"$STATE_DIR/service-account-keys.lock"
  flock 9 || die "locking $STATE_DIR/service-account-keys.lock failed"
  key_before=$(sha256sum <"$KUBE_DIR/pki/sa.key" 2>/dev/null || :)
  run_sibling service-account-issuer.sh key-set || die "building the key set failed"
  if [[ -f $APPLIED && $(<"$APPLIED") == "$(fingerprint)" ]]; then
    log "kube-apiserver already runs with this key set"
  else
    # One API server of the cluster at a time (take_restart_lock); held until this one is ready again.
    INSTANCE_ID=$(imds instance-id)
    take_restart_lock || return 0
    # Left by a failure (die) between here and the release below: the lock stays, marked failed.
    trap 'fail_restart_lock; rm -rf "$WORK"' EXIT
    # kube-apiserver reads its key files only at start; kube-controller-manager signs legacy
    # token Secrets with sa.key (--service-account-private-key-file), also read only at start.
    restart_static_pod kube-apiserver
    wait_api_ready
    if [[ $key_before != "$(sha256sum <"$KUBE_DIR/pki/sa.key")" ]]; then restart_static_pod kube-controller-manager; fi
    fingerprint >"$APPLIED"
    release_restart_lock
    trap 'rm -rf "$WORK"' EXIT
  fi
  run_sibling service-account-issuer.sh || die "publishing the JWKS failed"
}

# control-plane.sh, after key-set at boot: kube-apiserver is about to start with the key files now on
# disk, so the timer's first apply has nothing to restart.
started() {
  fingerprint >"$APPLIED"
}

announce() {
  local current_phase
  step announce
  current_phase=$(phase)
  [[ -z $current_phase || $current_phase == announce ]] || die "a rotation is in phase '$current_phase': finish it first"
  [[ -s $KUBE_DIR/pki/sa.key ]] || die "$KUBE_DIR/pki/sa.key missing: run on a control-plane node"
  (umask 077 && if openssl pkey -in "$KUBE_DIR/pki/sa.key" -noout -text 2>/dev/null | grep -q 'ASN1 OID: prime256v1'; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/new.key"
  else
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/new.key"
  fi 2>/dev/null) || die "generating the key failed"
  if put_new "$SSM_SA_NEXT_KEY" SecureString "$WORK/new.key"; then
    log "new key $(openssl pkey -in "$WORK/new.key" -pubout | kid /dev/stdin) stored in $SSM_SA_NEXT_KEY"
  else
    [[ $AWS_ERR == *ParameterAlreadyExists* ]] || die "writing $SSM_SA_NEXT_KEY failed: $AWS_ERR"
    # An earlier announce that stopped half-way: keep its key. One equal to sa.key is a retire's leftover.
    [[ $(next_kid) != "$(kid "$KUBE_DIR/pki/sa.pub")" ]] || die "$SSM_SA_NEXT_KEY is the key sa.key already signs with: an unfinished retire, run 'service-account-key-rotation.sh retire' first"
    log "$SSM_SA_NEXT_KEY exists (an earlier announce): keeping it"
  fi
  printf 'announce' >"$WORK/phase"
  put_new "$SSM_SA_ROTATION" String "$WORK/phase" || [[ $AWS_ERR == *ParameterAlreadyExists* && $(phase) == announce ]] || die "writing $SSM_SA_ROTATION failed: $AWS_ERR"
  apply
  log "phase announce: every other control-plane node applies it from service-account-keys.timer; then 'sign'"
}

sign() {
  local current_phase next jwks
  step sign
  current_phase=$(phase)
  [[ $current_phase == announce || $current_phase == sign ]] || die "phase is '${current_phase:-steady}': sign follows announce"
  next=$(next_kid)
  [[ -n $next ]] || die "$SSM_SA_NEXT_KEY missing in phase $current_phase"
  if [[ $current_phase == announce ]]; then
    require_every_node "accepts the next key $next" "*accepted=*[=,]$next,*"
    # What STS fetches: the public object, not what this node last wrote.
    jwks=$(curl -fsS "$SA_JWKS_URL") || die "reading $SA_JWKS_URL failed"
    [[ $jwks == *"\"kid\":\"$next\""* ]] || die "$SA_JWKS_URL does not list $next yet"
    # Every node signs with the same key until now: that key becomes the previous one.
    local current
    current=$(kid "$KUBE_DIR/pki/sa.pub")
    require_every_node "signs with the current key $current" " signing=$current *"
    openssl pkey -pubin -in "$KUBE_DIR/pki/sa.pub" -out "$WORK/previous.pub" || die "reading sa.pub failed"
    if ! put_new "$SSM_SA_PREVIOUS_KEY" String "$WORK/previous.pub"; then
      [[ $AWS_ERR == *ParameterAlreadyExists* && $(ssm_get "$SSM_SA_PREVIOUS_KEY") == "$(cat "$WORK/previous.pub")" ]] || die "$SSM_SA_PREVIOUS_KEY exists and is not this cluster's current key: $AWS_ERR"
    fi
    printf 'sign' >"$WORK/phase"
    aws_call ssm put-parameter --region "$REGION" --name "$SSM_SA_ROTATION" --type String --overwrite --value "file://$WORK/phase" || die "writing $SSM_SA_ROTATION failed: $AWS_ERR"
  fi
  apply
  log "phase sign: every other control-plane node applies it from service-account-keys.timer; 'retire' after ${ROTATION_MIN_AGE_SECONDS}s"
}

# Empties the token of every legacy token Secret not signed with KID: kube-controller-manager's
# tokens controller fills an empty token again, signed with its sa.key.
reissue_legacy_tokens() {
  local kid=$1 ns name token attempt stale=() ci=no
  kubectl get secrets -A --field-selector "type=$LEGACY_TOKEN_TYPE" -o 'jsonpath={range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{" "}{.data.token}{"\n"}{end}' >"$WORK/secrets" || die "listing $LEGACY_TOKEN_TYPE Secrets failed"
  while read -r ns name token; do
    [[ -n $name ]] || continue
    [[ -n $token && $(token_kid "$(printf '%s' "$token" | base64 -d)") == "$kid" ]] && continue
    kubectl -n "$ns" patch secret "$name" --type merge -p '{"data":{"token":""}}' >/dev/null || die "emptying the token of $ns/$name failed"
    stale+=("$ns/$name")
    [[ $ns/$name != "$CI_TOKEN_SECRET" ]] || ci=yes
  done <"$WORK/secrets"
  for ns in "${stale[@]}"; do
    for ((attempt = 1; ; attempt++)); do
      token=$(kubectl -n "${ns%%/*}" get secret "${ns#*/}" -o 'jsonpath={.data.token}') || die "reading $ns failed"
      [[ -n $token && $(token_kid "$(printf '%s' "$token" | base64 -d)") == "$kid" ]] && break
      ((attempt < LEGACY_TOKEN_WAIT_ATTEMPTS)) || die "$ns has no token signed with $kid: kube-controller-manager still signs with the old key? ('apply' on every node)"
      sleep "$RETRY_SLEEP_SECONDS"
    done
    log "legacy token Secret $ns re-issued with $kid"
  done
  # The region-failover kubeconfig in SSM carries that Secret's token.
  [[ $ci == no ]] || run_sibling ci-kubeconfig.sh || die "republishing the region-failover kubeconfig failed"
}

retire() {
  local current_phase next since age
  step retire
  current_phase=$(phase)
  next=$(next_kid)
  if [[ $current_phase == sign ]]; then
    require_every_node "signs with the next key $next" " signing=$next *"
    aws_call ssm get-parameter --region "$REGION" --name "$SSM_SA_ROTATION" --query Parameter.LastModifiedDate --output text || die "reading the age of $SSM_SA_ROTATION failed: $AWS_ERR"
    since=$(date -u -d "$AWS_OUT" +%s) || die "unreadable LastModifiedDate '$AWS_OUT'"
    age=$(($(now_epoch) - since))
    ((age >= ROTATION_MIN_AGE_SECONDS)) || die "phase sign is ${age}s old: tokens signed with the old key may live until ${ROTATION_MIN_AGE_SECONDS}s (ROTATION_MIN_AGE_SECONDS)"
    step reissue-legacy-tokens
    reissue_legacy_tokens "$next"
    # kubeadm-certs (what a joining node downloads) must hold the new sa.key once the state is gone.
    step republish-join-material
    run_sibling service-account-issuer.sh check-signing-key || exit 1
    run_sibling join-material.sh publish || die "re-uploading the join certificates failed"
    step end-rotation
    aws_call ssm delete-parameter --region "$REGION" --name "$SSM_SA_ROTATION" || die "deleting $SSM_SA_ROTATION failed: $AWS_ERR"
  elif [[ -n $current_phase ]]; then
    die "phase is '$current_phase': retire follows sign"
  fi
  # Steady from here: nodes ignore the two keys; removed last so a stop here is finished by running retire again.
  local name
  for name in "$SSM_SA_PREVIOUS_KEY" "$SSM_SA_NEXT_KEY"; do
    aws_call ssm delete-parameter --region "$REGION" --name "$name" || [[ $AWS_ERR == *ParameterNotFound* ]] || die "deleting $name failed: $AWS_ERR"
  done
  apply
  log "rotation finished: every other control-plane node drops the old key from service-account-keys.timer"
}

status() {
  local id value
  echo "phase: $(phase)"
  echo "next key: $(next_kid)"
  while read -r id; do
    value=$(ssm_get "$SSM_SA_KEY_ACKS/$id" 2>/dev/null) || value='nothing recorded'
    echo "$id: $value"
  done < <(live_nodes)
}

main() {
  WORK=$(mktemp -d) || die "mktemp failed"
  trap 'rm -rf "$WORK"' EXIT
  case ${1-} in
    announce | sign | retire | apply | status | started) "$1" ;;
    *) die "usage: service-account-key-rotation.sh announce|sign|retire|apply|status|started" ;;
  esac
}

main "$@"
