#!/usr/bin/env bash
# mplab.sh: two laptops joined by two networks, in network namespaces, for trying MPTCP.
# The client (mpl-cli-ID) and the server (mpl-srv-ID) are joined by two veth pairs, each named
# path-a / path-b on both sides:
#   path A  192.0.2.0/24     client .2  server .1   (the client's primary: its default route)
#   path B  198.51.100.0/24  client .2  server .1
# each optionally shaped with `tc tbf` in both directions. The hosts are configured as real ones
# are, with host/if-up.d/mptcp (per-interface policy routing) and host/mptcp-setup (server:
# 198.51.100.1 a signal endpoint; client: 192.0.2.2 and 198.51.100.2 subflow endpoints; limits 3).
# Nothing is done in the root namespace. State (names, rates, cuts, PIDs) lives in
# $MPLAB_STATE_DIR/ID (default /run/mplab), so later commands find the lab.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
readonly here
readonly host_dir=${MPLAB_HOST_DIR:-$here/../host}
readonly state_root=${MPLAB_STATE_DIR:-/run/mplab}
readonly prog=mplab.sh

usage() {
  cat <<'EOF'
usage: mplab.sh [--id ID] COMMAND [ARGS]
  check                          can this machine run the lab? (root, namespaces, MPTCP, tbf, nft)
  up [RATE [RATE_B]]             build the lab; RATE shapes both paths both ways (e.g. 100mbit,
                                 0 or nothing: unshaped), RATE_B path B alone; prints the ID
  down                           end the processes inside, delete the namespaces and the state
  cut A|B [--mode down|blackhole]  lose a path on the client: link down (and ifdown's hook), or
                                 link up but every packet silently dropped (default: blackhole)
  restore A|B                    bring the path back (link up and ifup's hook, or stop dropping)
  status                         addresses, rules, shaping, cuts, MPTCP limits, endpoints, live
                                 MPTCP connections and their subflows (ss -tiM)
  exec cli|srv CMD [ARGS]        run CMD in the client's or the server's namespace (same PID)
  list                           the labs that are up
--id ID (or MPLAB_ID): which lab; `up` makes one (default: this process's PID), other commands
default to the only lab that is up. Addresses: path A 192.0.2.{2 client,1 server}/24, path B
198.51.100.{2 client,1 server}/24.
EOF
}

die() { echo "$prog: $*" >&2; exit 1; }
usage_error() { echo "$prog: $*" >&2; exit 2; }

id=${MPLAB_ID:-}
ns_cli='' ns_srv='' state=''
probe=''

set_names() {
  [[ $1 =~ ^[A-Za-z0-9_]{1,24}$ ]] || usage_error "lab id must be 1-24 letters, digits or _: '$1'"
  id=$1 ns_cli=mpl-cli-$1 ns_srv=mpl-srv-$1 state=$state_root/$1
}

# The lab the command is about: --id, else the only one in the state directory.
find_lab() {
  if [[ -z $id ]]; then
    local labs=()
    [[ -d $state_root ]] && mapfile -t labs < <(ls -1 "$state_root")
    (( ${#labs[@]} == 1 )) || die "$(( ${#labs[@]} )) labs are up; name one with --id ID"
    id=${labs[0]}
  fi
  set_names "$id"
  [[ -f $state/lab.env ]] || die "no lab '$id' (mplab.sh list shows the labs that are up)"
  # shellcheck source=/dev/null
  source "$state/lab.env"
}

need_root() { (( EUID == 0 )) || die "needs root (network namespaces, tc, nft): run it with sudo"; }

cmd_check() {
  need_root
  local ok=1
  probe=mpl-probe-$$
  for tool in ip tc nft ss; do
    command -v "$tool" >/dev/null || { echo "missing: $tool"; ok=0; }
  done
  (( ok )) || die "install iproute2 and nftables"
  ip netns add "$probe" 2>/dev/null || die "cannot create a network namespace (ip netns add failed)"
  trap 'ip netns del "$probe" 2>/dev/null || true' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  [[ $(ip netns exec "$probe" sysctl -n net.mptcp.enabled 2>/dev/null) == 1 ]] ||
    die "no MPTCP in this kernel's namespaces (net.mptcp.enabled is not 1)"
  ip -n "$probe" link add mpl-t0 type veth peer name mpl-t1 2>/dev/null || die "cannot create veth pairs"
  ip -n "$probe" link set mpl-t0 up
  tc -n "$probe" qdisc add dev mpl-t0 root tbf rate 10mbit burst 32kb latency 25ms 2>/dev/null ||
    die "tc tbf is not available"
  ip netns exec "$probe" nft add table inet mpl_probe 2>/dev/null || die "nftables is not usable"
  echo "ok: root, namespaces, MPTCP, veth, tc tbf and nftables are available"
}

# path_of A|B: sets dev, cli_addr, srv_addr for that path.
path_of() {
  case ${1^^} in
    A) dev=path-a cli_addr=192.0.2.2 srv_addr=192.0.2.1 ;;
    B) dev=path-b cli_addr=198.51.100.2 srv_addr=198.51.100.1 ;;
    *) usage_error "path must be A or B, not '$1'" ;;
  esac
}

# tbf on one end; burst at least 32 KiB (tbf drops any packet larger than its burst), else
# 10 ms at the rate.
shape() {  # NS DEV RATE
  [[ $3 == 0 ]] && return 0
  local n=${3%%[a-zA-Z]*} unit=${3##*[0-9]} bps
  case ${unit,,} in
    bit) bps=$n ;; kbit) bps=$((n * 1000)) ;; mbit) bps=$((n * 1000000)) ;; gbit) bps=$((n * 1000000000)) ;;
  esac
  local burst=$((bps / 8 / 100))
  (( burst >= 32768 )) || burst=32768
  tc -n "$1" qdisc replace dev "$2" root tbf rate "$3" burst "$burst" latency 25ms
}

valid_rate() { [[ $1 == 0 || ${1,,} =~ ^[1-9][0-9]*(bit|kbit|mbit|gbit)$ ]]; }

# ifupdown's environment for a static stanza, then the hook itself, inside NS.
run_hook() {  # NS up|down DEV ADDR [GATEWAY]
  local hook=$host_dir/if-up.d/mptcp mode=start phase=post-up
  if [[ $2 == down ]]; then hook=$host_dir/if-post-down.d/mptcp mode=stop phase=post-down; fi
  ip netns exec "$1" env IFACE="$3" LOGICAL="$3" ADDRFAM=inet METHOD=static MODE=$mode \
    PHASE=$phase IF_ADDRESS="$4/24" IF_GATEWAY="${5:-}" sh "$hook"
}

teardown() {
  local ns pid _
  for ns in "$ns_cli" "$ns_srv"; do
    [[ -e /run/netns/$ns ]] || continue
    # Whatever still runs in the lab was started in it (mplab.sh exec); end it by PID.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 30); do
      [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
      sleep 0.1
    done
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || echo "$prog: could not delete namespace $ns" >&2
  done
  [[ -n $state && -d $state ]] && rm -rf "$state"
  rmdir "$state_root" 2>/dev/null || true
}

cmd_up() {
  need_root
  local rate_a=${1:-0} rate_b=${2:-${1:-0}}
  (( $# <= 2 )) || usage_error "up takes at most two rates"
  valid_rate "$rate_a" || usage_error "not a rate: '$rate_a' (e.g. 100mbit, 1gbit, 0)"
  valid_rate "$rate_b" || usage_error "not a rate: '$rate_b' (e.g. 100mbit, 1gbit, 0)"
  local script
  for script in mptcp-setup if-up.d/mptcp if-post-down.d/mptcp; do
    [[ -r $host_dir/$script ]] || die "missing $host_dir/$script (MPLAB_HOST_DIR names host/)"
  done
  set_names "${id:-$$}"
  [[ ! -e $state && ! -e /run/netns/$ns_cli && ! -e /run/netns/$ns_srv ]] ||
    die "lab '$id' exists already (mplab.sh --id $id down removes it)"
  mkdir -p "$state_root"
  mkdir "$state"
  # Until the lab is complete, any exit (an error, Ctrl-C) takes it all down again.
  trap 'teardown' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ip netns add "$ns_cli" || die "cannot create a network namespace"
  ip netns add "$ns_srv" || die "cannot create a network namespace"
  local ns dev cli_addr srv_addr p
  for ns in "$ns_cli" "$ns_srv"; do
    ip -n "$ns" link set lo up
    [[ $(ip netns exec "$ns" sysctl -n net.mptcp.enabled 2>/dev/null) == 1 ]] ||
      die "MPTCP is not enabled in new namespaces (net.mptcp.enabled)"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  for p in A B; do
    path_of "$p"
    ip -n "$ns_cli" link add "$dev" mtu 1500 type veth peer name "$dev" netns "$ns_srv" mtu 1500
    ip -n "$ns_cli" addr add "$cli_addr/24" dev "$dev"
    ip -n "$ns_srv" addr add "$srv_addr/24" dev "$dev"
    ip -n "$ns_cli" link set "$dev" up
    ip -n "$ns_srv" link set "$dev" up
    local rate=$rate_a
    [[ $p == B ]] && rate=$rate_b
    shape "$ns_cli" "$dev" "$rate"
    shape "$ns_srv" "$dev" "$rate"
  done
  # The client's primary network is A: its default route, as DHCP or `gateway` would set it.
  ip -n "$ns_cli" route add default via 192.0.2.1 dev path-a
  for p in A B; do
    path_of "$p"
    run_hook "$ns_cli" up "$dev" "$cli_addr" "$srv_addr"
    run_hook "$ns_srv" up "$dev" "$srv_addr"
  done
  # Both client addresses are endpoints (the primary one too, as NetworkManager and mptcpd make
  # them), so that either path can be re-plugged (mpfetch --replug-stalled-paths). Limits: the
  # two extra subflows of a connection, plus one spare for a path that joins again.
  ip netns exec "$ns_srv" "$host_dir/mptcp-setup" server --signal 198.51.100.1 --limits 3 >/dev/null
  ip netns exec "$ns_cli" "$host_dir/mptcp-setup" client --subflow 192.0.2.2 198.51.100.2 --limits 3 >/dev/null
  cat > "$state/lab.env" <<EOF
NS_CLI=$ns_cli
NS_SRV=$ns_srv
RATE_A=$rate_a
RATE_B=$rate_b
CREATED="$(date -Is)"
EOF
  : > "$state/pids"
  trap - EXIT INT TERM
  echo "lab $id up: client $ns_cli, server $ns_srv; path A 192.0.2.0/24 ($rate_a), path B 198.51.100.0/24 ($rate_b)"
  echo "next: $prog --id $id exec srv mpserve -b 192.0.2.1 ...; $prog --id $id down"
}

cmd_down() {
  need_root
  [[ -n $id ]] || find_lab
  set_names "$id"
  [[ -e $state || -e /run/netns/$ns_cli || -e /run/netns/$ns_srv ]] || die "no lab '$id'"
  teardown
  echo "lab $id down"
}

nft_table() { echo "mplab_cut_${1,,}"; }

cmd_cut() {
  need_root
  (( $# >= 1 )) || usage_error "cut needs a path: A or B"
  local p=$1 mode=blackhole dev cli_addr srv_addr
  shift
  while (( $# > 0 )); do
    case $1 in
      --mode) mode=${2:-}; shift 2 || usage_error "--mode needs down or blackhole" ;;
      --mode=*) mode=${1#--mode=}; shift ;;
      *) usage_error "unknown argument to cut: '$1'" ;;
    esac
  done
  [[ $mode == down || $mode == blackhole ]] || usage_error "--mode must be down or blackhole, not '$mode'"
  path_of "$p"
  find_lab
  [[ ! -f $state/cut-${p^^} ]] || die "path ${p^^} is cut already ($(<"$state/cut-${p^^}")); restore it first"
  if [[ $mode == down ]]; then
    ip -n "$ns_cli" link set "$dev" down
    run_hook "$ns_cli" down "$dev" "$cli_addr"
  else
    # At the device, ARP included: the link stays up and says nothing, like Wi-Fi out of range.
    # Each side drops what it would send on the path, so nothing crosses in either direction
    # and the receiving interfaces' counters show only what was really delivered.
    local t ns
    t=$(nft_table "$p")
    for ns in "$ns_cli" "$ns_srv"; do
      if ! ip netns exec "$ns" nft -f - 2>/dev/null <<EOF
table netdev $t {
  chain out { type filter hook egress device "$dev" priority 0; policy drop; }
}
EOF
      then  # kernels before 5.16 have no egress hook: drop at IP level instead
        ip netns exec "$ns" nft -f - <<EOF
table inet $t {
  chain out { type filter hook output priority 0; oifname "$dev" drop; }
}
EOF
      fi
    done
  fi
  echo "$mode" > "$state/cut-${p^^}"
  echo "path ${p^^} cut ($mode) at $(date +%T.%3N)"
}

cmd_restore() {
  need_root
  (( $# == 1 )) || usage_error "restore needs a path: A or B"
  local p=$1 dev cli_addr srv_addr mode
  path_of "$p"
  find_lab
  if [[ ! -f $state/cut-${p^^} ]]; then echo "path ${p^^} is not cut"; return 0; fi
  mode=$(<"$state/cut-${p^^}")
  if [[ $mode == down ]]; then
    ip -n "$ns_cli" link set "$dev" up
    [[ $p == [aA] ]] && ip -n "$ns_cli" route replace default via 192.0.2.1 dev path-a
    run_hook "$ns_cli" up "$dev" "$cli_addr" "$srv_addr"
  else
    local t family ns
    t=$(nft_table "$p")
    for ns in "$ns_cli" "$ns_srv"; do
      for family in netdev inet; do
        ip netns exec "$ns" nft delete table "$family" "$t" 2>/dev/null || true
      done
    done
  fi
  rm -f "$state/cut-${p^^}"
  echo "path ${p^^} restored at $(date +%T.%3N)"
}

cmd_status() {
  find_lab
  # shellcheck disable=SC2153  # RATE_A, RATE_B and CREATED come from lab.env
  echo "lab $id (since $CREATED): path A ${RATE_A}, path B ${RATE_B}"
  local p
  for p in A B; do
    [[ -f $state/cut-$p ]] && echo "path $p: CUT ($(<"$state/cut-$p"))"
  done
  local side ns
  for side in client server; do
    ns=$ns_cli
    [[ $side == server ]] && ns=$ns_srv
    echo "== $side ($ns)"
    ip -n "$ns" -br -4 addr show | grep -v '^lo ' | sed 's/^/addr   /'
    ip -n "$ns" -4 rule show | grep -v -E 'lookup (local|main|default)$' | sed 's/^/rule   /' || true
    ip -n "$ns" -4 route show table all | grep -v -E '(^| )(local|broadcast) |table local' | sed 's/^/route  /' || true
    tc -n "$ns" qdisc show | grep tbf | sed 's/^/shape  /' || true
    echo "mptcp  limits: $(ip -n "$ns" mptcp limits show)"
    ip -n "$ns" mptcp endpoint show | sed 's/^/mptcp  endpoint: /'
    ip netns exec "$ns" ss -tinM state established | sed 's/^/ss     /'
  done
}

cmd_exec() {
  (( $# >= 2 )) || usage_error "exec needs cli|srv and a command"
  local side=$1
  shift
  find_lab
  case $side in
    cli|client) ns=$ns_cli ;;
    srv|server) ns=$ns_srv ;;
    *) usage_error "exec: cli or srv, not '$side'" ;;
  esac
  echo "$$ $(date +%s) $*" >> "$state/pids"
  # exec keeps this PID for the command, so the caller can wait for it and kill it.
  exec ip netns exec "$ns" "$@"
}

cmd_list() {
  [[ -d $state_root ]] || return 0
  local d
  for d in "$state_root"/*/; do
    [[ -f $d/lab.env ]] && echo "$(basename "$d")  $(grep -h '^NS_' "$d/lab.env" | cut -d= -f2 | tr '\n' ' ')"
  done
  return 0
}

main() {
  while (( $# > 0 )); do
    case $1 in
      --id) [[ -n ${2:-} ]] || usage_error "--id needs a value"; id=$2; shift 2 ;;
      --id=*) id=${1#--id=}; shift ;;
      -h|--help|help) usage; exit 0 ;;
      *) break ;;
    esac
  done
  (( $# > 0 )) || { usage >&2; exit 2; }
  [[ -z $id ]] || set_names "$id"
  local cmd=$1
  shift
  case $cmd in
    check) cmd_check ;;
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    cut) cmd_cut "$@" ;;
    restore) cmd_restore "$@" ;;
    status) cmd_status ;;
    exec) cmd_exec "$@" ;;
    list) cmd_list ;;
    *) usage_error "unknown command '$cmd' (see --help)" ;;
  esac
}

main "$@"
