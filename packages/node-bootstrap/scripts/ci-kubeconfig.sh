#!/usr/bin/env bash
# Publishes the region-failover workflow's kubeconfig to SSM (platform-config
# names.ssm.ciKubeconfig, SecureString, cluster KMS key). Flux creates the identity
# (k8s-addons FailoverAccess: ServiceAccount, ClusterRole, token Secret) in its first sync;
# this waits for the token controller to fill the Secret, builds a kubeconfig whose cluster,
# user and context names are unique per cluster (the workflow merges two), and puts it.
# Its server is CI_KUBECONFIG_SERVER, the public API name: the workflow runs outside the VPC,
# where the nodes' private name (API_ENDPOINT, a private hosted zone) does not resolve.
# The token never appears on a command line; the only file holding it is a 0600 temp file
# removed on exit. Idempotent: run it again any time (bash /opt/node-bootstrap/ci-kubeconfig.sh).
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=node-bootstrap-ci-kubeconfig
load_env
export KUBECONFIG=$KUBE_DIR/admin.conf
: "${CI_TOKEN_WAIT_SECONDS:=600}"
# Global, not local: the EXIT trap runs after main has returned.
KUBECONFIG_FILE=''
trap 'rm -f "$KUBECONFIG_FILE"' EXIT

main() {
  step ci-kubeconfig
  [[ -f $KUBECONFIG ]] || die "$KUBECONFIG missing: run on a control-plane node"
  local ns=${CI_TOKEN_SECRET%%/*} secret=${CI_TOKEN_SECRET#*/} waited=0 token='' ca='' cluster user context
  read -r cluster user context <<<"$CI_KUBECONFIG_NAMES"
  until token=$(kubectl get secret "$secret" -n "$ns" -o 'jsonpath={.data.token}' 2>/dev/null) && [[ -n $token ]]; do
    if ((waited >= CI_TOKEN_WAIT_SECONDS)); then
      log "WARNING: no token in Secret $ns/$secret after ${waited}s (Flux has not synced $GITOPS_PATH yet?): $CI_KUBECONFIG not written; the region-failover workflow cannot reach $CLUSTER_NAME until 'bash $BOOTSTRAP_LIB/ci-kubeconfig.sh' runs on a control-plane node"
      return 0
    fi
    sleep "$RETRY_SLEEP_SECONDS"
    waited=$((waited + RETRY_SLEEP_SECONDS))
  done
  if ! ca=$(kubectl get secret "$secret" -n "$ns" -o 'jsonpath={.data.ca\.crt}') || [[ -z $ca ]]; then die "Secret $ns/$secret has no ca.crt"; fi
  KUBECONFIG_FILE=$(umask 077 && mktemp) || die "mktemp failed"
  cat >"$KUBECONFIG_FILE" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: $cluster
  cluster:
    server: $CI_KUBECONFIG_SERVER
    certificate-authority-data: $ca
users:
- name: $user
  user:
    token: $(printf '%s' "$token" | base64 -d)
contexts:
- name: $context
  context:
    cluster: $cluster
    user: $user
current-context: $context
KUBECONFIG
  aws ssm put-parameter --region "$REGION" --name "$CI_KUBECONFIG" --type SecureString --key-id "$KMS_KEY" --tier Standard --overwrite --value "file://$KUBECONFIG_FILE" >/dev/null ||
    die "writing $CI_KUBECONFIG failed"
  log "kubeconfig of token Secret $ns/$secret (context $context, server $CI_KUBECONFIG_SERVER) written to $CI_KUBECONFIG"
}

main "$@"
