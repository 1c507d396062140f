#!/usr/bin/env bash
# Sourced by the harness fakes of kubectl and helm (install-addons tests): one cluster's API
# server and Helm release storage, under $CLUSTER_STATE, shared by every node of a test.
#   objects/<resource>/<namespace>/<name>  a stored object (the manifest), <name>.rv its resourceVersion
#   crds/<resource>                         a CustomResourceDefinition that exists
#   releases/<namespace>/<name>             "<status> <revision> <chart version>" of a Helm release
#   helm.log                                every Helm change, "<instance> <operation> <release>"
# As the API server: create fails with AlreadyExists when the object exists, replace with
# Conflict when the resourceVersion is not the stored one, a type whose CRD is missing is
# unknown. As Helm: install and upgrade mark the release pending-* while they work
# ($HELM_WORK_SECONDS; with $HELM_HOLD_FOR_PEER, until another node has read a lease), and refuse a release another operation has pending; two installs of
# a new release race for its first revision, the loser fails.
# shellcheck disable=SC2317 # functions run through serialised
set -uo pipefail
state=$CLUSTER_STATE
mkdir -p "$state/objects" "$state/crds" "$state/releases"
command=$1
shift

serialised() {
  until mkdir "$state/mutex" 2>/dev/null; do /bin/sleep 0.01; done
  "$@"
  local status=$?
  rmdir "$state/mutex"
  return "$status"
}

resource_of() {
  case $1 in
    Lease | lease | leases) echo leases.coordination.k8s.io ;;
    FluxInstance) echo fluxinstances.fluxcd.controlplane.io ;;
    HelmRelease) echo helmreleases.helm.toolkit.fluxcd.io ;;
    Secret) echo secrets ;;
    *) echo "$1" ;;
  esac
}
known() {
  [[ $1 == secrets || $1 == leases.coordination.k8s.io || -e $state/crds/$1 ]] && return
  echo "error: the server doesn't have a resource type \"${1%%.*}\"" >&2
  exit 1
}
field() { sed -n "s/^ *$1: *//p" <<<"$manifest" | head -n1 | tr -d '"'; }

# create|replace|apply with the manifest on stdin or in a file.
write() {
  local verb=$1 resource name namespace path stored
  resource=$(resource_of "$(field kind)")
  name=$(field name)
  namespace=$(field namespace)
  path=$state/objects/$resource/$namespace/$name
  known "$resource"
  mkdir -p "${path%/*}"
  case $verb in
    create)
      if [[ -e $path ]]; then
        echo "Error from server (AlreadyExists): error when creating \"STDIN\": $resource \"$name\" already exists" >&2
        return 1
      fi ;;
    replace)
      stored=$(cat "$path.rv" 2>/dev/null) || { echo "Error from server (NotFound): error when replacing \"STDIN\": $resource \"$name\" not found" >&2; return 1; }
      if [[ $(field resourceVersion) != "$stored" ]]; then
        echo "Error from server (Conflict): error when replacing \"STDIN\": Operation cannot be fulfilled on $resource \"$name\": the object has been modified; please apply your changes to the latest version and try again" >&2
        return 1
      fi ;;
  esac
  printf '%s\n' "$manifest" >"$path"
  echo $(($(cat "$state/rv" 2>/dev/null || echo 100) + 1)) >"$state/rv"
  cp "$state/rv" "$path.rv"
}

kubectl_get() {
  local resource name='' namespace='' output='' ignore=0 path
  resource=$(resource_of "$1")
  # Who has read a lease so far (HELM_HOLD_FOR_PEER below waits for a peer's read).
  [[ $resource != leases.coordination.k8s.io ]] || echo "${NODE:-?}" >>"$state/lease-reads"
  shift
  while (($#)); do
    case $1 in
      -n) namespace=$2 && shift ;;
      -o) output=$2 && shift ;;
      -o*) output=${1#-o} ;;
      --ignore-not-found) ignore=1 ;;
      *) name=$1 ;;
    esac
    shift
  done
  known "$resource"
  if [[ -z $name ]]; then
    for path in "$state/objects/$resource/$namespace"/*; do
      [[ -e $path && $path != *.rv ]] && echo "${resource%%s.*}.${resource#*.}/${path##*/}"
    done
    return 0
  fi
  path=$state/objects/$resource/$namespace/$name
  if [[ ! -e $path ]]; then
    ((ignore)) && return 0
    echo "Error from server (NotFound): $resource \"$name\" not found" >&2
    return 1
  fi
  manifest=$(cat "$path")
  case $output in
    name) echo "${resource%%s.*}.${resource#*.}/$name" ;;
    jsonpath=*)
      local template=${output#jsonpath=} out='' key
      while [[ $template =~ ^([^{]*)\{\.([a-zA-Z.]+)\}(.*)$ ]]; do
        key=${BASH_REMATCH[2]}
        out+=${BASH_REMATCH[1]}
        if [[ $key == metadata.resourceVersion ]]; then out+=$(cat "$path.rv"); else out+=$(field "${key##*.}"); fi
        template=${BASH_REMATCH[3]}
      done
      printf '%s' "$out$template" ;;
  esac
}

kubectl_main() {
  local verb=$1
  shift
  case $verb in
    create | replace | apply)
      if [[ $1 == namespace ]]; then return 0; fi
      if [[ $2 == - ]]; then manifest=$(cat "$FAKE_DIR/stdin/$(wc -l <"$FAKE_DIR/calls.log")"); else manifest=$(cat "$2"); fi
      serialised write "$verb" ;;
    get)
      [[ $1 == namespace ]] && return 0
      kubectl_get "$@" ;;
    delete) rm -f "$state/objects/$(resource_of "$1")/$4/$2" "$state/objects/$(resource_of "$1")/$4/$2.rv" ;;
    wait)
      local crd=${*: -1}
      crd=${crd#crd/}
      [[ -e $state/crds/$crd ]] && return 0
      echo "Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io \"$crd\" not found" >&2
      return 1 ;;
  esac
}

# helm_start RELEASE NAMESPACE VERSION: the release's next revision, pending, or refused.
helm_start() {
  local file=$state/releases/$2/$1 status revision
  mkdir -p "${file%/*}"
  if [[ ! -e $file ]]; then
    echo "pending-install 1 $3" >"$file"
    return 0
  fi
  read -r status revision _ <"$file"
  case $status in
    pending-*)
      echo "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress" >&2
      return 1 ;;
  esac
  echo "pending-upgrade $((revision + 1)) $3" >"$file"
}

helm_main() {
  local verb=$1 release='' namespace='' version='' file status revision chart
  shift
  [[ $verb == upgrade ]] && shift
  release=$1
  while (($#)); do
    case $1 in
      -n | --namespace) namespace=$2 && shift ;;
      --version) version=$2 && shift ;;
      -f | --filter) release=${2#^} && release=${release%$} && shift ;;
    esac
    shift
  done
  file=$state/releases/$namespace/$release
  case $verb in
    version) echo "v3.19.0+gmodel" ;;
    list)
      [[ -e $file ]] || { echo '[]'; return 0; }
      read -r status revision chart <"$file"
      printf '[{"name":"%s","namespace":"%s","revision":"%s","status":"%s","chart":"%s-%s"}]\n' "$release" "$namespace" "$revision" "$status" "$release" "$chart" ;;
    upgrade)
      serialised helm_start "$release" "$namespace" "$version" || return 1
      echo "${NODE:-?} install $release" >>"$state/helm.log"
      /bin/sleep "${HELM_WORK_SECONDS:-0.3}"
      # Tests of two nodes at once: keep working until another node has looked at the lease, so
      # the race the test means happens however slowly the machine starts the second process.
      if [[ -n ${HELM_HOLD_FOR_PEER-} ]]; then
        for _ in $(seq 1200); do grep -qvx "${NODE:-?}" "$state/lease-reads" 2>/dev/null && break; /bin/sleep 0.1; done
      fi
      read -r status revision chart <"$file"
      echo "deployed $revision $chart" >"$file"
      [[ $release != flux-operator ]] || : >"$state/crds/fluxinstances.fluxcd.controlplane.io" ;;
    uninstall)
      echo "${NODE:-?} uninstall $release" >>"$state/helm.log"
      rm -f "$file" ;;
    rollback)
      echo "${NODE:-?} rollback $release" >>"$state/helm.log"
      read -r status revision chart <"$file"
      echo "deployed $((revision + 1)) $chart" >"$file" ;;
  esac
}

if [[ $command == kubectl ]]; then kubectl_main "$@"; else helm_main "$@"; fi
exit
