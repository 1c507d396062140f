#!/usr/bin/env bash
# Run once by the initialiser: installs only what Flux cannot install for itself - the CNI
# (Cilium), the AWS cloud controller (nodes stay tainted uninitialized without it) and Flux
# (flux-operator + a FluxInstance syncing clusters/<cluster>). Flux then manages all three
# from Git; the release names and versions match the Flux manifests, so Flux adopts them.
# Every step is an idempotent upgrade/apply.
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=node-bootstrap-addons
load_env
export KUBECONFIG=$KUBE_DIR/admin.conf
ADDONS=$BOOTSTRAP_ETC/addons

install_helm() {
  step helm
  if [[ $(helm version --short 2>/dev/null) == "v$HELM_VERSION"* ]]; then return; fi
  local work name
  work=$(mktemp -d)
  name=helm-v$HELM_VERSION-linux-$(dpkg --print-architecture)
  retry 5 curl -fsSL -o "$work/$name.tar.gz" "https://get.helm.sh/$name.tar.gz" || die "downloading helm $HELM_VERSION failed"
  retry 5 curl -fsSL -o "$work/$name.tar.gz.sha256sum" "https://get.helm.sh/$name.tar.gz.sha256sum" || die "downloading helm checksum failed"
  (cd "$work" && sha256sum -c "$name.tar.gz.sha256sum") >/dev/null || die "helm $HELM_VERSION checksum mismatch"
  tar -xzf "$work/$name.tar.gz" -C "$work" || die "unpacking helm failed"
  install -m 0755 "$work/linux-$(dpkg --print-architecture)/helm" /usr/local/bin/helm || die "installing helm failed"
  rm -rf "$work"
}

# chart RELEASE NAMESPACE REPOSITORY CHART VERSION VALUES_FILE [helm flags...]
chart() {
  local release=$1 namespace=$2 repository=$3 name=$4 version=$5 values=$6
  shift 6
  step "chart-$release"
  local source=(--repo "$repository" "$name")
  [[ $repository == oci://* ]] && source=("$repository/$name")
  retry 3 helm upgrade --install "$release" "${source[@]}" --version "$version" --namespace "$namespace" --create-namespace \
    --values "$values" "$@" || die "helm install of $release $version failed"
}

# The Secret $FLUX_NAMESPACE/$GIT_SECRET the FluxInstance's pullSecret names (gitops.auth token).
# Missing parameter: a warning; Flux then waits for the Secret until `install-addons.sh git-credentials` runs.
git_credentials() {
  step git-credentials
  local value user password
  if ! value=$(ssm_get "$SSM_GIT_CREDENTIALS") || [[ -z $value ]]; then
    log "WARNING: no Git credentials at $SSM_GIT_CREDENTIALS: no Secret $FLUX_NAMESPACE/$GIT_SECRET, Flux cannot read $GIT_URL until the parameter exists and 'install-addons.sh git-credentials' runs (public repository: gitops.auth none)"
    return 0
  fi
  # The value is a token (user "git") or user:token; it goes to the API through stdin only.
  if [[ $value == *:* ]]; then user=${value%%:*} password=${value#*:}; else user=git password=$value; fi
  kubectl apply -f - >/dev/null <<MANIFEST || die "creating Secret $FLUX_NAMESPACE/$GIT_SECRET failed"
apiVersion: v1
kind: Secret
metadata:
  name: $GIT_SECRET
  namespace: $FLUX_NAMESPACE
type: Opaque
data:
  username: $(printf '%s' "$user" | base64 -w0)
  password: $(printf '%s' "$password" | base64 -w0)
MANIFEST
  log "Secret $FLUX_NAMESPACE/$GIT_SECRET written from $SSM_GIT_CREDENTIALS"
}

# The database pods' S3 keys (pods cannot reach the node role: IMDS hop limit 1). The SSM
# SecureString holds {"accessKeyId":"..","secretAccessKey":".."} or id:secret; the keys reach the
# API through stdin only. Missing or malformed: a warning, not a failed bootstrap - PostgreSQL
# backups then fail visibly in the CNPG Cluster status until `install-addons.sh
# backup-credentials` runs (docs/runbooks/app-backup-credentials.md).
backup_credentials() {
  step app-backup-credentials
  local value id='' secret='' id_key secret_key ns=$APP_BACKUP_NAMESPACE
  read -r id_key secret_key <<<"$APP_BACKUP_KEYS"
  if ! value=$(ssm_get "$SSM_APP_BACKUP_CREDENTIALS") || [[ -z $value ]]; then
    log "WARNING: no app backup credentials at $SSM_APP_BACKUP_CREDENTIALS: no Secret $ns/$APP_BACKUP_SECRET, PostgreSQL backups will fail (see the CNPG Cluster status) until the parameter exists and 'install-addons.sh backup-credentials' runs"
    return 0
  fi
  if [[ $value =~ \"accessKeyId\"[[:space:]]*:[[:space:]]*\"([^\"]+)\" ]]; then id=${BASH_REMATCH[1]}; fi
  if [[ $value =~ \"secretAccessKey\"[[:space:]]*:[[:space:]]*\"([^\"]+)\" ]]; then secret=${BASH_REMATCH[1]}; fi
  if [[ $value != *'{'* && $value == ?*:?* ]]; then id=${value%%:*} secret=${value#*:}; fi
  secret=${secret//'\/'/\/}
  if [[ -z $id || -z $secret ]]; then
    log "WARNING: $SSM_APP_BACKUP_CREDENTIALS is neither {\"accessKeyId\",\"secretAccessKey\"} JSON nor id:secret: no Secret $ns/$APP_BACKUP_SECRET, PostgreSQL backups will fail"
    return 0
  fi
  kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns" >/dev/null || die "creating namespace $ns failed"
  kubectl apply -f - >/dev/null <<MANIFEST || die "creating Secret $ns/$APP_BACKUP_SECRET failed"
apiVersion: v1
kind: Secret
metadata:
  name: $APP_BACKUP_SECRET
  namespace: $ns
type: Opaque
data:
  $id_key: $(printf '%s' "$id" | base64 -w0)
  $secret_key: $(printf '%s' "$secret" | base64 -w0)
MANIFEST
  log "Secret $ns/$APP_BACKUP_SECRET written from $SSM_APP_BACKUP_CREDENTIALS"
}

main() {
  [[ -f $KUBECONFIG ]] || die "$KUBECONFIG missing: run on the initialised control-plane node"
  # `install-addons.sh backup-credentials` or `git-credentials`: only (re)write that Secret, after its parameter is created or rotated.
  if [[ ${1:-} == backup-credentials ]]; then
    backup_credentials
    return
  fi
  if [[ ${1:-} == git-credentials ]]; then
    [[ -n $GIT_SECRET ]] || die "gitops.auth is none: the repository is public, no Git Secret to write"
    git_credentials
    return
  fi
  install_helm
  chart cilium kube-system "$CILIUM_REPO" cilium "$CILIUM_VERSION" "$ADDONS/cilium-values.yaml"
  chart aws-cloud-controller-manager kube-system "$CCM_REPO" aws-cloud-controller-manager "$CCM_VERSION" "$ADDONS/ccm-values.yaml"
  chart flux-operator "$FLUX_NAMESPACE" "$FLUX_OPERATOR_REPO" flux-operator "$FLUX_OPERATOR_VERSION" "$ADDONS/flux-operator-values.yaml"
  backup_credentials
  step flux-instance
  kubectl wait --for condition=established --timeout=120s crd/fluxinstances.fluxcd.controlplane.io >/dev/null || die "FluxInstance CRD not established"
  [[ -z $GIT_SECRET ]] || git_credentials
  kubectl apply -f "$ADDONS/flux-instance.yaml" >/dev/null || die "applying the FluxInstance failed"
  # Waits for Flux's first sync in its own unit (ci-kubeconfig.sh), once this bootstrap is done.
  systemctl start --no-block ci-kubeconfig.service || log "WARNING: ci-kubeconfig.service did not start; run 'bash $BOOTSTRAP_LIB/ci-kubeconfig.sh'"
  log "CNI, cloud controller and Flux installed; Flux syncs $GITOPS_PATH from $GIT_URL@$GIT_BRANCH"
}

main "$@"
