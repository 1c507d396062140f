#!/usr/bin/env bash
# Node preparation for every role on Debian/Ubuntu images: swap off, kernel modules and
# sysctls for Kubernetes networking, pinned containerd and runc (the distribution's packages)
# with the systemd cgroup driver, pinned kubeadm/kubelet/kubectl from pkgs.k8s.io, AWS CLI v2,
# and (control plane, and the baked image: ROLE=image) etcdctl/etcdutl and helm. Pinned packages
# are held and checked once installed; every downloaded file is checked against the SHA-256 pinned
# in the bundle (lib.sh fetch_pinned), the pkgs.k8s.io key against its pinned fingerprint.
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=node-bootstrap-prepare
load_env
export DEBIAN_FRONTEND=noninteractive
# Root of the files this script writes (the tests point it at a temporary directory).
: "${SYSROOT:=}"
ARCH=$(dpkg --print-architecture)
# On a first boot unattended-upgrades (apt-daily-upgrade.service) holds the dpkg lock for
# minutes, longer on an older image; without a timeout apt fails at once ("Could not get
# lock"), and a few short retries give up before it is done. Each call waits up to 10 min
# for the lock (retry 5 keeps the worst case under the unit's 90 min start timeout).
# `apt-get update` needs the package lists lock instead (apt-daily.service holds it while it
# refreshes the lists), which the timeout does not cover: it is retried for 5 min.
APT_LOCK_WAIT=(-o DPkg::Lock::Timeout=600)
apt_get() { apt-get "${APT_LOCK_WAIT[@]}" "$@"; }
apt_mark() { apt-mark "${APT_LOCK_WAIT[@]}" "$@"; }
apt_update() { retry 30 apt_get update -q; }

disable_swap() {
  step swap-off
  swapoff -a
  sed -i -E '/^[^#].*[[:space:]]swap[[:space:]]/ s/^/#/' "$SYSROOT/etc/fstab"
}

kernel_settings() {
  step kernel-modules
  printf 'overlay\nbr_netfilter\n' >"$SYSROOT/etc/modules-load.d/kubernetes.conf"
  modprobe overlay || die "loading overlay failed"
  modprobe br_netfilter || die "loading br_netfilter failed"
  step sysctl
  printf 'net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n' >"$SYSROOT/etc/sysctl.d/90-kubernetes.conf"
  sysctl --system >/dev/null || die "sysctl --system failed"
}

# installed PACKAGE VERSION: the package is installed at that upstream version (any packaging revision).
installed() { [[ $(dpkg-query -W -f='${Version}' "$1" 2>/dev/null) == "$2"-* ]]; }
runtime_installed() { installed containerd "$CONTAINERD_VERSION" && installed runc "$RUNC_VERSION"; }

install_containerd() {
  step containerd
  apt_update || die "apt-get update failed"
  apt_mark unhold containerd runc >/dev/null 2>&1 || true
  retry 5 apt_get install -y -q "containerd=$CONTAINERD_VERSION-*" "runc=$RUNC_VERSION-*" apt-transport-https ca-certificates curl gpg unzip ||
    die "installing containerd $CONTAINERD_VERSION and runc $RUNC_VERSION failed (no longer in the archive? the pins are in node-bootstrap src/versions.ts)"
  apt_mark hold containerd runc >/dev/null || die "holding containerd and runc failed"
  runtime_installed || die "installed containerd/runc are not the pinned $CONTAINERD_VERSION/$RUNC_VERSION"
  mkdir -p "$SYSROOT/etc/containerd"
  if ! grep -q 'SystemdCgroup = true' "$SYSROOT/etc/containerd/config.toml" 2>/dev/null; then
    containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/' >"$SYSROOT/etc/containerd/config.toml"
    systemctl restart containerd || die "restarting containerd failed"
  fi
  systemctl enable --now containerd || die "enabling containerd failed"
}

kubernetes_installed() { installed kubeadm "$K8S_VERSION"; }
aws_cli_installed() { [[ $(aws --version 2>/dev/null) == *"aws-cli/$AWSCLI_VERSION "* ]]; }
# No `| grep -q` here: grep exits at the first line and etcdctl dies writing the second (pipefail).
etcd_tools_installed() { [[ $(etcdctl version 2>/dev/null) == *"etcdctl version: $ETCD_VERSION"$'\n'* ]]; }

install_kubernetes_packages() {
  step kubernetes-packages
  if kubernetes_installed; then
    log "kubeadm $K8S_VERSION already installed"
    return
  fi
  mkdir -p "$SYSROOT/etc/apt/keyrings"
  local key want got
  key=$(mktemp)
  retry 5 curl -fsSL -o "$key" "https://pkgs.k8s.io/core:/stable:/v$K8S_MINOR/deb/Release.key" || die "fetching the pkgs.k8s.io signing key failed"
  # apt trusts whatever this key signs (Release -> Packages SHA256 -> .deb): only the pinned key.
  want=$(pinned kubernetes-apt-key - -)
  got=$(gpg --show-keys --with-colons "$key" | awk -F: '$1 == "fpr" { print $10; exit }')
  [[ -n $want && $got == "$want" ]] || die "kubernetes-apt-key (pkgs.k8s.io v$K8S_MINOR Release.key): fingerprint ${got:-none}, expected the pinned ${want:-(none pinned)}; refused"
  gpg --dearmor --yes -o "$SYSROOT/etc/apt/keyrings/kubernetes-apt-keyring.gpg" <"$key" || die "storing the pkgs.k8s.io signing key failed"
  rm -f "$key"
  echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v$K8S_MINOR/deb/ /" >"$SYSROOT/etc/apt/sources.list.d/kubernetes.list"
  apt_update || die "apt-get update with pkgs.k8s.io failed"
  apt_mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
  retry 5 apt_get install -y -q "kubelet=$K8S_VERSION-*" "kubeadm=$K8S_VERSION-*" "kubectl=$K8S_VERSION-*" ||
    die "installing kubelet/kubeadm/kubectl $K8S_VERSION failed"
  apt_mark hold kubelet kubeadm kubectl >/dev/null || die "holding kubelet/kubeadm/kubectl failed"
  for package in kubelet kubeadm kubectl; do installed "$package" "$K8S_VERSION" || die "installed $package is not the pinned $K8S_VERSION"; done
  systemctl enable kubelet
}

install_aws_cli() {
  step aws-cli
  if aws_cli_installed; then return; fi
  local work
  work=$(mktemp -d)
  fetch_pinned aws-cli "$AWSCLI_VERSION" "$ARCH" "https://awscli.amazonaws.com/awscli-exe-linux-$(uname -m)-$AWSCLI_VERSION.zip" "$work/awscli.zip"
  unzip -q "$work/awscli.zip" -d "$work" || die "unpacking AWS CLI failed"
  "$work/aws/install" --update -i "$SYSROOT/usr/local/aws-cli" -b "$BIN_DIR" >/dev/null || die "installing AWS CLI failed"
  rm -rf "$work"
}

# etcdctl/etcdutl of the etcd version kubeadm runs.
install_etcd_tools() {
  step etcd-tools
  if etcd_tools_installed; then return; fi
  local work base name
  work=$(mktemp -d)
  name=etcd-v$ETCD_VERSION-linux-$ARCH
  base=https://github.com/etcd-io/etcd/releases/download/v$ETCD_VERSION
  fetch_pinned etcd "$ETCD_VERSION" "$ARCH" "$base/$name.tar.gz" "$work/$name.tar.gz"
  tar -xzf "$work/$name.tar.gz" -C "$work" || die "unpacking etcd failed"
  install -m 0755 "$work/$name/etcdctl" "$work/$name/etcdutl" "$BIN_DIR/" || die "installing etcdctl/etcdutl failed"
  rm -rf "$work"
}

# What a finished preparation installed; a reboot of a prepared node with these versions
# skips apt and downloads (an apt-get upgrade could restart containerd under a running
# node, and without egress the retries would hold the boot for minutes). A node booted from
# the baked image finds the marker the bake wrote (ROLE=image installs what every role needs):
# the same versions and the same pins digest mean nothing is downloaded; any other pin re-prepares.
PREP_DONE=$STATE_DIR/node-prep.done
helm_installed() { [[ $(helm version --short 2>/dev/null) == "v$HELM_VERSION"* ]]; }
prep_marker() {
  local pins
  pins=$(sha256sum "$BOOTSTRAP_LIB/download-pins.txt") || die "missing download-pins.txt beside lib.sh"
  printf 'kubernetes=%s containerd=%s runc=%s aws-cli=%s etcd=%s helm=%s pins=%s\n' "$K8S_VERSION" "$CONTAINERD_VERSION" "$RUNC_VERSION" "$AWSCLI_VERSION" "$ETCD_VERSION" "$HELM_VERSION" "${pins:0:16}"
}
prepared() {
  [[ -f $PREP_DONE && $(<"$PREP_DONE") == "$(prep_marker)" ]] || return 1
  runtime_installed && kubernetes_installed && aws_cli_installed || return 1
  [[ $ROLE == worker ]] || { etcd_tools_installed && helm_installed; }
}

# IMDS fence (every boot: iptables rules do not survive a reboot; from the web-identity stage,
# when the env names IMDS_FENCE_CGROUP). A hostNetwork pod shares the host's network namespace,
# so the IMDS hop limit does not stop it; with IMDS it is the node role (issuer objects, join
# material). Its sockets go through OUTPUT like the host's (Cilium's BPF host routing only
# bypasses netfilter for pod-netns endpoints), so OUTPUT drops IMDS traffic from every socket
# created in the kubelet's pod cgroup: no pod is exempt (the cloud controller has its own
# identity). Host processes (these scripts, the kubelet) are outside kubepods.slice and keep IMDS.
# `-m cgroup --path` is resolved by the kernel to one cgroup when the rule is added: a slice
# removed and made again (same path, new cgroup id) no longer matches, and `iptables -C` still
# reports the rule present (it compares the path text). So the slice is a persistent unit the
# kubelet reuses (its transient start answers UnitExists), and the fence records the cgroup id
# it armed for: `node-prep.sh imds-fence` re-arms when the id differs (kubelet's ExecStartPre=,
# so a kubelet whose fence cannot be armed does not start: fail closed; and imds-fence.timer).
CGROUP2_ROOT=${CGROUP2_ROOT:-/sys/fs/cgroup}
IMDS_FENCE_ARMED=$STATE_DIR/imds-fence.cgroup-id
cgroup_id() { stat -c %i "$CGROUP2_ROOT/$IMDS_FENCE_CGROUP" 2>/dev/null; }
fence_in_place() {
  local tool address
  [[ -f $IMDS_FENCE_ARMED && $(<"$IMDS_FENCE_ARMED") == "$1" ]] || return 1
  for tool in iptables ip6tables; do
    address=$IMDS_FENCE_V4
    [[ $tool == iptables ]] || address=$IMDS_FENCE_V6
    "$tool" -w -C "$IMDS_FENCE_CHAIN" -m cgroup --path "$IMDS_FENCE_CGROUP" -j DROP 2>/dev/null || return 1
    "$tool" -w -C OUTPUT -d "$address" -j "$IMDS_FENCE_CHAIN" 2>/dev/null || return 1
  done
}
imds_fence() {
  step imds-fence
  local unit=$SYSROOT/etc/systemd/system/$IMDS_FENCE_CGROUP
  if [[ ! -f $unit ]]; then
    mkdir -p "${unit%/*}"
    printf '[Unit]\nDescription=Kubernetes pods (persistent for the IMDS fence; the kubelet reuses it)\nBefore=slices.target\n' >"$unit"
    systemctl daemon-reload || die "systemctl daemon-reload failed"
  fi
  systemctl start "$IMDS_FENCE_CGROUP" || die "starting $IMDS_FENCE_CGROUP failed"
  local id tool address standin next=$IMDS_FENCE_CHAIN-NEXT
  id=$(cgroup_id) || die "no cgroup $CGROUP2_ROOT/$IMDS_FENCE_CGROUP after starting the slice"
  if fence_in_place "$id"; then return; fi
  mkdir -p "$STATE_DIR"
  rm -f "$IMDS_FENCE_ARMED"
  for tool in iptables ip6tables; do
    address=$IMDS_FENCE_V4
    [[ $tool == iptables ]] || address=$IMDS_FENCE_V6
    standin=0
    if ! "$tool" -w -N "$IMDS_FENCE_CHAIN" 2>/dev/null; then
      standin=1
      # Re-arm: the chain may still drop pod traffic (a lost record, one family missing its jump), so
      # it is never empty while OUTPUT jumps to it: a complete chain takes over first, then goes.
      "$tool" -w -N "$next" 2>/dev/null || "$tool" -w -F "$next" || die "$tool: preparing chain $next failed"
      "$tool" -w -A "$next" -m cgroup --path "$IMDS_FENCE_CGROUP" -j DROP || die "$tool: the IMDS drop for $IMDS_FENCE_CGROUP failed"
      "$tool" -w -C OUTPUT -d "$address" -j "$next" 2>/dev/null ||
        "$tool" -w -I OUTPUT 1 -d "$address" -j "$next" || die "$tool: the OUTPUT jump to $next failed"
      "$tool" -w -F "$IMDS_FENCE_CHAIN" || die "$tool: flushing chain $IMDS_FENCE_CHAIN failed"
    fi
    "$tool" -w -A "$IMDS_FENCE_CHAIN" -m cgroup --path "$IMDS_FENCE_CGROUP" -j DROP || die "$tool: the IMDS drop for $IMDS_FENCE_CGROUP failed"
    "$tool" -w -C OUTPUT -d "$address" -j "$IMDS_FENCE_CHAIN" 2>/dev/null ||
      "$tool" -w -I OUTPUT 1 -d "$address" -j "$IMDS_FENCE_CHAIN" || die "$tool: the OUTPUT jump to $IMDS_FENCE_CHAIN failed"
    # The stand-in goes once the chain drops again.
    if ((standin)); then
      "$tool" -w -D OUTPUT -d "$address" -j "$next" || die "$tool: removing the OUTPUT jump to $next failed"
      "$tool" -w -F "$next" || die "$tool: flushing chain $next failed"
      "$tool" -w -X "$next" || die "$tool: deleting chain $next failed"
    fi
  done
  printf '%s\n' "$id" >"$IMDS_FENCE_ARMED"
  log "IMDS fence armed for $IMDS_FENCE_CGROUP (cgroup id $id)"
}
if [[ ${1-} == imds-fence ]]; then
  # The kubelet's ExecStartPre= and imds-fence.timer: only the fence, never the preparation.
  [[ -n ${IMDS_FENCE_CGROUP-} ]] || exit 0
  imds_fence
  exit 0
fi

# Swap and kernel settings are local and cheap: always re-applied, and so is the IMDS fence.
disable_swap
kernel_settings
[[ -z ${IMDS_FENCE_CGROUP-} || $ROLE == image ]] || imds_fence
step check-prepared
if prepared; then
  log "node already prepared ($(prep_marker))"
  exit 0
fi
install_containerd
install_kubernetes_packages
install_aws_cli
if [[ $ROLE != worker ]]; then
  install_etcd_tools
  install_helm
fi
mkdir -p "$STATE_DIR"
prep_marker >"$PREP_DONE"
log "node prepared"
