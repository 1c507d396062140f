#!/usr/bin/env bash
# Run by every control-plane node once it has initialised or joined: installs what is missing
# of what Flux cannot install for itself - the CNI (Cilium), the AWS cloud controller (nodes
# stay tainted uninitialized without it) and Flux (flux-operator + a FluxInstance syncing
# clusters/<cluster>) - so an initialiser that died half way is finished by the next node.
# Flux then manages all three from Git; the release names and versions match the Flux
# manifests, so Flux adopts them. A release that is deployed, or that a HelmRelease manages,
# is never touched again (no older values over Flux's upgrade); a FluxInstance that exists
# is Flux's. Helm runs under a Lease only one node holds: two `helm upgrade --install` of
# one release at once fail ("another operation is in progress") or leave it pending.
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=node-bootstrap-addons
load_env
export KUBECONFIG=$KUBE_DIR/admin.conf
ADDONS=$BOOTSTRAP_ETC/addons
: "${ADDON_LOCK_WAIT_ATTEMPTS:=120}"
# kube-system/core-addons, held 900 s: longer than an install takes (three charts, no --wait);
# a holder that died frees it then.
LEASE=(lease core-addons -n kube-system)

# Prints the release's state: deployed, flux (a HelmRelease manages it), absent, or what Helm
# reports (failed, pending-install, ...). Exit 1 when the API cannot tell.
release_state() {
  local list state=absent flux
  list=$(helm list -n "$2" -a -f "^$1\$" -o json) || return 1
  [[ $list =~ \"status\":\"([a-z-]+)\" ]] && state=${BASH_REMATCH[1]}
  if [[ $state != deployed ]]; then
    # None when not found or when Flux's CRDs are not installed yet.
    if flux=$(kubectl get helmreleases.helm.toolkit.fluxcd.io "$1" -n "$2" --ignore-not-found -o name 2>&1); then
      [[ $flux != *helmrelease.helm.toolkit.fluxcd.io/"$1"* ]] || state=flux
    elif [[ $flux != *"doesn't have a resource type"* ]]; then
      return 1
    fi
  fi
  echo "$state"
}

CHARTS=(
  "cilium kube-system $CILIUM_REPO cilium $CILIUM_VERSION cilium-values.yaml"
  "aws-cloud-controller-manager kube-system $CCM_REPO aws-cloud-controller-manager $CCM_VERSION ccm-values.yaml"
  "flux-operator $FLUX_NAMESPACE $FLUX_OPERATOR_REPO flux-operator $FLUX_OPERATOR_VERSION flux-operator-values.yaml"
)

# chart RELEASE NAMESPACE REPOSITORY CHART VERSION VALUES_FILE: installs the release unless it is
# deployed or Flux's; repairs what a dead installer left (pending-*) first.
chart() {
  local release=$1 namespace=$2 repository=$3 name=$4 version=$5 values=$ADDONS/$6 state
  step "chart-$release"
  state=$(release_state "$release" "$namespace") || die "cannot read the state of release $release"
  case $state in
    deployed | flux) log "$release is $state: left alone" && return ;;
    absent | failed) ;;
    pending-install) helm uninstall "$release" -n "$namespace" || die "helm uninstall of the unfinished $release failed" ;;
    pending-upgrade | pending-rollback) helm rollback "$release" -n "$namespace" || die "helm rollback of the unfinished $release failed" ;;
    *) die "release $release is $state: resolve it by hand (helm history $release -n $namespace)" ;;
  esac
  local source=(--repo "$repository" "$name")
  [[ $repository == oci://* ]] && source=("$repository/$name")
  retry 3 helm upgrade --install "$release" "${source[@]}" --version "$version" --namespace "$namespace" --create-namespace \
    --values "$values" || die "helm install of $release $version failed"
}

# lease [RESOURCE_VERSION]: this node's Lease manifest, renewed now.
lease() {
  printf 'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: core-addons\n  namespace: kube-system\n  resourceVersion: "%s"\nspec:\n  holderIdentity: %s\n  leaseDurationSeconds: 900\n  renewTime: %s\n' \
    "${1:-}" "$INSTANCE_ID" "$(date -u -d "@$(now_epoch)" +%Y-%m-%dT%H:%M:%S.000000Z)"
}

# Create is atomic on the API server (AlreadyExists for all but one node); an expired Lease,
# or this node's own from an interrupted run, is replaced at its resourceVersion (Conflict
# for all but one node).
take_addon_lease() {
  local attempt current holder='' renewed duration version
  for ((attempt = 1; ; attempt++)); do
    lease | kubectl create -f - >/dev/null && return
    # jsonpath output ends without a newline: read it from a here-string.
    if current=$(kubectl get "${LEASE[@]}" -o jsonpath='{.spec.holderIdentity} {.spec.renewTime} {.spec.leaseDurationSeconds} {.metadata.resourceVersion}') &&
      read -r holder renewed duration version <<<"$current" &&
      { [[ $holder == "$INSTANCE_ID" ]] || (($(date -u -d "$renewed" +%s) + duration <= $(now_epoch))); }; then
      lease "$version" | kubectl replace -f - >/dev/null && log "took over the add-on lease from $holder" && return
    fi
    ((attempt < ADDON_LOCK_WAIT_ATTEMPTS)) || die "add-on lease kube-system/core-addons still held by ${holder:-?} after $attempt attempts"
    log "add-ons being installed by ${holder:-?} (lease kube-system/core-addons); waiting"
    sleep "$RETRY_SLEEP_SECONDS"
  done
}

release_addon_lease() {
  if [[ $(kubectl get "${LEASE[@]}" -o jsonpath='{.spec.holderIdentity}') != "$INSTANCE_ID" ]] || ! kubectl delete "${LEASE[@]}" >/dev/null; then
    log "WARNING: lease kube-system/core-addons not released; it expires by itself"
  fi
}

install_charts() {
  local spec state missing=0
  for spec in "${CHARTS[@]}"; do
    # shellcheck disable=SC2086
    state=$(release_state $spec) || die "cannot read the state of release ${spec%% *}"
    [[ $state == deployed || $state == flux ]] || missing=1
  done
  ((missing)) || { log "CNI, cloud controller and flux-operator present" && return; }
  step addon-lease
  take_addon_lease
  # shellcheck disable=SC2086
  for spec in "${CHARTS[@]}"; do chart $spec; done
  release_addon_lease
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

main() {
  [[ -f $KUBECONFIG ]] || die "$KUBECONFIG missing: run on the initialised control-plane node"
  # `install-addons.sh git-credentials`: only (re)write that Secret, after its parameter is created or rotated.
  if [[ ${1:-} == git-credentials ]]; then
    [[ -n $GIT_SECRET ]] || die "gitops.auth is none: the repository is public, no Git Secret to write"
    git_credentials
    return
  fi
  INSTANCE_ID=${INSTANCE_ID:-$(imds instance-id)}
  install_helm
  install_charts
  step flux-instance
  kubectl wait --for condition=established --timeout=120s crd/fluxinstances.fluxcd.controlplane.io >/dev/null || die "FluxInstance CRD not established"
  local instance
  instance=$(kubectl get fluxinstances.fluxcd.controlplane.io -n "$FLUX_NAMESPACE" --ignore-not-found -o name) || die "cannot tell whether a FluxInstance exists"
  if [[ -n $instance ]]; then
    log "$instance exists: Flux manages itself"
    return
  fi
  [[ -z $GIT_SECRET ]] || git_credentials
  kubectl apply -f "$ADDONS/flux-instance.yaml" >/dev/null || die "applying the FluxInstance failed"
  # Waits for Flux's first sync in its own unit (ci-kubeconfig.sh), once this bootstrap is done.
  systemctl start --no-block ci-kubeconfig.service || log "WARNING: ci-kubeconfig.service did not start; run 'bash $BOOTSTRAP_LIB/ci-kubeconfig.sh'"
  log "CNI, cloud controller and Flux installed; Flux syncs $GITOPS_PATH from $GIT_URL@$GIT_BRANCH"
}

main "$@"
