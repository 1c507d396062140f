#!/usr/bin/env bash
# Worker node: waits for the join material in SSM (it may boot before the first control
# plane has published it) and joins. A replaced worker simply joins: the cloud controller
# deletes the Node object of the instance it replaced.
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=node-bootstrap-worker
load_env
: "${JOIN_WAIT_ATTEMPTS:=180}"

# The initialiser creates the parameters when it publishes: absent means "not yet".
wait_for_join_material() {
  local attempt
  for ((attempt = 1; attempt <= JOIN_WAIT_ATTEMPTS; attempt++)); do
    if JOIN_TOKEN=$(join_value "$SSM_JOIN_TOKEN") && CA_CERT_HASH=$(join_value "$SSM_CA_CERT_HASH"); then
      export JOIN_TOKEN CA_CERT_HASH
      return
    fi
    log "join material not published yet ($attempt/$JOIN_WAIT_ATTEMPTS)"
    sleep "$RETRY_SLEEP_SECONDS"
  done
  die "no join material in $SSM_JOIN_TOKEN after $JOIN_WAIT_ATTEMPTS attempts"
}

main() {
  mkdir -p "$STATE_DIR"
  step identity
  node_identity
  if [[ -f $STATE_DIR/worker.done ]]; then
    log "already joined"
    return
  fi
  step read-join-material
  wait_for_join_material
  render_template "$BOOTSTRAP_ETC/kubeadm-join.yaml.tmpl" "$STATE_DIR/kubeadm-join.yaml" NODE_NAME NODE_IP INSTANCE_ID AVAILABILITY_ZONE JOIN_TOKEN CA_CERT_HASH
  if [[ -f $KUBE_DIR/kubelet.conf ]]; then
    step reset-unfinished-join
    kubeadm reset --force || die "kubeadm reset of an unfinished join failed"
  fi
  step kubeadm-join
  kubeadm join --config "$STATE_DIR/kubeadm-join.yaml" || die "kubeadm join failed"
  touch "$STATE_DIR/worker.done"
  log "worker joined"
}

main "$@"
