#!/usr/bin/env bash
# Sourced by the harness fakes of etcdctl and kubeadm (etcd membership tests): one etcd cluster
# under $ETCD_STATE, shared by every node of a test.
#   members/<id>   "<name> <peer ip> <started 0|1> <running 0|1>" of a voting member
# `running` is whether the member's etcd process is up (a Terminating:Wait instance's still is);
# `started` whether it ever published its name (a member added by a join that never started is
# "unstarted"). As etcd v3.5 with kubeadm's defaults (--strict-reconfig-check=true):
#   - a request needs an endpoint whose member runs (127.0.0.1 is $ETCD_LOCAL_IP's member), and a
#     majority of the members running (else it times out);
#   - member remove: "member not found" for an unknown id; refused when fewer started members
#     than a quorum of the new membership would be left (ErrNotEnoughStartedMembers); a member
#     that is down may then always go; removing one that runs is refused when the running
#     members minus it are fewer than a quorum of the current membership (ErrUnhealthy: the
#     change would break the active quorum). A removed member's etcd stops.
#   - a control-plane `kubeadm join` adds the node's member (its advertiseAddress in the join
#     configuration): refused unless every member runs (etcd's isConnectedFullySince) and the
#     started members are a quorum of the grown membership (or it grows one member to two);
#     then it starts. kubeadm refuses a peer URL a member already has (its etcd phase adds the
#     member as a learner; etcd answers ErrPeerURLExist).
#   - peers authenticate each other by certificate, in both directions (etcd >= 3.2, checkCertSAN of
#     its transport package): a member accepts a peer connection whose source address is among the
#     peer certificate's IP SANs, else when one of the certificate's DNS names resolves (forward
#     lookup) to that source, else refuses it. kubeadm's peer certificate names the advertise
#     address (IP) and the node name (DNS: the EC2 hostname, which the VPC's DNS resolves to the
#     primary address). DNS is $ETCD_STATE/hosts ("<name> <ip>" lines: what the VPC resolver
#     answers). The source a node's connection to a peer takes: the PreferredSource of its /32
#     route to that peer in its 10-etcd-slot.network (the slot routes), else its primary address.
#     A node the scripts ran on is nodes/<member id> "<primary ip> <node name> [<networkd file>]" (written
#     by its join or init); a member without one speaks from its advertise address. Modelled when
#     NETWORKD_DIR is set.
#   - a fresh etcd writes its member's data under $ETCD_DATA_DIR/member (the node's data dir);
#     `kubeadm init` with the join-only phases skipped (a rejoin) starts etcd from that data: the
#     member its WAL names restarts, as long as the others still list it (a removed member's etcd
#     exits: "the member has been permanently removed from the cluster"); without data it would
#     start a new one-member cluster, which the model refuses (a split).
# shellcheck disable=SC2317 # functions run through serialised
set -uo pipefail
state=$ETCD_STATE
mkdir -p "$state/members"
command=$1
shift

serialised() {
  until mkdir "$state/mutex" 2>/dev/null; do /bin/sleep 0.01; done
  ("$@") # a subshell: a refusal exits it, never the lock release
  local status=$?
  rmdir "$state/mutex"
  return "$status"
}

field() { read -r -a f <"$state/members/$1" && echo "${f[$2]}"; }
ids() { ls "$state/members"; }
count() { # count <field index> <value> [excluded id]: members whose field has the value
  local n=0 id
  for id in $(ids); do [[ $id != "${3-}" && $(field "$id" "$1") == "$2" ]] && n=$((n + 1)); done
  echo "$n"
}
member_at() { # the running member serving an IP, if any
  local id
  for id in $(ids); do [[ $(field "$id" 1) == "$1" && $(field "$id" 3) == 1 ]] && echo "$id" && return; done
  return 1
}
fail() { echo "Error: $*" >&2; exit 1; }

etcdctl_cmd() {
  local endpoints='' serving='' ip
  while [[ $1 == --* ]]; do [[ $1 == --endpoints=* ]] && endpoints=${1#--endpoints=}; shift; done
  for ip in ${endpoints//,/ }; do
    ip=${ip#https://}
    ip=${ip%:*}
    [[ $ip == 127.0.0.1 ]] && ip=${ETCD_LOCAL_IP:?}
    serving=$(member_at "$ip") && break
  done
  # etcd serves clients only with a certificate of its CA (--client-cert-auth): etcdctl without
  # its files fails before it connects.
  [[ -z ${ETCDCTL_CERT-} || -s $ETCDCTL_CERT ]] || fail "open $ETCDCTL_CERT: no such file or directory"
  [[ -n $serving ]] || fail "context deadline exceeded (no running member at $endpoints)"
  local members running
  members=$(ids | wc -l)
  running=$(count 3 1)
  ((running >= members / 2 + 1)) || fail "etcdserver: request timed out (no quorum: $running of $members members run)"
  case "$1 $2" in
    'member list')
      local id
      for id in $(ids); do
        read -r -a f <"$state/members/$id"
        if [[ ${f[2]} == 1 ]]; then echo "$id, started, ${f[0]}, https://${f[1]}:2380, https://${f[1]}:2379, false"; else echo "$id, unstarted, , https://${f[1]}:2380, , false"; fi
      done
      ;;
    'member remove')
      local id=$3 others started
      [[ -e $state/members/$id ]] || fail "etcdserver: member not found"
      others=$((members - 1))
      started=$(count 2 1 "$id")
      ((started >= others / 2 + 1)) || fail "etcdserver: re-configuration failed due to not enough started members"
      if [[ $(field "$id" 3) == 1 || $id == "$serving" ]] && ((running - 1 < 1 + (members - 1) / 2)); then
        fail "etcdserver: unhealthy cluster"
      fi
      rm "$state/members/$id"
      echo "$id" >>"$state/removed.log"
      echo "Member $id removed from cluster cdf818194e3a8c32"
      ;;
    'endpoint status')
      echo "https://127.0.0.1:2379, $serving, 3.5.21, 20 MB, false, false, 4, 1000, 1000, "
      ;;
    *) echo "fakes/etcd.sh: etcdctl $* is not modelled" >&2 && exit 2 ;;
  esac
}

kubeadm_join() {
  local config=$1 ip members
  ip=$(sed -n 's/^ *advertiseAddress: *//p' "$config" | tr -d "'")
  [[ -n $ip ]] || { echo "fakes/etcd.sh: no advertiseAddress in $config" >&2 && exit 2; }
  members=$(ids | wc -l)
  local id
  for id in $(ids); do [[ $(field "$id" 1) != "$ip" ]] || { echo "error execution phase control-plane-join/etcd: member already exists with the same peer URLs [https://$ip:2380], but is not a learner: etcdserver: Peer URLs already exists" >&2 && exit 1; }; done
  (($(count 3 1) == members)) || { echo "error execution phase control-plane-join/etcd: etcdserver: unhealthy cluster" >&2 && exit 1; }
  # etcd lets a one-member cluster grow to two (restoring from a snapshot) whatever the quorum says.
  (($(count 2 1) >= (members + 1) / 2 + 1 || members == 1)) || { echo "error execution phase control-plane-join/etcd: etcdserver: re-configuration failed due to not enough started members" >&2 && exit 1; }
  peer_sources_named "$ip" "$(config_name "$config")"
  # etcd started on a data dir holding a member restarts that member and ignores the join's flags.
  [[ ! -e $ETCD_DATA_DIR/member ]] || { echo "error execution phase control-plane-join/etcd-join: etcd on $ETCD_DATA_DIR restarted the member its data holds, not the one the join added" >&2 && exit 1; }
  printf '%s %s 1 1\n' "$(sed -n 's/^ *name: *//p' "$config" | head -1 | tr -d "'")" "$ip" >"$state/members/ee${ip//./}"
  write_data "ee${ip//./}"
  record_node "ee${ip//./}" "$(config_name "$config")"
}

# source_towards PRIMARY ROUTES DEST: the source address a node's connection to DEST takes.
source_towards() {
  local source=''
  [[ $2 == - || ! -f $2 ]] || source=$(awk -v dest="Destination=$3/32" '/^\[/ { route = ($0 == "[Route]"); hit = 0 } route && $0 == dest { hit = 1 } route && hit && /^PreferredSource=/ { sub(/^PreferredSource=/, ""); print; exit }' "$2")
  echo "${source:-$1}"
}

# cert_accepts SOURCE CERT_IP CERT_NAME: etcd's checkCertSAN: an IP SAN equal to the source, else a
# DNS name whose forward lookup holds the source.
cert_accepts() {
  [[ $1 == "$2" ]] || grep -qsx "$3 $1" "$state/hosts"
}

# peer_sources_named ADVERTISE NAME [SELF ID]: fails (as the refusal of the side that checks) when a
# connection between this node and a running peer, either way, comes from an address the sender's
# peer certificate does not name and none of its DNS names resolves to.
peer_sources_named() {
  [[ -n ${NETWORKD_DIR-} ]] || return 0
  local file=$NETWORKD_DIR/10-etcd-slot.network id peer source name primary routes
  for id in $(ids); do
    [[ $id != "${3-}" && $(field "$id" 3) == 1 ]] || continue
    peer=$(field "$id" 1)
    name=$(field "$id" 0)
    source=$(source_towards "$ETCD_LOCAL_IP" "$file" "$peer")
    cert_accepts "$source" "$1" "$2" || { echo "error execution phase control-plane-join/etcd: rejected connection from $source to $peer (tls: $source does not match any of the peer certificate's IP addresses [$1 127.0.0.1], and its DNS names [$2 localhost] do not resolve to it)" >&2 && exit 1; }
    primary=$peer routes=-
    [[ ! -f $state/nodes/$id ]] || read -r primary name routes <"$state/nodes/$id"
    source=$(source_towards "$primary" "${routes:--}" "$1")
    cert_accepts "$source" "$peer" "$name" || { echo "etcd: rejected connection from $source (member $id) to $1 (tls: $source does not match any of the peer certificate's IP addresses [$peer 127.0.0.1], and its DNS names [$name localhost] do not resolve to it); [wait-control-plane] timed out" >&2 && exit 1; }
  done
}

# The node this member runs on, for the other members' connections to it.
# record_node ID NAME: the node this member now runs on (its primary address, its certificate's DNS
# name, its slot routes), for the other members' connections to it.
record_node() { [[ -n ${ETCD_LOCAL_IP-} ]] || return 0; mkdir -p "$state/nodes" && echo "$ETCD_LOCAL_IP $2 ${NETWORKD_DIR:+$NETWORKD_DIR/10-etcd-slot.network}" >"$state/nodes/$1"; }
config_name() { sed -n 's/^ *name: *//p' "$1" | head -1 | tr -d "'"; }

write_data() { mkdir -p "$ETCD_DATA_DIR/member/wal" && echo "$1" >"$ETCD_DATA_DIR/member/wal/member-id"; }

kubeadm_init() { # kubeadm init --config CONFIG [--skip-phases=...]
  local config=$1 ip id
  ip=$(sed -n 's/^ *advertiseAddress: *//p' "$config" | tr -d "'")
  if [[ ${2-} == --skip-phases=* ]]; then
    id=$(cat "$ETCD_DATA_DIR/member/wal/member-id" 2>/dev/null) || { echo "fakes/etcd.sh: a rejoin without member data would start a new cluster" >&2 && exit 2; }
    [[ -e $state/members/$id ]] || { echo "etcd: the member has been permanently removed from the cluster; [wait-control-plane] timed out" >&2 && exit 1; }
    [[ $(field "$id" 1) == "$ip" ]] || { echo "etcd: member $id's peer URL is not https://$ip:2380" >&2 && exit 1; }
    # The rejoining node's certificate names this node (kubeadm's certs phase), not the member's old one.
    peer_sources_named "$ip" "$(config_name "$config")" "$id"
    record_node "$id" "$(config_name "$config")"
    read -r -a f <"$state/members/$id"
    f[3]=1
    echo "${f[*]}" >"$state/members/$id"
    return
  fi
  (($(ids | wc -l) == 0)) || { echo "fakes/etcd.sh: kubeadm init beside an existing cluster" >&2 && exit 2; }
  printf '%s %s 1 1\n' "$(sed -n 's/^ *name: *//p' "$config" | head -1 | tr -d "'")" "$ip" >"$state/members/ee${ip//./}"
  write_data "ee${ip//./}"
  record_node "ee${ip//./}" "$(config_name "$config")"
}

# kubeadm reset [--force] [--skip-phases=...] as kubeadm 1.3x: its remove-etcd-member phase finds
# the etcd data dir (etcd.local.dataDir of the cluster's ClusterConfiguration when the API answers,
# else the etcd-data hostPath of the etcd manifest; neither: "assuming external etcd") and hands it
# to cleanup-node, which empties it: every entry goes, the directory (a mount point) stays. That
# phase also asks the cluster to remove this node's member (not modelled: the scripts skip it).
# cleanup-node removes kubeadm's kubeconfigs, manifests and certificates as well.
kubeadm_reset() {
  local api=0
  [[ -f $state/kubeadm-config ]] && grep -qs " 1$" "$state"/members/* && api=1
  if [[ " $* " != *remove-etcd-member* ]] && { ((api)) || [[ -f $KUBE_DIR/manifests/etcd.yaml ]]; }; then
    find "$ETCD_DATA_DIR/" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  fi
  rm -f "$KUBE_DIR"/{admin,super-admin,kubelet,bootstrap-kubelet,controller-manager,scheduler}.conf
  find "$KUBE_DIR/manifests/" "$KUBE_DIR/pki/" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null
  return 0
}

case $command in
  kubeadm-reset) kubeadm_reset "$@" ;;
  etcdctl) serialised etcdctl_cmd "$@" ;;
  kubeadm-join) serialised kubeadm_join "$@" ;;
  kubeadm-init) serialised kubeadm_init "$@" ;;
esac
exit
