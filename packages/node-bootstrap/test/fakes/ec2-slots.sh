#!/usr/bin/env bash
# Sourced by the harness fakes of aws, blkid, mkfs.ext4, mount, umount, mountpoint and ip (etcd slot
# tests): the account's etcd volumes and member addresses (ENIs) under $AWS_STATE, and what the
# node sees of them. $FAKE_INSTANCE is the calling instance.
#   volumes/<id>  "<State> <attached instance|-> <Attachment State|-> <slot> <frees after>"
#   enis/<id>     "<Status> <attached instance|-> <Attachment Status|-> <slot> <ip> <mac> <frees after> <cluster>"
#   disks/<id>/   the volume's content: fstype (a superblock signature: ext4, LVM2_member; absent =
#                 none), pttype (a partition table: gpt, dos), corrupt (mount fails), fs/
# blkid as util-linux's: without -p it probes superblocks only (partition tables are not filesystems,
# and it answers from its cache); -p probes the device for both. Exit 2: nothing found (or not the
# tag -s asked for). wipefs -n lists every signature, one row each, and nothing when there is none.
# As EC2 behaves: attaching is asynchronous (AttachVolume answers with the volume `in-use` and its
# attachment `attaching`; a later Describe shows `attached`, and only then does the device appear,
# on Nitro as an NVMe disk whose serial is the volume id: /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol…,
# and the ENI as an interface with its MAC); a volume or ENI attached to an instance cannot be
# attached to another (VolumeInUse, InvalidParameterValue "in use"); an instance being terminated
# keeps both until it is gone ("frees after" N Describes; -1 never), then EC2 detaches them
# (neither is deleted with it). Filters and --query expressions other than the scripts' fail loudly.
set -uo pipefail
state=$AWS_STATE
me=${FAKE_INSTANCE:?}
mkdir -p "$state/volumes" "$state/enis" "$state/disks" "$DISK_BY_ID" "$SYS_NET"
fail() { echo "An error occurred ($1) when calling the $2 operation: $3" >&2; exit 254; }
unsupported() { echo "fakes/ec2-slots.sh: $* is not modelled" >&2; exit 2; }
device() { echo "$DISK_BY_ID/nvme-Amazon_Elastic_Block_Store_${1//-/}"; }

# advance <kind> <id>: what time does to one resource between two Describes.
advance() {
  local file=$state/$1/$2 f
  read -r -a f <"$file"
  if [[ ${f[2]} == attaching ]]; then
    f[2]=attached
    if [[ $1 == volumes ]]; then echo "$2" >"$(device "$2")"; else mkdir -p "$SYS_NET/ens6" && echo "${f[5]}" >"$SYS_NET/ens6/address"; fi
  elif [[ ${f[2]} == detaching ]]; then
    f[0]=available f[1]=- f[2]=-
  elif [[ ${f[1]} != - && ${f[1]} != "$me" ]]; then
    local frees=${f[4]}
    [[ $1 == enis ]] && frees=${f[6]}
    if ((frees > 0)); then frees=$((frees - 1)); fi
    if ((frees == 0)); then f[0]=available f[1]=- f[2]=-; fi
    if [[ $1 == enis ]]; then f[6]=$frees; else f[4]=$frees; fi
  fi
  echo "${f[*]}" >"$file"
}

ec2() {
  local op=$1 filter='' query='' volume='' eni='' instance='' attachment='' ids=''
  shift
  while (($#)); do
    case $1 in
      --filters) filter=$2; shift 2 ;;
      --query) query=$2; shift 2 ;;
      --volume-id) volume=$2; shift 2 ;;
      --network-interface-id) eni=$2; shift 2 ;;
      --network-interface-ids) ids=$2; shift 2 ;;
      --instance-id) instance=$2; shift 2 ;;
      --attachment-id) attachment=$2; shift 2 ;;
      *) shift ;;
    esac
  done
  local key=${filter#Name=tag:} value=${filter#*,Values=} file id f
  key=${key%%,*}
  case $op in
    describe-volumes)
      [[ $key == "$SLOT_TAG" && $query == 'Volumes[].[VolumeId,State,Attachments[0].InstanceId,Attachments[0].State]' ]] || unsupported "describe-volumes $filter $query"
      for file in "$state"/volumes/*; do
        [[ -f $file ]] || continue
        id=${file##*/}
        read -r -a f <"$file"
        [[ ${f[3]} == "$value" ]] || continue
        printf '%s\t%s\t%s\t%s\n' "$id" "${f[0]}" "${f[1]/#-/None}" "${f[2]/#-/None}"
        advance volumes "$id"
      done
      ;;
    attach-volume)
      file=$state/volumes/$volume
      [[ -f $file ]] || fail InvalidVolume.NotFound AttachVolume "The volume '$volume' does not exist."
      read -r -a f <"$file"
      [[ ${f[0]} == available ]] || fail VolumeInUse AttachVolume "$volume is already attached to an instance"
      f[0]=in-use f[1]=$instance f[2]=attaching
      echo "${f[*]}" >"$file"
      echo '{"State": "attaching"}'
      ;;
    detach-volume)
      file=$state/volumes/$volume
      read -r -a f <"$file"
      [[ ${f[0]} == in-use ]] || fail IncorrectState DetachVolume "Volume '$volume' is in the 'available' state."
      f[2]=detaching
      rm -f "$(device "$volume")"
      echo "${f[*]}" >"$file"
      ;;
    describe-network-interfaces)
      if [[ -n $ids ]]; then
        [[ $query == 'NetworkInterfaces[0].Attachment.AttachmentId' ]] || unsupported "describe-network-interfaces $query"
        read -r -a f <"$state/enis/$ids"
        [[ ${f[1]} == - ]] && echo None || echo "eni-attach-${ids#eni-}"
      elif [[ $key == "$SLOT_TAG" && $query == 'NetworkInterfaces[].[NetworkInterfaceId,Status,Attachment.InstanceId,Attachment.Status,PrivateIpAddress,MacAddress]' ]]; then
        for file in "$state"/enis/*; do
          [[ -f $file ]] || continue
          id=${file##*/}
          read -r -a f <"$file"
          [[ ${f[3]} == "$value" ]] || continue
          printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "${f[0]}" "${f[1]/#-/None}" "${f[2]/#-/None}" "${f[4]}" "${f[5]}"
          advance enis "$id"
        done
      elif [[ $key == "$CLUSTER_SLOT_TAG" && $query == "NetworkInterfaces[].[TagSet[?Key=='$SLOT_TAG']|[0].Value,PrivateIpAddress]" ]]; then
        for file in "$state"/enis/*; do
          [[ -f $file ]] || continue
          read -r -a f <"$file"
          [[ ${f[7]} == "$value" ]] && printf '%s\t%s\n' "${f[3]}" "${f[4]}"
        done
      else
        unsupported "describe-network-interfaces $filter $query"
      fi
      ;;
    attach-network-interface)
      file=$state/enis/$eni
      read -r -a f <"$file"
      [[ ${f[0]} == available ]] || fail InvalidParameterValue AttachNetworkInterface "Interface: [$eni] in use."
      f[0]=in-use f[1]=$instance f[2]=attaching
      echo "${f[*]}" >"$file"
      echo "{\"AttachmentId\": \"eni-attach-${eni#eni-}\"}"
      ;;
    detach-network-interface)
      file=$state/enis/eni-${attachment#eni-attach-}
      read -r -a f <"$file"
      f[2]=detaching
      rm -rf "$SYS_NET/ens6"
      echo "${f[*]}" >"$file"
      ;;
    *) unsupported "ec2 $op" ;;
  esac
}

disk_of() { local vol; vol=$(cat "$1" 2>/dev/null) || return 1; echo "$state/disks/$vol"; }

case $1 in
  ec2) shift && ec2 "$@" ;;
  blkid) # blkid [-p] -o value|export [-s TAG] DEVICE
    shift
    probe=0 format=full tag='' tags=()
    while (($# > 1)); do
      case $1 in
        -p) probe=1; shift ;;
        -o) format=$2; shift 2 ;;
        -s) tag=$2; shift 2 ;;
        *) unsupported "blkid $*" ;;
      esac
    done
    d=$(disk_of "$1") || exit 2
    if [[ -f $d/fstype ]]; then tags+=("TYPE=$(<"$d/fstype")"); [[ $(<"$d/fstype") != ext4 ]] || tags+=("UUID=uuid-${d##*/}"); fi
    ((probe)) && [[ -f $d/pttype ]] && tags+=("PTTYPE=$(<"$d/pttype")")
    [[ -z $tag ]] || { t=$(printf '%s\n' "${tags[@]}" | grep "^$tag=") && tags=("$t") || tags=(); }
    ((${#tags[@]})) || exit 2
    case $format in
      value) printf '%s\n' "${tags[@]#*=}" ;;
      export) printf 'DEVNAME=%s\n' "$1" && printf '%s\n' "${tags[@]}" ;;
      *) unsupported "blkid -o $format" ;;
    esac
    ;;
  wipefs) # wipefs -n DEVICE: lists the signatures, writes nothing
    [[ $2 == -n ]] || unsupported "wipefs $*"
    d=$(disk_of "$3") || { echo "wipefs: error: $3: probing initialization failed: No such file or directory" >&2; exit 1; }
    rows=()
    [[ ! -f $d/fstype ]] || rows+=("$3 0x438 $(<"$d/fstype")")
    [[ ! -f $d/pttype ]] || rows+=("$3 0x200 $(<"$d/pttype")")
    ((${#rows[@]} == 0)) || printf '%s\n' 'DEVICE OFFSET TYPE' "${rows[@]}"
    ;;
  mkfs.ext4) # mkfs.ext4 -q -L etcd DEVICE: a new, empty filesystem (whatever was there is gone)
    d=$(disk_of "$5") || { echo "mkfs.ext4: No such file or directory while trying to determine filesystem size" >&2; exit 1; }
    rm -rf "$d/fs" "$d/pttype" && mkdir -p "$d/fs/lost+found" && echo ext4 >"$d/fstype"
    echo "${d##*/}" >>"$state/formatted.log"
    ;;
  mount) # mount DEVICE DIR: DIR shows the volume's filesystem from now on
    d=$(disk_of "$2") || exit 32
    [[ -f $d/fstype && $(<"$d/fstype") == ext4 && ! -f $d/corrupt ]] || { echo "mount: $3: wrong fs type, bad option, bad superblock on $2" >&2; exit 32; }
    rmdir "$3" 2>/dev/null || { echo "fakes/ec2-slots.sh: mount over a non-empty $3" >&2; exit 2; }
    mkdir -p "$d/fs" && ln -s "$d/fs" "$3"
    ;;
  mountpoint) [[ -L $3 ]] ;;
  umount) [[ -L $2 ]] && rm "$2" && mkdir "$2" ;;
  ip)
    shift
    case "$*" in
      '-4 route show default') echo 'default via 10.20.1.1 dev ens5 proto dhcp src 10.20.1.20 metric 100' ;;
      'rule show') cat "$state/ip-rules" 2>/dev/null ;;
      'rule add '*) echo "$6: $*" >>"$state/ip-rules" ;;
    esac
    ;;
esac
