#!/usr/bin/env bash
# Node preparation for every role on Debian/Ubuntu images: swap off, kernel modules and
# sysctls for Kubernetes networking, containerd with the systemd cgroup driver, pinned
# kubeadm/kubelet/kubectl from pkgs.k8s.io, AWS CLI v2, and (control plane) etcdctl/etcdutl.
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=node-bootstrap-prepare
load_env
export DEBIAN_FRONTEND=noninteractive
# Root of the files this script writes (the tests point it at a temporary directory).
: "${SYSROOT:=}"
ARCH=$(dpkg --print-architecture)

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

install_containerd() {
  step containerd
  retry 5 apt-get update -q || die "apt-get update failed"
  retry 5 apt-get install -y -q containerd apt-transport-https ca-certificates curl gpg unzip || die "installing containerd failed"
  mkdir -p "$SYSROOT/etc/containerd"
  if ! grep -q 'SystemdCgroup = true' "$SYSROOT/etc/containerd/config.toml" 2>/dev/null; then
    containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/' >"$SYSROOT/etc/containerd/config.toml"
    systemctl restart containerd || die "restarting containerd failed"
  fi
  systemctl enable --now containerd || die "enabling containerd failed"
}

kubernetes_installed() { [[ $(dpkg-query -W -f='${Version}' kubeadm 2>/dev/null) == "$K8S_VERSION"-* ]]; }
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
  retry 5 apt-get update -q || die "apt-get update with pkgs.k8s.io failed"
  apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
  retry 5 apt-get install -y -q "kubelet=$K8S_VERSION-*" "kubeadm=$K8S_VERSION-*" "kubectl=$K8S_VERSION-*" ||
    die "installing kubelet/kubeadm/kubectl $K8S_VERSION failed"
  apt-mark hold kubelet kubeadm kubectl >/dev/null
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
pinned() { printf 'kubernetes=%s aws-cli=%s etcd=%s\n' "$K8S_VERSION" "$AWSCLI_VERSION" "${ETCD_VERSION:-none}"; }
prepared() {
  [[ -f $PREP_DONE && $(<"$PREP_DONE") == "$(pinned)" ]] || return 1
  kubernetes_installed && aws_cli_installed || return 1
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
