#!/usr/bin/env bash
# Control-plane node: exactly one node initialises the cluster (an SSM parameter created
# without --overwrite is the lock); every other one, now or months later, removes etcd
# members whose instances are gone and joins with the join material kept in SSM. Each then
# installs what is missing of the core add-ons (install-addons.sh).
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
# shellcheck source=etcd-slot.sh
. "$BOOTSTRAP_LIB/etcd-slot.sh"
LOG_TAG=node-bootstrap-control-plane
load_env
: "${LOCK_WAIT_ATTEMPTS:=180}"
PKI=$KUBE_DIR/pki
export ETCDCTL_CACERT=$PKI/etcd/ca.crt ETCDCTL_CERT=$PKI/etcd/healthcheck-client.crt ETCDCTL_KEY=$PKI/etcd/healthcheck-client.key

# Prints init or join once this node knows what to do. Join material counts only once a
# node has published it: the parameters do not exist before (ParameterNotFound).
decide_role() {
  local attempt holder published
  for ((attempt = 1; attempt <= LOCK_WAIT_ATTEMPTS; attempt++)); do
    if aws ssm put-parameter --region "$REGION" --name "$SSM_INIT_LOCK" --value "$INSTANCE_ID" --type String >/dev/null 2>&1; then
      log "took the init lock $SSM_INIT_LOCK"
      echo init && return
    fi
    holder=$(ssm_get "$SSM_INIT_LOCK") || die "init lock $SSM_INIT_LOCK exists but cannot be read"
    if [[ $holder == "$INSTANCE_ID" ]]; then
      log "this instance holds the init lock (re-run)"
      echo init && return
    fi
    published=0
    join_value "$SSM_JOIN_TOKEN" >/dev/null || published=$?
    # While a restore request stands a token is the lost cluster's: a node of it read no request
    # just before etcd-restore.sh request and wrote its material back after. Counted as not
    # published, so a dead restorer is taken over instead of every waiter joining into
    # refuse_join_during_restore for ever. Unreadable: unknown, wait.
    ((published != 0)) || published=$(token_counts)
    if ((published == 0)); then
      log "cluster initialised by $holder; joining"
      echo join && return
    fi
    # Take over only when SSM says "not published" and EC2 says the holder is gone: an
    # error on either side means "unknown", and a second initialiser would split the cluster.
    if ((published == 3)) && instance_gone "$holder"; then
      # Only one waiter may take over from a dead initialiser: a second lock per holder.
      if aws ssm put-parameter --region "$REGION" --name "$SSM_INIT_LOCK/takeover-$holder" --value "$INSTANCE_ID" --type String >/dev/null 2>&1; then
        aws ssm put-parameter --region "$REGION" --name "$SSM_INIT_LOCK" --value "$INSTANCE_ID" --type String --overwrite >/dev/null ||
          die "could not take over the init lock from $holder"
        log "initialiser $holder died before publishing join material; took over"
        echo init && return
      fi
    fi
    log "waiting for $holder to publish join material ($attempt/$LOCK_WAIT_ATTEMPTS)"
    sleep "$RETRY_SLEEP_SECONDS"
  done
  die "no join material after $LOCK_WAIT_ATTEMPTS attempts (init lock held by $holder)"
}

# Prints 0 (no restore requested: a token counts), 3 (requested: it does not) or 1 (unknown).
token_counts() {
  local value status=0
  value=$(ssm_get "$SSM_RESTORE_FROM") || status=$?
  case $status in
    0) if [[ $value == None ]]; then echo 0; else log "restore of $value pending: the published token is the lost cluster's"; echo 3; fi ;;
    3) echo 0 ;;
    *) echo 1 ;;
  esac
}

# Succeeds only when EC2 says the instance no longer exists (terminated, or unknown id).
# Throttling, AccessDenied or no network prove nothing: the holder may be alive.
instance_gone() {
  local state
  if ! aws_call ec2 describe-instances --region "$REGION" --instance-ids "$1" --query 'Reservations[].Instances[].State.Name' --output text; then
    [[ $AWS_ERR == *InvalidInstanceID.NotFound* ]] && return 0
    log "cannot tell whether $1 still exists ($AWS_ERR): waiting"
    return 1
  fi
  state=$AWS_OUT
  [[ -z $state || $state == None || $state == terminated || $state == shutting-down ]]
}

# Private IPs of control-plane instances that stay (stopped ones may come back). One the ASG is
# terminating (Terminating, :Wait, :Proceed) still runs but is leaving: its member must go, or the
# replacement joins beside it and one more loss stops etcd (docs/runbooks/node-termination.md).
# A slot's member address (SLOTS) counts as live while its ASG has an instance that stays: that
# instance rejoins as the member, even before it has attached the address. A slot whose ASG has
# none (an AZ lost for good) loses its member like any gone instance.
live_control_plane_ips() {
  local rows leaving id ip asg
  rows=$(aws ec2 describe-instances --region "$REGION" \
    --filters "Name=tag:aws:autoscaling:groupName,Values=${CONTROL_PLANE_ASGS// /,}" "Name=instance-state-name,Values=pending,running,stopping,stopped" \
    --query "Reservations[].Instances[].[InstanceId,PrivateIpAddress,Tags[?Key=='aws:autoscaling:groupName']|[0].Value]" --output text) || return
  [[ -n $rows ]] || return 0
  # shellcheck disable=SC2046 # one argument per instance id
  leaving=$(aws autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids $(cut -f1 <<<"$rows") \
    --query "AutoScalingInstances[?starts_with(LifecycleState,'Terminating')].InstanceId" --output text) || return
  while read -r id ip asg; do
    [[ $leaving != *"$id"* ]] || continue
    echo "$ip"
    sed -n "s/^$asg=//p" <<<"$SLOTS"
  done <<<"$rows"
}

# The NLB registers an instance only once its launching hook completes: with no handler yet (new
# cluster, restore, every member rejoining at once) kubeadm init through it would wait out the
# hook. Only its own ASG's call can succeed; absent or done hooks are fine.
complete_launch_hook() {
  step complete-launch-hook
  for g in $CONTROL_PLANE_ASGS; do aws autoscaling complete-lifecycle-action --region "$REGION" --lifecycle-hook-name "$LAUNCH_HOOK" --auto-scaling-group-name "$g" --instance-id "$INSTANCE_ID" --lifecycle-action-result CONTINUE &>/dev/null || :; done
}

# reset_unfinished init|join: kubeadm reset of an earlier attempt, without its remove-etcd-member
# phase. That phase hands etcd's data dir (the cluster's ClusterConfiguration, else the etcd
# manifest) to cleanup-node, which empties it: every member set aside there (member.unfinished-*,
# member.stale-*, member.removed-*) would go. A join removes its own old member itself (remove_members).
reset_unfinished() {
  step "reset-unfinished-$1"
  kubeadm reset --force --skip-phases=remove-etcd-member || die "kubeadm reset of an unfinished $1 failed"
}

# PREFLIGHT: kubeadm's check for an empty etcd data dir (DirAvailable--var-lib-etcd) ignored when it
# is not: a mounted volume never is (lost+found, the kept CA), nor a dir holding set-aside members.
# By then member/ itself was set aside, wiped or is the one this node rejoins as.
data_dir_preflight() {
  PREFLIGHT=()
  [[ -z $(ls -A "$ETCD_DATA_DIR/" 2>/dev/null) ]] || PREFLIGHT=(--ignore-preflight-errors=DirAvailable--var-lib-etcd)
}

# kubeadm writes admin.conf early: only this marker, written once `kubeadm init` succeeded,
# proves the init finished. It holds the snapshot the init restored, if any.
INIT_DONE=$STATE_DIR/kubeadm-init.done

init_cluster() {
  local key restore_key status=0
  if [[ -f $INIT_DONE ]]; then
    log "kubeadm init already done on this node"
    restore_key=$(<"$INIT_DONE")
  else
    if [[ -e $ETCD_DATA_DIR/member ]]; then
      # Never delete etcd data (kubeadm reset would): an unfinished attempt's data is set aside.
      mv "$ETCD_DATA_DIR/member" "$ETCD_DATA_DIR/member.unfinished-$(now_epoch)" || die "setting aside $ETCD_DATA_DIR/member failed"
    fi
    if [[ -f $KUBE_DIR/admin.conf || -f $KUBE_DIR/kubelet.conf || -f $KUBE_DIR/manifests/kube-apiserver.yaml || -f $KUBE_DIR/manifests/etcd.yaml ]]; then reset_unfinished init; fi
    step read-restore-request
    restore_key=$(ssm_get "$SSM_RESTORE_FROM") || status=$?
    case $status in
      0) [[ $restore_key != None ]] || restore_key= ;;
      3) restore_key= ;;
      *) die "cannot read $SSM_RESTORE_FROM: refusing to guess whether a restore was requested" ;;
    esac
    key=$(kubeadm certs certificate-key) || die "kubeadm certs certificate-key failed"
    CERTIFICATE_KEY=$key
    export CERTIFICATE_KEY
    render_template "$BOOTSTRAP_ETC/kubeadm-init.yaml.tmpl" "$STATE_DIR/kubeadm-init.yaml" NODE_NAME NODE_IP ETCD_IP INSTANCE_ID AVAILABILITY_ZONE CERTIFICATE_KEY
    data_dir_preflight
    local extra=("${PREFLIGHT[@]}")
    if [[ -n $restore_key ]]; then
      step etcd-restore
      run_sibling etcd-restore.sh apply "$restore_key" || die "restore of $restore_key failed"
      extra=(--ignore-preflight-errors=DirAvailable--var-lib-etcd)
    fi
    # A new etcd cluster (first init or restore) is a new generation: a slot volume holding another
    # one is wiped where it rejoins (can_rejoin), so the old members never come back beside this one.
    step etcd-generation
    aws_call ssm put-parameter --region "$REGION" --name "$SSM_ETCD_GENERATION" --value "$(now_epoch)-$INSTANCE_ID" --type String --overwrite || die "writing $SSM_ETCD_GENERATION failed: $AWS_ERR"
    # The API server starts with the verification key bundle of the rotation state in SSM (a node
    # initialising mid-rotation too): sa.key first (kubeadm keeps an existing one, e.g. a restore's).
    step service-account-keys
    kubeadm init phase certs sa --config "$STATE_DIR/kubeadm-init.yaml" || die "kubeadm init phase certs sa failed"
    run_sibling service-account-issuer.sh key-set || die "building the service-account key set failed"
    run_sibling service-account-key-rotation.sh started || die "recording the started key set failed"
    complete_launch_hook
    step kubeadm-init
    # Without the skip flags kubeadm prints the certificate key and the join commands (token
    # included) to stdout, i.e. into the journal: the material lives in SSM only.
    kubeadm init --config "$STATE_DIR/kubeadm-init.yaml" --upload-certs --skip-token-print --skip-certificate-key-print "${extra[@]}" || die "kubeadm init failed"
    printf '%s\n' "$restore_key" >"$INIT_DONE"
  fi
  if [[ -n $restore_key ]]; then
    step clear-restore-request
    if ! aws_call ssm delete-parameter --region "$REGION" --name "$SSM_RESTORE_FROM" && [[ $AWS_ERR != *ParameterNotFound* ]]; then
      die "could not clear $SSM_RESTORE_FROM: $AWS_ERR"
    fi
    # Cleared once: a re-run must not remove a restore request made later.
    printf '\n' >"$INIT_DONE"
  fi
  step publish-join-material
  run_sibling join-material.sh publish || die "publishing join material failed"
}

# Sets PEERS (the etcd client endpoints of the other live control-plane instances) and MEMBERS
# (`member list` through them): this node's own etcd may be down (a join, or the kubelet's
# graceful shutdown having stopped the static pod).
peer_members() {
  local ip peers=() live
  slot_addresses || die "listing the etcd member addresses failed: $AWS_ERR"
  live=$(live_control_plane_ips) || die "listing control-plane instances failed"
  LIVE=" $(tr '\t\n' '  ' <<<"$live") "
  for ip in $LIVE; do [[ $ip != "$NODE_IP" && $ip != "$ETCD_IP" ]] && peers+=("https://$ip:2379"); done
  ((${#peers[@]} > 0)) || die "no live control-plane peer (ASGs: $CONTROL_PLANE_ASGS)"
  PEERS=$(IFS=,; echo "${peers[*]}")
  MEMBERS=$(etcdctl --endpoints="$PEERS" member list -w simple) || die "etcdctl member list via $PEERS failed"
}

# remove_members ALL: removes this node's member and, with ALL, every member whose peer IP belongs
# to no live control-plane instance (gone, or being terminated by its ASG), so a replacement never
# grows the membership: quorum stays floor(n/2)+1 of the nodes that stay. Removing a running
# member is safe while the running members without it are a quorum; etcd checks that itself
# (--strict-reconfig-check, kubeadm keeps its default) and refuses otherwise: the unit retries.
remove_members() {
  local id status name peer_url rest ip
  peer_members
  while IFS=', ' read -r id status name peer_url rest; do
    [[ -n $id ]] || continue
    ip=${peer_url#https://}
    ip=${ip%:*}
    if [[ $ip == "$NODE_IP" || $ip == "$ETCD_IP" || $ip == "${SLOT_IP:-$NODE_IP}" || $1 == all && $LIVE != *" $ip "* ]]; then
      log "removing etcd member $id ($name, $ip, $status)"
      etcdctl --endpoints="$PEERS" member remove "$id" >/dev/null || die "etcdctl member remove $id failed"
    fi
  done <<<"$MEMBERS"
}

# node-bootstrap.service's ExecStop runs at every shutdown, reboots included: only when the ASG is
# terminating this instance (IMDS target state Terminated) does it leave. On its slot it hands the
# volume and address over and keeps the member; after a fallback it removes its own member. The
# kubelet's graceful shutdown has already stopped the local etcd: the other members remove it.
leave_etcd() {
  [[ $(imds autoscaling/target-lifecycle-state) == Terminated ]] || { log "not terminating: member kept"; return 0; }
  if [[ -f $SLOT_FILE && $(<"$SLOT_FILE") != none* ]]; then release_slot; return; fi
  NODE_IP=$(imds local-ipv4) ETCD_IP=$NODE_IP
  remove_members self
}

# The shared CA files kept on the etcd volume, refreshed at every boot from what this node runs:
# only for a rejoin while no other member answers (every member lost at once: no API to download
# them from). Whenever the others answer, the cluster's current ones are downloaded instead (a CA
# or service-account key rotated while the slot was away must not come back from the volume).
SLOT_PKI=(ca.crt ca.key sa.key sa.pub front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key)
save_pki() {
  [[ $ETCD_IP != "$NODE_IP" ]] || return 0
  if ! (mkdir -p "$ETCD_DATA_DIR/pki" && cd "$KUBE_DIR/pki" && cp --parents "${SLOT_PKI[@]}" "$ETCD_DATA_DIR/pki/"); then die "keeping the cluster CA on the etcd volume failed"; fi
  local generation
  generation=$(cluster_generation) || exit 1
  printf '%s\n' "$generation" >"$ETCD_DATA_DIR/generation" || die "writing the generation on the etcd volume failed"
}

# The etcd cluster's generation in SSM; empty for a cluster initialised before generations existed.
cluster_generation() {
  local value status=0
  value=$(ssm_get "$SSM_ETCD_GENERATION") || status=$?
  case $status in
    0) [[ $value == None ]] || printf '%s' "$value" ;;
    3) ;;
    *) die "cannot read $SSM_ETCD_GENERATION: refusing to guess which etcd cluster the volume belongs to" ;;
  esac
}

# A volume of another generation (a restore since it was written) holds a member of a cluster that
# no longer exists: its WAL would bring that member back beside the restored one (and two such
# members would make a quorum of their own). Its contents go; the names are logged first.
wipe_other_generation() {
  local ours theirs=''
  ours=$(cluster_generation) || exit 1
  [[ ! -f $ETCD_DATA_DIR/generation ]] || theirs=$(<"$ETCD_DATA_DIR/generation")
  [[ $theirs != "$ours" ]] || return 1
  log "etcd volume holds generation '${theirs:-none}', the cluster is at '$ours' (restored since): wiping $ETCD_DATA_DIR ($(find "$ETCD_DATA_DIR/" -mindepth 1 -maxdepth 1 -printf '%f ')) and joining as a fresh member"
  find "$ETCD_DATA_DIR/" -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf {} + || die "wiping $ETCD_DATA_DIR failed"
}

# render_join_config: the control-plane JoinConfiguration with the published join material.
render_join_config() {
  step read-join-material
  JOIN_TOKEN=$(join_value "$SSM_JOIN_TOKEN") || die "no published join token in $SSM_JOIN_TOKEN"
  CA_CERT_HASH=$(join_value "$SSM_CA_CERT_HASH") || die "no published CA hash in $SSM_CA_CERT_HASH"
  CERTIFICATE_KEY=$(join_value "$SSM_CERTIFICATE_KEY") || die "no published certificate key in $SSM_CERTIFICATE_KEY"
  export JOIN_TOKEN CA_CERT_HASH CERTIFICATE_KEY
  render_template "$BOOTSTRAP_ETC/kubeadm-join.yaml.tmpl" "$STATE_DIR/kubeadm-join.yaml" NODE_NAME NODE_IP ETCD_IP INSTANCE_ID AVAILABILITY_ZONE JOIN_TOKEN CA_CERT_HASH CERTIFICATE_KEY
}

# The volume holds this slot's member: etcd restarts from its data, as the same member (same
# address), no member remove or add. kubeadm join cannot do that (its etcd phase adds a member and
# fails on an existing peer URL): kubeadm init's phases build this node around the cluster's CA
# instead, without the phases that publish cluster-wide state.
rejoin_cluster() {
  step rejoin-etcd-member
  log "etcd volume holds the member at $ETCD_IP: rejoining with its data and membership"
  # A retry (all members lost: quorum came back after kubeadm's wait ran out) finds its own kubelet
  # and static pods running, which preflight refuses; the phases themselves redo what exists.
  # Never kubeadm reset here: it empties the etcd data dir.
  local skip=upload-config,upload-certs,bootstrap-token,addon,show-join-command
  [[ ! -f $KUBE_DIR/kubelet.conf ]] || { skip=preflight,$skip && log "retrying an earlier rejoin attempt"; }
  if [[ $SLOT_LISTED == 0 ]]; then
    render_join_config
    download_certs
    cluster_configuration
  else
    log "no other member answers: the cluster CA and service-account key kept on the etcd volume, the ClusterConfiguration of this node's user data"
    (cd "$ETCD_DATA_DIR/pki" && cp --parents "${SLOT_PKI[@]}" "$KUBE_DIR/pki/") || die "restoring the cluster CA from the etcd volume failed"
  fi
  # The rotation state in SSM decides what signs and what verifies, as for a join.
  step service-account-keys
  run_sibling service-account-issuer.sh key-set || die "building the service-account key set failed"
  run_sibling service-account-key-rotation.sh started || die "recording the started key set failed"
  complete_launch_hook
  step kubeadm-rejoin
  data_dir_preflight
  kubeadm init --config "$STATE_DIR/kubeadm-rejoin.yaml" --skip-phases="$skip" --skip-token-print "${PREFLIGHT[@]}" ||
    die "kubeadm init phases of the rejoin failed"
}

# The cluster's shared CA and keys. The etcd client certificate can_rejoin made from the volume's
# etcd CA (to ask the others) goes with them: kubeadm's certs phases make it themselves from the CA
# just downloaded, and refuse an existing one another CA signed ("not signed by corresponding CA":
# an etcd CA rotated while the slot was away, the others trusting both meanwhile).
download_certs() {
  step download-certs
  kubeadm join phase control-plane-prepare download-certs --config "$STATE_DIR/kubeadm-join.yaml" || die "downloading control-plane certificates failed (stale certificate key?)"
  rm -f "$PKI/etcd/healthcheck-client.crt" "$PKI/etcd/healthcheck-client.key" || die "removing the etcd client certificate of the volume's CA failed"
}

# The ClusterConfiguration the cluster runs (ConfigMap kube-system/kubeadm-config: a `kubeadm upgrade
# apply` or an edit since this node's user data was rendered) replaces the user data's in the
# rejoin's config, so its static pods are the cluster's; the InitConfiguration (this node's
# advertise address, patches) and the KubeletConfiguration stay this node's. Asked with an admin
# kubeconfig kubeadm makes from the downloaded CA, removed right after. An API that does not answer
# leaves the user data's, with a log line.
cluster_configuration() {
  local dir=$STATE_DIR/rejoin-admin config=$STATE_DIR/kubeadm-rejoin.yaml cc
  step cluster-configuration
  rm -rf "$dir"
  if (umask 077 && kubeadm init phase kubeconfig admin --config "$config" --kubeconfig-dir "$dir" >/dev/null) &&
    cc=$(kubectl --kubeconfig "$dir/admin.conf" --request-timeout=30s -n kube-system get configmap kubeadm-config -o 'jsonpath={.data.ClusterConfiguration}') &&
    [[ $cc == *'kind: ClusterConfiguration'* ]]; then
    rm -rf "$dir"
    if ! CLUSTER_CONFIGURATION=$cc awk '
      function flush() { if (doc != "") printf "%s", (doc ~ /(^|\n)kind: ClusterConfiguration\n/ ? ENVIRON["CLUSTER_CONFIGURATION"] "\n" : doc); doc = "" }
      /^---$/ { flush(); print; next }
      { doc = doc $0 "\n" }
      END { flush() }' "$config" >"$config.new" || ! mv "$config.new" "$config"; then die "writing the cluster's ClusterConfiguration into $config failed"; fi
    log "rejoining with the cluster's ClusterConfiguration (kube-system/kubeadm-config)"
  else
    rm -rf "$dir"
    log "kube-system/kubeadm-config unreadable: rejoining with the ClusterConfiguration of this node's user data (a kubeadm upgrade or edit since is not applied on this node)"
  fi
}

# A restore request (etcd-restore.sh request) stands until the restored cluster's initialiser has
# written the new generation and run kubeadm init. Until then no joiner may take join material or a
# volume's member for the cluster's: a still-running old node may have republished its token, and a
# volume of the old cluster still shows the old generation, so two old slots rejoining would make a
# quorum of the old membership beside the restored one. The unit retries.
refuse_join_during_restore() {
  local value status=0
  step read-restore-request
  value=$(ssm_get "$SSM_RESTORE_FROM") || status=$?
  case $status in
    0) [[ $value == None ]] || die "restore pending ($SSM_RESTORE_FROM is $value): not joining until the restored cluster's initialiser clears it" ;;
    3) ;;
    *) die "cannot read $SSM_RESTORE_FROM: refusing to guess whether a restore is pending" ;;
  esac
}

# Rejoin only with a member's data and the CA on the slot's volume, and unless the others list
# the member no more (removed while away: its data could never catch up, set aside, fresh join).
# Asking them needs this node's etcd client certificate: made first from the kept etcd CA.
can_rejoin() {
  [[ $ETCD_IP != "$NODE_IP" && -d $ETCD_DATA_DIR/member && -f $ETCD_DATA_DIR/pki/etcd/ca.key ]] || return 1
  ! wipe_other_generation || return 1
  step etcd-client-certificate
  mkdir -p "$KUBE_DIR/pki/etcd"
  (cd "$ETCD_DATA_DIR/pki" && cp --parents etcd/ca.crt etcd/ca.key "$KUBE_DIR/pki/") || die "reading the etcd CA from the etcd volume failed"
  CERTIFICATE_KEY=$(join_value "$SSM_CERTIFICATE_KEY") || die "no published certificate key in $SSM_CERTIFICATE_KEY"
  export CERTIFICATE_KEY
  render_template "$BOOTSTRAP_ETC/kubeadm-init.yaml.tmpl" "$STATE_DIR/kubeadm-rejoin.yaml" NODE_NAME NODE_IP ETCD_IP INSTANCE_ID AVAILABILITY_ZONE CERTIFICATE_KEY
  kubeadm init phase certs etcd-healthcheck-client --config "$STATE_DIR/kubeadm-rejoin.yaml" || die "making the etcd client certificate failed"
  slot_addresses || die "listing the etcd member addresses failed: $AWS_ERR"
  SLOT_LISTED=$(slot_member_listed)
  case $SLOT_LISTED in
    1)
      log "the member at $ETCD_IP was removed from etcd: setting its data aside, joining as a fresh member"
      mv "$ETCD_DATA_DIR/member" "$ETCD_DATA_DIR/member.removed-$(now_epoch)" || die "setting aside $ETCD_DATA_DIR/member failed"
      return 1
      ;;
  esac
}

join_cluster() {
  render_join_config
  # The data dir may hold a member this join cannot rejoin as (a slot volume without the etcd CA
  # beside it, an earlier attempt's): etcd would restart that member from it and ignore the join.
  # Set aside, never deleted.
  if [[ -e $ETCD_DATA_DIR/member ]]; then
    log "the etcd data dir holds member data this join cannot use: setting it aside"
    mv "$ETCD_DATA_DIR/member" "$ETCD_DATA_DIR/member.stale-$(now_epoch)" || die "setting aside $ETCD_DATA_DIR/member failed"
  fi
  if [[ -f $KUBE_DIR/kubelet.conf || -f $KUBE_DIR/manifests/etcd.yaml ]]; then reset_unfinished join; fi
  # The shared CA (etcd's too) arrives with the certificate key; the certs phase then
  # makes this node's etcd client certificate, so it can talk to etcd before joining.
  download_certs
  kubeadm join phase control-plane-prepare certs --config "$STATE_DIR/kubeadm-join.yaml" || die "generating certificates failed"
  # sa.key came with the certificates; the rotation state in SSM decides what signs and what verifies.
  step service-account-keys
  run_sibling service-account-issuer.sh key-set || die "building the service-account key set failed"
  run_sibling service-account-key-rotation.sh started || die "recording the started key set failed"
  step remove-stale-etcd-members
  remove_members all
  step kubeadm-join
  # The certificates are in place: downloading them again would put back the uploaded sa.key over
  # the one key-set chose (a rotation's sign phase).
  data_dir_preflight
  kubeadm join --config "$STATE_DIR/kubeadm-join.yaml" --skip-phases control-plane-prepare/download-certs "${PREFLIGHT[@]}" || die "kubeadm join --control-plane failed"
}

# The AWS cloud controller's provider config (platform-config CLOUD_CONTROLLER_CONFIG), at every
# boot: with VPC, SubnetID and KubernetesClusterID it builds no view of its own instance and with
# Region it asks IMDS nothing, so it runs behind the IMDS fence on its own web identity. The host
# reads its VPC and subnet from IMDS (host processes are outside the fence). No secret: 0644, so
# the controller's non-root uid reads it.
cloud_provider_config() {
  [[ -n ${CLOUD_PROVIDER_CONFIG-} ]] || return 0
  step cloud-provider-config
  local mac vpc subnet file=$KUBE_DIR/$CLOUD_PROVIDER_CONFIG
  mac=$(imds mac)
  vpc=$(imds "network/interfaces/macs/$mac/vpc-id")
  subnet=$(imds "network/interfaces/macs/$mac/subnet-id")
  mkdir -p "$KUBE_DIR"
  printf '[Global]\nRegion = %s\nVPC = %s\nSubnetID = %s\nKubernetesClusterID = %s\n' "$REGION" "$vpc" "$subnet" "$CLUSTER_NAME" >"$file.new" || die "writing $file failed"
  chmod 0644 "$file.new" || die "chmod of $file failed"
  mv "$file.new" "$file" || die "writing $file failed"
}

main() {
  if [[ ${1-} == leave ]]; then step leave-etcd; leave_etcd; return; fi
  mkdir -p "$STATE_DIR"
  step identity
  node_identity
  step etcd-slot
  claim_slot
  cloud_provider_config
  if [[ -f $STATE_DIR/control-plane.done ]]; then
    log "already part of the control plane"
  else
    step decide-role
    local role
    role=$(decide_role)
    if [[ $role == init ]]; then init_cluster; else
      refuse_join_during_restore
      if can_rejoin; then rejoin_cluster; else join_cluster; fi
    fi
    touch "$STATE_DIR/control-plane.done"
  fi
  # At every boot: a rotation applied since (service-account keys, CA) reaches the volume's copy.
  save_pki
  # At every boot, on every control-plane node: the same keys give the same documents, so a
  # replacement or a restore (which brings back the old sa.key) re-publishes what STS trusts.
  # Before the add-ons: on day 0 the cloud controller's first AssumeRoleWithWebIdentity needs
  # STS to find the JWKS of the key this API server already signs with.
  step publish-service-account-issuer
  run_sibling service-account-issuer.sh || die "publishing the service-account issuer documents failed"
  step enable-timers
  systemctl enable --now etcd-snapshot.timer join-material-refresh.timer kubelet-serving-approver.timer service-account-keys.timer || die "enabling the control-plane timers failed"
  # Every control-plane node, not only the initialiser: one that died after publishing the join
  # material left the CNI, cloud controller or Flux missing. Once per node; a failure retries.
  if [[ ! -f $STATE_DIR/core-addons.done ]]; then
    step core-addons
    run_sibling install-addons.sh || die "installing CNI, cloud controller and Flux failed"
    touch "$STATE_DIR/core-addons.done"
  fi
  # Last, at every boot: the IRSA migration stage this node's API server runs with (its user data's),
  # which the apply's identity-roll gate waits for before it moves the cluster to the next stage.
  step record-identity-stage
  record_identity_stage
  log "control plane ready"
}

# Overwrites this instance's record: the stage it booted with and the SHA-256 of the patch it rendered.
record_identity_stage() {
  local config value
  config=$(sha256sum <"$BOOTSTRAP_ETC/$IDENTITY_CONFIG") || die "$BOOTSTRAP_ETC/$IDENTITY_CONFIG missing"
  value="stage=$IDENTITY_STAGE config=${config%% *}"
  aws_call ssm put-parameter --region "$REGION" --name "$SSM_IDENTITY_STAGE/$INSTANCE_ID" --type String --overwrite --value "$value" || die "recording the identity stage in $SSM_IDENTITY_STAGE/$INSTANCE_ID failed: $AWS_ERR"
  log "recorded $value in $SSM_IDENTITY_STAGE/$INSTANCE_ID"
}

main "$@"
