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

publish() {
  local key join_command token hash
  step upload-certs
  key=$(kubeadm certs certificate-key) || die "kubeadm certs certificate-key failed"
  kubeadm init phase upload-certs --upload-certs --certificate-key "$key" >/dev/null || die "kubeadm init phase upload-certs failed"
  step create-token
  join_command=$(kubeadm token create --ttl "$JOIN_TOKEN_TTL" --print-join-command) || die "kubeadm token create failed"
  token=$(sed -n 's/.*--token \([^ ]*\).*/\1/p' <<<"$join_command")
  hash=$(sed -n 's/.*--discovery-token-ca-cert-hash \([^ ]*\).*/\1/p' <<<"$join_command")
  [[ $token =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || die "unexpected token in join command: $join_command"
  [[ $hash == sha256:* ]] || die "unexpected CA hash in join command: $join_command"
  step store-join-material
  ssm_put_secret "$SSM_JOIN_TOKEN" "$token" || die "writing $SSM_JOIN_TOKEN failed"
  ssm_put_secret "$SSM_CA_CERT_HASH" "$hash" || die "writing $SSM_CA_CERT_HASH failed"
  ssm_put_secret "$SSM_CERTIFICATE_KEY" "$key" || die "writing $SSM_CERTIFICATE_KEY failed"
  log "join material published (token ttl $JOIN_TOKEN_TTL)"
}

refresh() {
  local modified age
  step check-age
  [[ -f $KUBECONFIG ]] || die "$KUBECONFIG missing: not an initialised control-plane node"
  if modified=$(aws ssm get-parameter --region "$REGION" --name "$SSM_CERTIFICATE_KEY" --query Parameter.LastModifiedDate --output text 2>/dev/null); then
    age=$(($(now_epoch) - $(date -u -d "$modified" +%s)))
    if ((age < JOIN_REFRESH_AFTER_SECONDS)); then
      log "join material is ${age}s old (refresh after ${JOIN_REFRESH_AFTER_SECONDS}s): nothing to do"
      return
    fi
    log "join material is ${age}s old: refreshing"
  else
    log "no join material published yet: publishing"
  fi
  publish
}

case "${1:-}" in
  publish) publish ;;
  refresh) refresh ;;
  *) die "usage: join-material.sh publish|refresh" ;;
esac
