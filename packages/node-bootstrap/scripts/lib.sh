#!/usr/bin/env bash
# Shared helpers for the node bootstrap scripts: sourced, never run. Output goes to stderr,
# which the systemd units send to the journal under their SyslogIdentifier.
# Paths can be moved with environment variables so the tests can run the real scripts.
set -euo pipefail

: "${BOOTSTRAP_ETC:=/etc/node-bootstrap}"
: "${BOOTSTRAP_LIB:=/opt/node-bootstrap}"
: "${STATE_DIR:=/var/lib/node-bootstrap}"
: "${KUBE_DIR:=/etc/kubernetes}"
: "${ETCD_DATA_DIR:=/var/lib/etcd}"
: "${RETRY_SLEEP_SECONDS:=10}"
# Where downloaded binaries go (the tests point it at a temporary directory).
: "${BIN_DIR:=/usr/local/bin}"
CURRENT_STEP=start

log() { printf '%s [%s] %s\n' "${LOG_TAG:-node-bootstrap}" "$CURRENT_STEP" "$*" >&2; }
step() { CURRENT_STEP=$1; log "step started"; }
die() { printf '%s [%s] FAILED: %s\n' "${LOG_TAG:-node-bootstrap}" "$CURRENT_STEP" "$*" >&2; exit 1; }

# Loads the parameters cloud-init wrote; every script starts with this.
load_env() {
  local file=${1:-$BOOTSTRAP_ETC/env}
  [[ -r $file ]] || die "missing parameter file $file"
  set -a
  # shellcheck source=/dev/null
  . "$file"
  set +a
}

# retry ATTEMPTS COMMAND...: runs COMMAND until it succeeds, sleeping between attempts.
retry() {
  local attempts=$1 n=1
  shift
  until "$@"; do
    ((n >= attempts)) && return 1
    log "attempt $n/$attempts failed: $1; retrying in ${RETRY_SLEEP_SECONDS}s"
    n=$((n + 1))
    sleep "$RETRY_SLEEP_SECONDS"
  done
}

# pinned DOWNLOAD VERSION ARCH: the SHA-256 (or the apt key's fingerprint) committed in node-bootstrap
# src/download-lock.json, which the bundle carries as download-pins.txt; empty when not pinned.
pinned() { awk -v n="$1" -v v="$2" -v a="$3" '$1 == n && $2 == v && $3 == a { print $4 }' "$BOOTSTRAP_LIB/download-pins.txt"; }

# fetch_pinned DOWNLOAD VERSION ARCH URL FILE: downloads URL into FILE and keeps it only when its SHA-256
# is the committed pin. Never a checksum fetched beside the file: whoever can swap the file can swap that.
fetch_pinned() {
  local want got
  want=$(pinned "$1" "$2" "$3")
  [[ -n $want ]] || die "$1 $2 ($3): no pinned SHA-256 in the bundle's download-pins.txt (node-bootstrap src/download-lock.json); refusing to download it unverified"
  retry 5 curl -fsSL -o "$5" "$4" || die "downloading $1 $2 from $4 failed"
  got=$(sha256sum "$5") && got=${got%% *}
  if [[ $got != "$want" ]]; then
    rm -f "$5"
    die "$1 $2 ($3) from $4: SHA-256 $got, expected the pinned $want; refused"
  fi
}

# helm of the pinned version (control-plane nodes and the baked image): node-prep.sh and install-addons.sh.
install_helm() {
  step helm
  if [[ $(helm version --short 2>/dev/null) == "v$HELM_VERSION"* ]]; then return; fi
  local work arch
  work=$(mktemp -d)
  arch=$(dpkg --print-architecture)
  fetch_pinned helm "$HELM_VERSION" "$arch" "https://get.helm.sh/helm-v$HELM_VERSION-linux-$arch.tar.gz" "$work/helm.tar.gz"
  tar -xzf "$work/helm.tar.gz" -C "$work" || die "unpacking helm failed"
  install -m 0755 "$work/linux-$arch/helm" "$BIN_DIR/helm" || die "installing helm failed"
  rm -rf "$work"
}

now_epoch() { printf '%s\n' "${BOOTSTRAP_NOW_EPOCH:-$(date -u +%s)}"; }

# IMDSv2: a session token first (PUT), then the metadata path with that token.
imds() {
  local token
  token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token) ||
    die "IMDSv2 token request failed"
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1" || die "IMDS read of $1 failed"
}

# Sets INSTANCE_ID, AVAILABILITY_ZONE, NODE_IP and NODE_NAME (the private DNS name the
# AWS cloud controller expects as node name).
node_identity() {
  INSTANCE_ID=$(imds instance-id)
  AVAILABILITY_ZONE=$(imds placement/availability-zone)
  NODE_IP=$(imds local-ipv4)
  NODE_NAME=$(imds local-hostname)
  export INSTANCE_ID AVAILABILITY_ZONE NODE_IP NODE_NAME
}

# aws_call ARGS...: runs aws with its stdout in AWS_OUT and its stderr (one line) in AWS_ERR,
# so a caller can tell "does not exist" from throttling, AccessDenied or no network.
aws_call() {
  local errors status=0
  errors=$(mktemp) || die "mktemp failed"
  AWS_OUT=$(aws "$@" 2>"$errors") || status=$?
  AWS_ERR=$(tr '\n' ' ' <"$errors")
  rm -f "$errors"
  return "$status"
}

# ssm_get NAME: prints the value. Exit 3 when the parameter does not exist; any other
# failure is retried SSM_READ_ATTEMPTS times, then exit 1 (never mistaken for "absent").
ssm_get() {
  local attempt
  for ((attempt = 1; ; attempt++)); do
    if aws_call ssm get-parameter --region "$REGION" --name "$1" --with-decryption --query Parameter.Value --output text; then
      printf '%s\n' "$AWS_OUT"
      return 0
    fi
    [[ $AWS_ERR != *ParameterNotFound* ]] || return 3
    if ((attempt >= ${SSM_READ_ATTEMPTS:-5})); then
      log "reading $1 failed $attempt times: $AWS_ERR"
      return 1
    fi
    log "reading $1 failed ($attempt/${SSM_READ_ATTEMPTS:-5}): $AWS_ERR; retrying in ${RETRY_SLEEP_SECONDS}s"
    sleep "$RETRY_SLEEP_SECONDS"
  done
}

# join_value NAME: prints join material a node has published. Exit 3 while the parameter is
# absent (ParameterNotFound: the initialiser creates it when it publishes), exit 1 when SSM
# cannot be read.
join_value() {
  local value status=0
  value=$(ssm_get "$1") || status=$?
  ((status == 0)) || return "$status"
  [[ -n $value && $value != None ]] || return 3
  printf '%s\n' "$value"
}

# ssm_put_secret NAME VALUE: creates or overwrites a SecureString under the cluster key (KMS_KEY,
# the one identifier every writer uses). Callers that need create-once semantics hold a lock.
# The Standard tier keeps KMS to Encrypt/Decrypt: an account whose default tier is Advanced would
# need GenerateDataKey (envelope encryption), which the node role does not have.
ssm_put_secret() {
  aws ssm put-parameter --region "$REGION" --name "$1" --value "$2" --type SecureString --key-id "$KMS_KEY" --tier Standard --overwrite >/dev/null
}

# render_template TEMPLATE OUTPUT VAR...: replaces @@VAR@@ with the variable's value.
render_template() {
  local template=$1 output=$2 content var
  shift 2
  content=$(<"$template") || die "cannot read template $template"
  for var in "$@"; do
    content=${content//@@${var}@@/${!var}}
  done
  [[ $content != *@@*@@* ]] || die "template $template has unfilled placeholders"
  (umask 077 && printf '%s\n' "$content" >"$output")
}

# Runs a script beside this library (they are installed together).
run_sibling() {
  local script=$1
  shift
  bash "$BOOTSTRAP_LIB/$script" "$@"
}
