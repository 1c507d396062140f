#!/usr/bin/env bash
# Node preparation for every role on Debian/Ubuntu images: swap off, kernel modules and
# sysctls for Kubernetes networking, pinned containerd and runc (the distribution's packages)
# with the systemd cgroup driver, pinned kubeadm/kubelet/kubectl from pkgs.k8s.io, AWS CLI v2,
# and (control plane) etcdctl/etcdutl. Pinned packages are held and checked once installed.
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
  curl -fsSL "https://pkgs.k8s.io/core:/stable:/v$K8S_MINOR/deb/Release.key" | gpg --dearmor --yes -o "$SYSROOT/etc/apt/keyrings/kubernetes-apt-keyring.gpg" ||
    die "fetching the pkgs.k8s.io signing key failed"
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
  retry 5 curl -fsSL -o "$work/awscli.zip" "https://awscli.amazonaws.com/awscli-exe-linux-$(uname -m)-$AWSCLI_VERSION.zip" || die "downloading AWS CLI $AWSCLI_VERSION failed"
  unzip -q "$work/awscli.zip" -d "$work" || die "unpacking AWS CLI failed"
  "$work/aws/install" --update >/dev/null || die "installing AWS CLI failed"
  rm -rf "$work"
}

# etcdctl/etcdutl of the etcd version kubeadm runs, checked against the release's SHA256SUMS.
install_etcd_tools() {
  step etcd-tools
  if etcd_tools_installed; then return; fi
  local work base name
  work=$(mktemp -d)
  name=etcd-v$ETCD_VERSION-linux-$ARCH
  base=https://github.com/etcd-io/etcd/releases/download/v$ETCD_VERSION
  retry 5 curl -fsSL -o "$work/$name.tar.gz" "$base/$name.tar.gz" || die "downloading etcd $ETCD_VERSION failed"
  retry 5 curl -fsSL -o "$work/SHA256SUMS" "$base/SHA256SUMS" || die "downloading etcd checksums failed"
  (cd "$work" && grep " $name.tar.gz\$" SHA256SUMS | sha256sum -c -) >/dev/null || die "etcd $ETCD_VERSION checksum mismatch"
  tar -xzf "$work/$name.tar.gz" -C "$work" || die "unpacking etcd failed"
  install -m 0755 "$work/$name/etcdctl" "$work/$name/etcdutl" /usr/local/bin/ || die "installing etcdctl/etcdutl failed"
  rm -rf "$work"
}

# What a finished preparation installed; a reboot of a prepared node with these versions
# skips apt and downloads (an apt-get upgrade could restart containerd under a running
# node, and without egress the retries would hold the boot for minutes).
PREP_DONE=$STATE_DIR/node-prep.done
pinned() { printf 'kubernetes=%s containerd=%s runc=%s aws-cli=%s etcd=%s\n' "$K8S_VERSION" "$CONTAINERD_VERSION" "$RUNC_VERSION" "$AWSCLI_VERSION" "${ETCD_VERSION:-none}"; }
prepared() {
  [[ -f $PREP_DONE && $(<"$PREP_DONE") == "$(pinned)" ]] || return 1
  runtime_installed && kubernetes_installed && aws_cli_installed || return 1
  [[ $ROLE != control-plane ]] || etcd_tools_installed
}

# Swap and kernel settings are local and cheap: always re-applied.
disable_swap
kernel_settings
step check-prepared
if prepared; then
  log "node already prepared ($(pinned))"
  exit 0
fi
install_containerd
install_kubernetes_packages
install_aws_cli
if [[ $ROLE == control-plane ]]; then install_etcd_tools; fi
mkdir -p "$STATE_DIR"
pinned >"$PREP_DONE"
log "node prepared"
