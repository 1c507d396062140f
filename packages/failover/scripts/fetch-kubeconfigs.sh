#!/usr/bin/env bash
# The region-failover workflow's "fetch kubeconfigs" step: reads the kubeconfig each cluster's
# initialiser published to SSM (node-bootstrap ci-kubeconfig.sh; names from `failover pair`),
# checks its context is named after the cluster (failoverKubeconfigNames: the two merge without
# one shadowing the other), and exports KUBECONFIG=<standby>[:<primary>] through $GITHUB_ENV.
# While promoting, the primary's may be missing (its region may be gone); fence and fail-back
# need it. Every call names its region and has short timeouts: the lost region's endpoint may
# accept nothing, and a default AWS CLI call would wait a minute per attempt.
# Env: ACTION, PRIMARY, PRIMARY_REGION, PRIMARY_PARAMETER, STANDBY, STANDBY_REGION,
# STANDBY_PARAMETER, RUNNER_TEMP, GITHUB_ENV.
set -euo pipefail
umask 077

fetch() { # name region parameter: prints the file, or fails
  local file="$RUNNER_TEMP/kubeconfig-$1"
  aws ssm get-parameter --region "$2" --name "$3" --with-decryption \
    --cli-connect-timeout 5 --cli-read-timeout 15 \
    --query Parameter.Value --output text >"$file" || return 1
  if [ "$(KUBECONFIG="$file" kubectl config current-context)" != "$1" ]; then
    echo "::error::$3 holds no context named $1; re-run ci-kubeconfig.sh on a $1 control-plane node" >&2
    return 1
  fi
  echo "$file"
}

configs="$(fetch "$STANDBY" "$STANDBY_REGION" "$STANDBY_PARAMETER")"
if primary_config="$(fetch "$PRIMARY" "$PRIMARY_REGION" "$PRIMARY_PARAMETER")"; then
  configs="$configs:$primary_config"
elif [ "$ACTION" != promote ]; then
  echo "::error::no kubeconfig for $PRIMARY; $ACTION needs its API"
  exit 1
else
  echo "::warning::no kubeconfig for $PRIMARY (expected while its region is down)"
fi
echo "KUBECONFIG=$configs" >>"$GITHUB_ENV"
