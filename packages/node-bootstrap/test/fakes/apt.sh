#!/usr/bin/env bash
# Sourced by the harness fakes of apt-get, apt-mark, dpkg-query and sleep (node-prep tests):
# apt and dpkg as a node sees them, with state under $FAKE_DIR/apt.
#   clock       virtual seconds since boot; the fake sleep and lock waits advance it
#   lists-until when apt-daily's list refresh releases the package lists lock (absent: never held)
#   dpkg-until  when unattended-upgrades releases the dpkg lock (absent: never held)
#   archive     "package version" lines: what the configured repositories offer
#   installed/  one file per installed package holding its version; held/ one per held package
# Like apt: `update` needs the lists lock and fails at once while it is held (exit 100), with or
# without DPkg::Lock::Timeout; install and apt-mark need the dpkg lock: without
# -o DPkg::Lock::Timeout=N a held lock fails them at once, with it they wait up to N seconds. `install pkg=glob` picks the newest matching version,
# an unversioned name the newest offered, and a held package is never changed.
set -uo pipefail
apt_dir=$FAKE_DIR/apt
mkdir -p "$apt_dir/installed" "$apt_dir/held"
command=$1
action=
shift
clock=$(cat "$apt_dir/clock" 2>/dev/null || echo 0)

lists_lock() {
  ((clock < $(cat "$apt_dir/lists-until" 2>/dev/null || echo 0))) || return 0
  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 1873 (apt-get)" >&2
  exit 100
}

dpkg_lock() {
  local timeout=0 until wait
  [[ $* =~ DPkg::Lock::Timeout=([0-9]+) ]] && timeout=${BASH_REMATCH[1]}
  until=$(cat "$apt_dir/dpkg-until" 2>/dev/null || echo 0)
  ((clock < until)) || return 0
  wait=$((until - clock))
  ((wait <= timeout)) || wait=$timeout
  clock=$((clock + wait))
  echo "$clock" >"$apt_dir/clock"
  ((clock < until)) || return 0
  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 2714 (unattended-upgr)" >&2
  exit 100
}

install() {
  local spec name pattern version
  for spec in "$@"; do
    [[ $spec == -* ]] && continue
    name=${spec%%=*}
    pattern='*'
    [[ $spec == *=* ]] && pattern=${spec#*=}
    # shellcheck disable=SC2053
    version=$(awk -v p="$name" '$1 == p { print $2 }' "$apt_dir/archive" | while read -r v; do [[ $v == $pattern ]] && echo "$v"; done | sort -V | tail -n1)
    if [[ -z $version ]]; then
      echo "E: Version '$pattern' for '$name' was not found" >&2
      exit 100
    fi
    if [[ -f $apt_dir/held/$name && $(cat "$apt_dir/installed/$name" 2>/dev/null) != "$version" ]]; then
      echo "E: Held packages were changed and -y was used without --allow-change-held-packages." >&2
      exit 100
    fi
    echo "$version" >"$apt_dir/installed/$name"
  done
}

case $command in
  sleep) echo $((clock + ${1%s})) >"$apt_dir/clock" ;;
  dpkg-query)
    name=${*: -1}
    cat "$apt_dir/installed/$name" 2>/dev/null || { echo "dpkg-query: no packages found matching $name" >&2; exit 1; } ;;
  apt-mark)
    dpkg_lock "$@"
    words=("$@")
    for ((i = 0; i < ${#words[@]}; i++)); do
      case ${words[i]} in
        -o) i=$((i + 1)) ;;
        hold | unhold) action=${words[i]} ;;
        *) if [[ $action == hold ]]; then : >"$apt_dir/held/${words[i]}"; else rm -f "$apt_dir/held/${words[i]}"; fi ;;
      esac
    done ;;
  apt-get)
    if [[ " $* " == *" update "* ]]; then lists_lock; else dpkg_lock "$@"; fi
    [[ " $* " == *" install "* ]] && install "${@:$(($(printf '%s\n' "$@" | grep -n -x install | cut -d: -f1) + 1))}" ;;
esac
exit 0
