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
  if helm version --short 2>/dev/null | grep -q "^v$HELM_VERSION"; then return; fi
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

git_credentials() {
  step git-credentials
  local value user password
  if ! value=$(ssm_get "$SSM_GIT_CREDENTIALS"); then
    log "no Git credentials at $SSM_GIT_CREDENTIALS: assuming a public repository"
    return 1
  fi
  # The value is a token (user "git") or user:token; it goes to the API through stdin only.
  if [[ $value == *:* ]]; then user=${value%%:*} password=${value#*:}; else user=git password=$value; fi
  kubectl apply -f - >/dev/null <<MANIFEST || die "creating the flux-system Git secret failed"
apiVersion: v1
kind: Secret
metadata:
  name: flux-system
  namespace: flux-system
type: Opaque
data:
  username: $(printf '%s' "$user" | base64 -w0)
  password: $(printf '%s' "$password" | base64 -w0)
MANIFEST
}

main() {
  [[ -f $KUBECONFIG ]] || die "$KUBECONFIG missing: run on the initialised control-plane node"
  install_helm
  chart cilium kube-system "$CILIUM_REPO" cilium "$CILIUM_VERSION" "$ADDONS/cilium-values.yaml"
  chart aws-cloud-controller-manager kube-system "$CCM_REPO" aws-cloud-controller-manager "$CCM_VERSION" "$ADDONS/ccm-values.yaml"
  chart flux-operator flux-system "$FLUX_OPERATOR_REPO" flux-operator "$FLUX_OPERATOR_VERSION" "$ADDONS/flux-operator-values.yaml"
  step flux-instance
  kubectl wait --for condition=established --timeout=120s crd/fluxinstances.fluxcd.controlplane.io >/dev/null || die "FluxInstance CRD not established"
  if git_credentials; then
    kubectl apply -f "$ADDONS/flux-instance.yaml" >/dev/null || die "applying the FluxInstance failed"
  else
    grep -v 'pullSecret:' "$ADDONS/flux-instance.yaml" | kubectl apply -f - >/dev/null || die "applying the FluxInstance failed"
  fi
  log "CNI, cloud controller and Flux installed; Flux syncs $GITOPS_PATH from $GIT_URL@$GIT_BRANCH"
}

main "$@"
