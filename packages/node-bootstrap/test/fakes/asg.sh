#!/usr/bin/env bash
# Sourced by the harness fake of aws (etcd membership tests): the account's control-plane
# instances under $AWS_STATE, one file each:
#   instances/<instance id>   "<private ip> <EC2 state> <ASG name> <ASG LifecycleState>"
# As the APIs behave: EC2 DescribeInstances applies every --filters entry (tag
# aws:autoscaling:groupName, instance-state-name; values of one filter are ORed, filters ANDed)
# and knows the instance whatever its ASG thinks (a Terminating:Wait instance is `running`);
# Auto Scaling DescribeAutoScalingInstances returns the listed instances that belong to a group
# (an unknown id is left out, not an error; more than 50 ids are a ValidationError) with their
# LifecycleState. Only the --query expressions the scripts use are evaluated; any other fails
# loudly, so a changed query cannot pass against a stale model.
set -uo pipefail
state=$AWS_STATE
service=$1 operation=$2
shift 2
filters=() ids=() query='' output=json
while (($#)); do
  case $1 in
    --filters) shift; while (($#)) && [[ $1 != --* ]]; do filters+=("$1"); shift; done ;;
    --instance-ids) shift; while (($#)) && [[ $1 != --* ]]; do ids+=("$1"); shift; done ;;
    --query) query=$2; shift 2 ;;
    --output) output=$2; shift 2 ;;
    *) shift ;;
  esac
done
[[ $output == text ]] || { echo "fakes/asg.sh: only --output text is modelled" >&2 && exit 2; }
unsupported() { echo "fakes/asg.sh: --query $query of $service $operation is not modelled" >&2 && exit 2; }
joined() { local IFS=$'\t'; (($#)) && echo "$*"; }

matches() { # matches <instance id>: every filter holds
  local ec2 asg filter name values
  read -r _ ec2 asg _ <"$state/instances/$1"
  for filter in "${filters[@]}"; do
    name=${filter#Name=}
    name=${name%%,*}
    values=,${filter#*,Values=},
    case $name in
      tag:aws:autoscaling:groupName) [[ $values == *",$asg,"* ]] || return 1 ;;
      instance-state-name) [[ $values == *",$ec2,"* ]] || return 1 ;;
      *) echo "fakes/asg.sh: filter $name is not modelled" >&2 && exit 2 ;;
    esac
  done
}

case "$service $operation" in
  'ec2 describe-instances')
    selected=()
    for file in "$state"/instances/*; do
      id=${file##*/}
      ((${#ids[@]} == 0)) || [[ " ${ids[*]} " == *" $id "* ]] || continue
      matches "$id" && selected+=("$id")
    done
    case $query in
      "Reservations[].Instances[].[InstanceId,PrivateIpAddress,Tags[?Key=='aws:autoscaling:groupName']|[0].Value]")
        # An instance outside any ASG has no such tag: JMESPath null, printed None.
        for id in "${selected[@]}"; do read -r ip _ asg _ <"$state/instances/$id" && printf '%s\t%s\t%s\n' "$id" "$ip" "${asg/#-/None}"; done
        ;;
      'Reservations[].Instances[].State.Name')
        for id in "${selected[@]}"; do read -r _ st _ <"$state/instances/$id" && echo "$st"; done
        ;;
      'Reservations[].Instances[].PrivateIpAddress')
        ips=()
        for id in "${selected[@]}"; do ips+=("$(cut -d' ' -f1 "$state/instances/$id")"); done
        joined "${ips[@]}"
        ;;
      *) unsupported ;;
    esac
    ;;
  'autoscaling describe-auto-scaling-instances')
    ((${#ids[@]} <= 50)) || { echo "An error occurred (ValidationError) when calling the DescribeAutoScalingInstances operation: The maximum number of instance ids is 50" >&2 && exit 254; }
    terminating=()
    for id in "${ids[@]}"; do
      [[ -f $state/instances/$id ]] || continue
      read -r _ _ asg lifecycle <"$state/instances/$id"
      [[ $asg != - ]] || continue
      [[ $lifecycle != Terminating* ]] || terminating+=("$id")
    done
    case $query in
      "AutoScalingInstances[?starts_with(LifecycleState,'Terminating')].InstanceId") joined "${terminating[@]}" ;;
      'AutoScalingInstances[0].AutoScalingGroupName')
        asg=None
        [[ ! -f $state/instances/${ids[0]} ]] || read -r _ _ asg _ <"$state/instances/${ids[0]}"
        echo "${asg/#-/None}"
        ;;
      *) unsupported ;;
    esac
    ;;
  *) echo "fakes/asg.sh: aws $service $operation is not modelled" >&2 && exit 2 ;;
esac
exit 0
