#!/usr/bin/env bash
# Entry point of node-bootstrap.service: prepares the node, then runs the script of its
# role. Safe to run again after a reboot or a cloud-init re-run: every step checks state.
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
load_env
run_sibling node-prep.sh || die "node preparation failed"
case "$ROLE" in
  control-plane) run_sibling control-plane.sh ;;
  worker) run_sibling worker.sh ;;
  *) die "unknown ROLE $ROLE in $BOOTSTRAP_ETC/env" ;;
esac
