#!/usr/bin/env bash
# The control-plane node's etcd slot (docs/decisions/etcd-volumes.md), sourced by control-plane.sh:
# its ASG's etcd volume, mounted at the etcd data dir, and its ASG's member address, a persistent
# ENI attached as the second interface. Claimed at every boot (the mount and the address do not
# survive a reboot); a node that had to fall back keeps its member on the root disk for life.
# Devices are found by what EC2 says they are (volume serial, ENI MAC), never by name: Nitro
# instances show /dev/sdf as an NVMe disk and the ENI under a name of the kernel's choosing.
set -euo pipefail
: "${DISK_BY_ID:=/dev/disk/by-id}"
: "${SYS_NET:=/sys/class/net}"
: "${SYSTEMD_DIR:=/etc/systemd/system}"
: "${NETWORKD_DIR:=/etc/systemd/network}"
: "${SLOT_WAIT_ATTEMPTS:=60}"
SLOT_FILE=$STATE_DIR/etcd-slot
# Replies from the member address leave through its own ENI (source/dest check stays on).
SLOT_TABLE=101

# ec2_slot KIND: the slot's "<id> <state> <attached instance> [<address> <mac>]" (volume or address).
ec2_slot() {
  local filter=Name=tag:$ETCD_SLOT_TAG,Values=$SLOT_ASG
  if [[ $1 == volume ]]; then
    aws_call ec2 describe-volumes --region "$REGION" --filters "$filter" --query 'Volumes[].[VolumeId,State,Attachments[0].InstanceId,Attachments[0].State]' --output text
  else
    aws_call ec2 describe-network-interfaces --region "$REGION" --filters "$filter" --query 'NetworkInterfaces[].[NetworkInterfaceId,Status,Attachment.InstanceId,Attachment.Status,PrivateIpAddress,MacAddress]' --output text
  fi
}

# attach KIND: attaches the slot's volume or address to this instance once no other holds it.
# The ASG launches a replacement while the old instance still runs its terminating hook (it hands
# both over on its way out, or EC2 frees them when it is gone): wait for that, SLOT_WAIT_ATTEMPTS
# times. Sets SLOT_ID (and SLOT_IP, SLOT_MAC for the address). Exit 1: give up (fallback).
attach() {
  local kind=$1 attempt id state holder link rest
  for ((attempt = 1; attempt <= SLOT_WAIT_ATTEMPTS; attempt++)); do
    ec2_slot "$kind" || { log "describing the etcd $kind of $SLOT_ASG failed: $AWS_ERR"; sleep "$RETRY_SLEEP_SECONDS"; continue; }
    read -r id state holder link rest <<<"$AWS_OUT"
    [[ -n $id ]] || { log "no etcd $kind tagged $ETCD_SLOT_TAG=$SLOT_ASG"; return 1; }
    # Only one may carry a slot's tag (Terraform makes one per slot): a second one (a copy made by
    # hand, a retired slot's not re-tagged) is named, so the operator can untag it.
    if (($(wc -l <<<"$AWS_OUT") > 1)); then
      log "WARNING: $(wc -l <<<"$AWS_OUT") etcd ${kind}s tagged $ETCD_SLOT_TAG=$SLOT_ASG ($(cut -f1 <<<"$AWS_OUT" | paste -sd ' ' -)): using $id; untag the others"
    fi
    SLOT_ID=$id
    [[ $kind == volume ]] || read -r SLOT_IP SLOT_MAC <<<"$rest"
    if [[ $holder == "$INSTANCE_ID" && $link == attached ]]; then return 0; fi
    if [[ $state == available ]]; then
      log "attaching etcd $kind $id"
      if [[ $kind == volume ]]; then
        aws_call ec2 attach-volume --region "$REGION" --volume-id "$id" --instance-id "$INSTANCE_ID" --device /dev/sdf || log "attach-volume $id failed: $AWS_ERR"
      else
        aws_call ec2 attach-network-interface --region "$REGION" --network-interface-id "$id" --instance-id "$INSTANCE_ID" --device-index 1 || log "attach-network-interface $id failed: $AWS_ERR"
      fi
    elif [[ $holder != "$INSTANCE_ID" ]]; then
      SLOT_HOLDER=$holder
      log "etcd $kind $id is $state, held by ${holder:-nobody} ($attempt/$SLOT_WAIT_ATTEMPTS)"
    fi
    sleep "$RETRY_SLEEP_SECONDS"
  done
  log "etcd $kind ${SLOT_ID:-} still not attached here after $SLOT_WAIT_ATTEMPTS attempts"
  return 1
}

# Mounts the volume at the etcd data dir. Formats it only when it is blank: neither blkid's
# low-level probe (the device itself, not blkid's cache; partition tables too) nor wipefs finds any
# signature. A filesystem that does not mount, a partition table or an LVM member on a reused
# volume is data, never something to overwrite: the mount fails and the node falls back.
mount_volume() {
  local dev=$DISK_BY_ID/nvme-Amazon_Elastic_Block_Store_${1//-/} status=0 signatures uuid
  retry 30 test -e "$dev" || { log "volume $1 attached but $dev never appeared"; return 1; }
  blkid -p -o export "$dev" >/dev/null || status=$?
  if ((status == 2)); then
    signatures=$(wipefs -n "$dev") || { log "wipefs -n $dev failed: not formatting a volume that may hold data"; return 1; }
    [[ -z $signatures ]] || { log "volume $1: wipefs finds signatures blkid does not ($signatures): not formatting it"; return 1; }
    log "volume $1 is blank (no signature at all): formatting it"
    mkfs.ext4 -q -L etcd "$dev" || return 1
  elif ((status != 0)); then
    log "blkid -p $dev failed ($status): not formatting a volume that may hold data"
    return 1
  fi
  mkdir -p "$ETCD_DATA_DIR"
  mountpoint -q "$ETCD_DATA_DIR" || mount "$dev" "$ETCD_DATA_DIR" || { log "volume $1 does not mount: left as it is"; return 1; }
  uuid=$(blkid -p -o value -s UUID "$dev") || return 1
  mount_unit "$uuid"
}

# After a reboot the kubelet starts etcd's static pod on its own, before this script runs: the
# volume must be mounted first, or etcd starts on the empty root-disk directory beneath (a new,
# empty member). The kubelet requires the mount (RequiresMountsFor: Requires= and After= on it), so
# without the volume the kubelet does not start at all; the boot itself still completes.
mount_unit() {
  local unit
  unit=$(systemd-escape --path --suffix=mount "$ETCD_DATA_DIR") || return 1
  mkdir -p "$SYSTEMD_DIR/kubelet.service.d" || return 1
  printf '%s\n' '[Unit]' "Description=etcd data of this control-plane slot" 'Before=kubelet.service' '[Mount]' "What=/dev/disk/by-uuid/$1" "Where=$ETCD_DATA_DIR" 'Type=ext4' 'Options=defaults' >"$SYSTEMD_DIR/$unit" &&
    printf '%s\n' '[Unit]' "RequiresMountsFor=$ETCD_DATA_DIR" >"$SYSTEMD_DIR/kubelet.service.d/20-etcd-volume.conf" &&
    systemctl daemon-reload
}

# Gives the member address to the interface whose MAC EC2 named, with its own route table, so
# traffic from it leaves through it: through the primary ENI its source would not be that ENI's
# and EC2 would drop it. A /32 adds no second route for the subnet to the main table, so
# everything else keeps leaving through the primary interface. Except towards pods: the
# `kubernetes` Service's endpoints are the member addresses, so the API server answers pods from
# it, and those replies must take the main table (local pods, Cilium's routes to remote ones), not
# the ENI into the VPC. Service addresses are never a reply's destination (DNAT is undone on the
# way back), so they need no rule.
# systemd-networkd owns the interfaces (netplan) and drops routing-policy rules it did not make
# (ManageForeignRoutingPolicyRules), and cloud-init gives a secondary ENI its own policy table at
# boot: so address, table and rules are networkd's own, in a file that sorts before netplan's
# (10-netplan-*) and therefore is the one that matches the interface.
# etcd checks a peer's client certificate against the address the connection comes from: its IP
# SANs, else a forward lookup of its DNS names. kubeadm's peer certificate names the slot address
# (IP) and the node name (the EC2 hostname, which the VPC's DNS resolves to the primary address).
# Connections to the other members' slot addresses take the slot address as source (a /32 route
# each with PreferredSource) and need no DNS; connections to an address without such a route (a
# pre-slot member at its primary address, a slot address created after this boot) leave from the
# primary address and are accepted through the VPC's DNS (docs/decisions/etcd-volumes.md).
configure_address() {
  local dev='' path gw n peer peers=() file=$NETWORKD_DIR/10-etcd-slot.network
  # udev renames a new interface (eth1 -> ens6) after it appears, and it may appear only after a
  # settle: its name counts once two lookups on either side of a settle agree (networkctl and
  # sysctl would otherwise get the kernel's old name).
  local prev=-
  for ((n = 0; n < 30; n++)); do
    udevadm settle --timeout=30 || log "udevadm settle did not finish: taking the interface's name as it is"
    dev=''
    for path in "$SYS_NET"/*/address; do [[ -f $path && $(<"$path") == "$SLOT_MAC" ]] && dev=${path%/address} && dev=${dev##*/}; done
    [[ -n $dev && $dev == "$prev" ]] && break
    [[ -n $dev ]] || sleep "$RETRY_SLEEP_SECONDS"
    prev=$dev
  done
  [[ -n $dev && $dev == "$prev" ]] || { log "no interface with MAC $SLOT_MAC (or its name never settled)"; return 1; }
  gw=$(ip -4 route show default | awk '{print $3; exit}')
  [[ -n $gw ]] || { log "no default gateway"; return 1; }
  slot_addresses || { log "listing the etcd member addresses failed: $AWS_ERR"; return 1; }
  for peer in $SLOT_IPS; do [[ $peer == "$SLOT_IP" ]] || peers+=('' '[Route]' "Destination=$peer/32" "Gateway=$gw" 'GatewayOnLink=yes' "PreferredSource=$SLOT_IP"); done
  mkdir -p "$NETWORKD_DIR" &&
    printf '%s\n' '[Match]' "MACAddress=$SLOT_MAC" '' '[Link]' 'RequiredForOnline=no' '' '[Network]' 'DHCP=no' 'LinkLocalAddressing=no' 'IPv6AcceptRA=no' "Address=$SLOT_IP/32" '' \
      '[Route]' "Gateway=$gw" 'GatewayOnLink=yes' "Table=$SLOT_TABLE" '' \
      '[RoutingPolicyRule]' "From=$SLOT_IP/32" "To=$POD_CIDR" 'Table=main' "Priority=$((SLOT_TABLE - 1))" '' \
      '[RoutingPolicyRule]' "From=$SLOT_IP/32" "Table=$SLOT_TABLE" "Priority=$SLOT_TABLE" "${peers[@]}" >"$file.new" &&
    mv "$file.new" "$file" &&
    networkctl reload &&
    networkctl reconfigure "$dev" &&
    sysctl -qw "net.ipv4.conf.$dev.rp_filter=2"
}

# Sets ETCD_IP (the member's address) and SLOT_IP (the slot's, also after a fallback, so its old
# member can go). Fallback = today's path: a fresh member at the primary address, data on the root disk.
claim_slot() {
  local volume eni claimed=''
  ETCD_IP=$NODE_IP SLOT_IP='' SLOT_ENI=''
  export ETCD_IP
  if [[ -f $SLOT_FILE ]]; then
    read -r volume SLOT_IP eni SLOT_MAC <"$SLOT_FILE"
    [[ $volume != none ]] || { log "fell back earlier: etcd stays on the root disk" && mkdir -p "$ETCD_DATA_DIR"; return 0; }
    claimed="volume $volume, address $SLOT_IP"
    reclaim_slot "$volume" "$eni" && return 0
  fi
  aws_call autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids "$INSTANCE_ID" --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text || die "cannot tell this instance's ASG: $AWS_ERR"
  SLOT_ASG=$AWS_OUT
  if attach address && eni=$SLOT_ID && SLOT_ENI=$eni && configure_address && attach volume && volume=$SLOT_ID && mount_volume "$volume"; then
    ETCD_IP=$SLOT_IP
    echo "$volume $SLOT_IP $eni $SLOT_MAC" >"$SLOT_FILE"
    log "etcd slot of $SLOT_ASG: volume $volume at $ETCD_DATA_DIR, member address $ETCD_IP"
    return 0
  fi
  SLOT_IP=${SLOT_IP:-}
  # A slot claimed at an earlier boot never turns into a fallback: its mount unit and the kubelet's
  # RequiresMountsFor stay, control-plane.done skips the join, so the kubelet would never start and
  # the member would stay listed. The unit retries until the volume and address are back.
  [[ -z $claimed ]] || die "the etcd slot claimed at an earlier boot ($claimed) cannot be taken back: not falling back (retrying)"
  drop_address
  # The slot's member is removed as this node's own only when what held the slot is gone or leaving:
  # a holder that stays (a stuck hook gone back InService, a rescue instance) may run that member.
  if [[ -n $SLOT_IP && -n ${SLOT_HOLDER:-} && $SLOT_HOLDER != None ]] && holder_stays "$SLOT_HOLDER"; then
    log "the slot is held by $SLOT_HOLDER, which stays: its member at $SLOT_IP is kept"
    SLOT_IP=''
  fi
  # etcd's hostPath is a Directory that must exist (kubeadm patch etcd+json.yaml): here, on the root disk.
  mkdir -p "$ETCD_DATA_DIR"
  log "FALLBACK: no usable etcd slot for ${SLOT_ASG:-this instance}: a fresh member at $NODE_IP with its data on the root disk (docs/runbooks/control-plane-replacement.md)"
  [[ $SLOT_ASG == None ]] || echo "none $SLOT_IP" >"$SLOT_FILE"
}

# reclaim_slot VOLUME ENI: a reboot of the node that claimed the slot (SLOT_FILE, on its root disk)
# while the volume's device and the ENI's interface are still here: they are attached to this
# instance, so no EC2 call is needed, and none may decide anything (an EC2 outage must never turn a
# claimed slot into a fallback). The peer routes are refreshed when EC2 answers; otherwise networkd
# keeps the file it applied at boot.
reclaim_slot() {
  local path mac=''
  [[ -n ${SLOT_MAC:-} && -e $DISK_BY_ID/nvme-Amazon_Elastic_Block_Store_${1//-/} ]] || return 1
  for path in "$SYS_NET"/*/address; do [[ -f $path && $(<"$path") == "$SLOT_MAC" ]] && mac=$SLOT_MAC; done
  [[ -n $mac ]] || return 1
  SLOT_ENI=$2
  configure_address || [[ -f $NETWORKD_DIR/10-etcd-slot.network ]] || return 1
  mount_volume "$1" || return 1
  ETCD_IP=$SLOT_IP
  log "etcd slot claimed at an earlier boot, its devices still attached: volume $1 at $ETCD_DATA_DIR, member address $ETCD_IP"
}

# A fallback after the address was configured (the volume failed) undoes it: its routes would make
# the member's peer connections leave from the slot address, which the fallback member's peer
# certificate (the primary address) does not name, so the other members would refuse it for good.
# The ENI goes back to EC2 for the slot's next node.
drop_address() {
  local file=$NETWORKD_DIR/10-etcd-slot.network path
  [[ -n $SLOT_ENI ]] || return 0
  log "undoing the slot address $SLOT_IP: the fallback member speaks from $NODE_IP"
  if [[ -f $file ]]; then rm -f "$file" && { networkctl reload || log "networkctl reload failed"; }; fi
  for path in "$SYS_NET"/*/address; do
    [[ -f $path && $(<"$path") == "${SLOT_MAC:-}" ]] || continue
    path=${path%/address}
    ip -4 address flush dev "${path##*/}" || log "flushing the addresses of ${path##*/} failed"
  done
  detach_eni "$SLOT_ENI"
}

# detach_eni ENI: hands the member address back to EC2.
detach_eni() {
  if ! aws_call ec2 describe-network-interfaces --region "$REGION" --network-interface-ids "$1" --query 'NetworkInterfaces[0].Attachment.AttachmentId' --output text ||
    ! aws_call ec2 detach-network-interface --region "$REGION" --attachment-id "$AWS_OUT"; then
    log "detaching $1 failed: $AWS_ERR"
  fi
}

# Succeeds unless EC2 says the instance is gone or its ASG is terminating it; an unknown answer
# counts as staying (removing a live member is the worse mistake).
holder_stays() {
  ! instance_gone "$1" || return 1
  aws_call autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids "$1" --query "AutoScalingInstances[?starts_with(LifecycleState,'Terminating')].InstanceId" --output text || return 0
  [[ $AWS_OUT != *"$1"* ]]
}

# Prints 0 when the slot's member is listed by the other members, 1 when they answer without it
# (removed: the data is stale), 2 when no one answers (every member down: only rejoining helps).
slot_member_listed() {
  local ip peers=()
  for ip in $SLOT_IPS; do [[ $ip != "$ETCD_IP" ]] && peers+=("https://$ip:2379"); done
  ((${#peers[@]})) || { echo 2 && return; }
  MEMBERS=$(etcdctl --endpoints="$(IFS=,; echo "${peers[*]}")" member list -w simple) || { echo 2 && return; }
  [[ $MEMBERS == *"https://$ETCD_IP:2380"* ]] && echo 0 || echo 1
}

# SLOT_IPS: every slot's member address, "<asg>=<ip>" in SLOTS.
slot_addresses() {
  aws_call ec2 describe-network-interfaces --region "$REGION" --filters "Name=tag:$ETCD_CLUSTER_TAG,Values=$CLUSTER_NAME" --query "NetworkInterfaces[].[TagSet[?Key=='$ETCD_SLOT_TAG']|[0].Value,PrivateIpAddress]" --output text || return
  SLOTS=$(tr '\t' '=' <<<"$AWS_OUT")
  SLOT_IPS=$(cut -d= -f2 <<<"$SLOTS")
}

# At termination (ExecStop): hands the volume and address over, so the replacement need not wait
# for this instance to be gone. The member stays: the replacement rejoins as it. A volume still
# mounted (something holds it open) is left for EC2 to free once the instance is gone; the address
# goes in any case (its etcd has stopped, nothing may answer from it any more).
release_slot() {
  local volume ip eni
  read -r volume ip eni _ <"$SLOT_FILE"
  if umount "$ETCD_DATA_DIR"; then
    aws_call ec2 detach-volume --region "$REGION" --volume-id "$volume" || log "detach-volume $volume failed: $AWS_ERR"
  else
    log "cannot unmount $ETCD_DATA_DIR: EC2 frees volume $volume once this instance is gone"
  fi
  detach_eni "$eni"
  log "handed over etcd volume $volume and address $ip: member kept for the replacement"
}
