#!/usr/bin/env bash
# Builds the Terraform provider mirror the offline-plan tests read (/opt/tf-plugins, or
# $1): the AWS provider version @cdktf/provider-aws is generated for, downloaded once from
# the public registry with `terraform providers mirror`. A development container has it
# preinstalled; a GitHub-hosted runner does not, so the pull-request checks job runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

mirror="${1:-/opt/tf-plugins}"
version="$(node -p "require('@cdktf/provider-aws/package.json').cdktf.provider.version")"
if [ -d "$mirror/registry.terraform.io/hashicorp/aws/$version" ]; then
  echo "install-provider-mirror: hashicorp/aws $version already in $mirror"
  exit 0
fi
SUDO=()
[ "$(id -u)" -ne 0 ] && [ ! -w "$(dirname "$mirror")" ] && SUDO=(sudo)
"${SUDO[@]}" mkdir -p "$mirror"
"${SUDO[@]}" chown "$(id -u):$(id -g)" "$mirror"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf 'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n      version = "%s"\n    }\n  }\n}\n' "$version" >"$work/main.tf"
(cd "$work" && terraform providers mirror -platform=linux_amd64 "$mirror")
echo "install-provider-mirror: hashicorp/aws $version mirrored into $mirror"
