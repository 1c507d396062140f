#!/usr/bin/env bash
# Sourced by the harness fakes of iptables, ip6tables and systemctl (node-prep's IMDS fence):
# the kernel's filter table and systemd's slices as a node sees them, state under $FAKE_DIR.
#   netfilter/<tool>/<chain>  one rule per line, in traversal order (OUTPUT exists from boot)
#   cgroup/<path>/            the cgroup2 hierarchy: `systemctl start <name>.slice` creates it
# Like the kernel: `-N` of an existing chain and `-F`/`-A` of a missing one fail (exit 1), `-C`
# and `-D` exit 1 when the rule is absent, `-X` when the chain has rules or a rule jumps to it, and `-m cgroup --path P` is refused (exit 2, "Invalid
# argument") unless the cgroup P exists when the rule is added (xt_cgroup resolves it then).
# The rule keeps the cgroup it resolved, not the path: the fake stores it as ` @<cgroup id>`
# (the directory's inode, as cgroup2 reports its ids) after the rule text. A cgroup removed
# and made again at the same path is another cgroup, which the old rule does not match
# (test verdict()), while `-C` compares only the rule text, as iptables does.
# A reboot empties netfilter/ (rules are not persistent) and cgroup/, never /etc.
set -uo pipefail
command=$1
shift
if [[ $command == systemctl ]]; then
  if [[ ${1-} == start && ${2-} == *.slice ]]; then mkdir -p "$FAKE_DIR/cgroup/$2"; fi
  exit 0
fi
tables=$FAKE_DIR/netfilter/$command
mkdir -p "$tables"
[[ -f $tables/OUTPUT ]] || : >"$tables/OUTPUT"
[[ ${1-} == -w ]] && shift
op=$1 chain=$2
shift 2
rule="$*"
if [[ $op == -I ]]; then
  position=$1
  shift
  rule="$*"
fi
stored=$rule
if [[ $rule =~ --path\ ([^ ]+) && $op != -C ]]; then
  if [[ ! -d $FAKE_DIR/cgroup/${BASH_REMATCH[1]#/} ]]; then
    echo "$command v1.8.10 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain $chain" >&2
    exit 2
  fi
  stored="$rule @$(stat -c %i "$FAKE_DIR/cgroup/${BASH_REMATCH[1]#/}")"
fi
case $op in
  -N) [[ ! -f $tables/$chain ]] || { echo "$command: Chain already exists." >&2; exit 1; }; : >"$tables/$chain" ;;
  -F) [[ -f $tables/$chain ]] || { echo "$command: No chain/target/match by that name." >&2; exit 1; }; : >"$tables/$chain" ;;
  -A) [[ -f $tables/$chain ]] || exit 1; printf '%s\n' "$stored" >>"$tables/$chain" ;;
  -I) [[ -f $tables/$chain ]] || exit 1; { head -n $((position - 1)) "$tables/$chain"; printf '%s\n' "$stored"; tail -n +"$position" "$tables/$chain"; } >"$tables/$chain.new" && mv "$tables/$chain.new" "$tables/$chain" ;;
  -C) sed 's/ @[0-9]*$//' "$tables/$chain" 2>/dev/null | grep -qxF -- "$rule" || { echo "$command: Bad rule (does a matching rule exist in that chain?)." >&2; exit 1; } ;;
  -D)
    line=$(sed 's/ @[0-9]*$//' "$tables/$chain" 2>/dev/null | grep -nxF -- "$rule" | head -n1 | cut -d: -f1)
    [[ -n $line ]] || { echo "$command: Bad rule (does a matching rule exist in that chain?)." >&2; exit 1; }
    sed -i "${line}d" "$tables/$chain" ;;
  -X)
    # Only an empty chain that no rule jumps to (the kernel: "Directory not empty" / "Too many links").
    [[ -f $tables/$chain && ! -s $tables/$chain ]] || { echo "$command: Directory not empty." >&2; exit 1; }
    ! grep -q -- "-j $chain\$" "$tables"/* 2>/dev/null || { echo "$command: Too many links." >&2; exit 1; }
    rm -f "$tables/$chain" ;;
  *) echo "fake $command: unsupported $op" >&2; exit 2 ;;
esac
# FAKE_NETFILTER_TRACE: the tables after every change, so a test sees each state a packet could meet.
if [[ -n ${FAKE_NETFILTER_TRACE-} && $op != -C ]]; then
  trace=$FAKE_DIR/netfilter-trace
  mkdir -p "$trace"
  n=$(find "$trace" -mindepth 1 -maxdepth 1 | wc -l)
  cp -r "$FAKE_DIR/netfilter" "$trace/$(printf '%04d' "$n")"
fi
exit 0
