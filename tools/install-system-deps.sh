#!/usr/bin/env bash
# The Debian tools the tests run (node-bootstrap renders cloud-init and shell scripts and
# checks them; under CI=true a missing tool fails the test instead of skipping it).
# Used by .ci/run and the pull-request workflow's checks job. Installs only what is missing.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
missing=()
for tool in shellcheck cloud-init yamllint; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system-deps: shellcheck, cloud-init and yamllint already installed"
  exit 0
fi
SUDO=()
[ "$(id -u)" -ne 0 ] && SUDO=(sudo)
echo "install-system-deps: installing ${missing[*]}"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq shellcheck cloud-init yamllint >/dev/null
