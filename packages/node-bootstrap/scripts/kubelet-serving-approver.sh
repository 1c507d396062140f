#!/usr/bin/env bash
# Approves kubelet serving certificates (kubelet-serving-approver.timer on control-plane nodes).
# kubeadm's serverTLSBootstrap makes each kubelet ask for its serving certificate with a
# kubernetes.io/kubelet-serving CSR, which kube-controller-manager never approves. A node may
# set its own Node addresses, so a CSR is approved only when all of this holds:
#   - it comes from system:node:<name> in group system:nodes, subject O=system:nodes, CN=that user;
#   - its usages are serving ones (server auth; digital signature, key encipherment);
#   - its DNS and IP names are exactly the Node's status addresses, and
#   - each of them belongs to the one running EC2 instance of this cluster (tag
#     $CLUSTER_TAG=owned) whose private DNS name is <name>.
# Anything else stays pending, logged with the reason (the CSR cleaner removes it after 24 h).
# Until approval the node runs pods, but `kubectl logs/exec` and metrics-server cannot reach it.
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=kubelet-serving-approver
load_env
export KUBECONFIG=$KUBE_DIR/admin.conf

# Prints why the CSR must stay pending; nothing when it may be approved.
review() {
  local user=$1 groups=$2 usages=$3 request=$4 node=${1#system:node:} text subject sans usage addresses want id ec2 name
  [[ $user == system:node:?* && $groups == *'"system:nodes"'* ]] || { echo "$user $groups is not a node"; return; }
  IFS=, read -ra usages <<<"$(tr -d '[]"' <<<"$usages")"
  for usage in "${usages[@]}"; do
    [[ $usage == 'server auth' || $usage == 'digital signature' || $usage == 'key encipherment' ]] || { echo "usage $usage is not for serving"; return; }
  done
  [[ " ${usages[*]} " == *' server auth '* ]] || { echo "no server auth usage"; return; }
  text=$(base64 -d <<<"$request" | openssl req -noout -text) || { echo "not a certificate request"; return; }
  subject=$(sed -n 's/^ *Subject: *//p' <<<"$text")
  [[ $subject == "O = system:nodes, CN = $user" ]] || { echo "subject $subject"; return; }
  sans=$(grep -A1 'Subject Alternative Name' <<<"$text" | sed -n '2s/IP Address:/IP:/g; 2s/ //gp' | tr , '\n' | sort -u)
  addresses=$(kubectl get node "$node" -o jsonpath='{range .status.addresses[*]}{.type} {.address}{"\n"}{end}') || { echo "no Node $node"; return; }
  want=$(sed -E -n 's/^(Hostname|InternalDNS|ExternalDNS) /DNS:/p; s/^(InternalIP|ExternalIP) /IP:/p' <<<"$addresses" | sort -u)
  [[ -n $sans && $sans == "$want" ]] || { echo "names ${sans//$'\n'/ } are not the addresses of Node $node (${want//$'\n'/ })"; return; }
  ec2=$(aws ec2 describe-instances --region "$REGION" --filters "Name=private-dns-name,Values=$node" Name=instance-state-name,Values=running "Name=tag:$CLUSTER_TAG,Values=owned" \
    --query 'Reservations[].Instances[].[InstanceId,PrivateDnsName,PrivateIpAddress,PublicDnsName,PublicIpAddress]' --output text) || { echo "EC2 did not answer for $node"; return; }
  [[ $(grep -c . <<<"$ec2") == 1 ]] || { echo "not one running $CLUSTER_TAG instance $node: ${ec2:-none}"; return; }
  read -r id _ <<<"$ec2"
  for name in $sans; do
    [[ $'\t'$ec2$'\t' == *$'\t'"${name#*:}"$'\t'* ]] || { echo "$name is not an address of $id"; return; }
  done
}

main() {
  [[ -f $KUBECONFIG ]] || exit 0
  local csrs name user groups usages request conditions reason
  csrs=$(kubectl get csr -o jsonpath='{range .items[?(@.spec.signerName=="kubernetes.io/kubelet-serving")]}{.metadata.name}{"\t"}{.spec.username}{"\t"}{.spec.groups}{"\t"}{.spec.usages}{"\t"}{.spec.request}{"\t"}{.status.conditions[*].type}{"\n"}{end}') ||
    die "listing certificate signing requests failed"
  while IFS=$'\t' read -r name user groups usages request conditions; do
    # Approved, denied or failed already.
    [[ -n $name && -z $conditions ]] || continue
    reason=$(review "$user" "$groups" "$usages" "$request")
    if [[ -n $reason ]]; then
      log "left $name pending: $reason"
    else
      kubectl certificate approve "$name" >/dev/null || die "approving $name failed"
      log "approved $name: serving certificate of ${user#system:node:}"
    fi
  done <<<"$csrs"
}

main "$@"
