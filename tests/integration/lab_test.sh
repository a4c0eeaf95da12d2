#!/usr/bin/env bash
# The two-laptop lab (lab/mplab.sh) and the host scripts it configures its hosts with
# (host/mptcp-setup, host/if-up.d/mptcp, host/if-post-down.d/mptcp):
# - mptcp-setup refuses bad input with one line and exit 2, and --dry-run prints only what is
#   not configured yet (nothing for the lab's own configuration, which it made);
# - the if-up hook gave each client interface its table, rule and default route;
# - a 64 MiB download over the lab shaped to 200 Mbit/s uses both paths, survives path A being
#   blackholed mid-transfer (restored 3 s later unless done sooner) and arrives byte-exact;
# - the post-down hooks and `mptcp-setup --remove` undo everything the host scripts configured;
# - `down` leaves no namespace and no state behind.
# Everything in the lab goes through mplab.sh's commands.
#
# usage: lab_test.sh MPSERVE MPFETCH        exit 0 pass, 1 fail, 77 skip
set -euo pipefail
MPSERVE=$(readlink -f "${1:?usage: lab_test.sh MPSERVE MPFETCH}")
MPFETCH=$(readlink -f "${2:?usage: lab_test.sh MPSERVE MPFETCH}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
LAB=$repo/lab/mplab.sh
SETUP=$repo/host/mptcp-setup
source "$here/lib.sh"

# --- mptcp-setup: bad input is one line on standard error and exit 2 (needs no root) ---
expect_refusal() {  # EXPECTED-TEXT ARGS...
  local want=$1 err rc=0
  shift
  err=$("$SETUP" "$@" 2>&1 >/dev/null) || rc=$?
  [[ $rc == 2 ]] || fail "mptcp-setup $*: exit $rc, expected 2"
  [[ $(wc -l <<< "$err") == 1 && $err == "mptcp-setup: "*"$want"* ]] ||
    fail "mptcp-setup $*: expected one line with '$want', got: $err"
  echo "ok: mptcp-setup $* -> $err"
}
expect_refusal "missing server|client"
expect_refusal "must be server or client" laptop --signal 192.0.2.1
expect_refusal "--signal needs at least one address" server --signal
expect_refusal "--subflow needs at least one address" client --subflow --dry-run
expect_refusal "not an IP address: '192.0.2.300'" server --signal 192.0.2.300
expect_refusal "not an IP address: 'wlan0'" client --subflow wlan0
expect_refusal "at most 8" client --limits 9 --dry-run
expect_refusal "needs a number" client --limits two
expect_refusal "unknown option '--fullmesh'" client --fullmesh 198.51.100.2
expect_refusal "address given twice" client 198.51.100.2 --subflow 198.51.100.2
expect_refusal "--remove needs the addresses" client --remove --dry-run
expect_refusal "--remove leaves the limits alone" server --remove 198.51.100.1 --limits 4 --dry-run
grep -q '^usage: mptcp-setup server|client' <<< "$("$SETUP" --help)" || fail "mptcp-setup --help shows no usage"

# --- the lab ---
if ! reason=$("$LAB" check 2>&1); then
  echo "SKIP: $reason"
  exit 77
fi
lab_id=lt$$
lab() { "$LAB" --id "$lab_id" "$@"; }
make_workdir mp-lab
cleanup_lab() {
  cleanup_integration
  lab down >/dev/null 2>&1 || true
}
trap cleanup_lab EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

lab up 200mbit > "$work/up.out" || fail "mplab.sh up failed: $(cat "$work/up.out")"
echo "ok: $(head -n1 "$work/up.out")"

# The hooks' policy routing: a table per client interface with its gateway, and a rule to it.
rules=$(lab exec cli ip -4 rule show)
for pair in 192.0.2.2:192.0.2.1 198.51.100.2:198.51.100.1; do
  addr=${pair%:*} gateway=${pair#*:}
  table=$(sed -n "s/^[0-9]*:[[:space:]]*from $addr lookup \([0-9]*\).*/\1/p" <<< "$rules")
  [[ -n $table ]] || fail "no rule 'from $addr' in the client: $rules"
  grep -q "^default via $gateway " <<< "$(lab exec cli ip -4 route show table "$table")" ||
    fail "table $table of the client has no default via $gateway"
  echo "ok: client rule from $addr lookup $table, default via $gateway"
done

# mptcp-setup --dry-run against the lab's configuration, which mptcp-setup made.
expect_plan() {  # SIDE EXPECTED-OUTPUT ARGS...
  local side=$1 want=$2 got
  shift 2
  got=$(lab exec "$side" "$SETUP" "$@" --dry-run) || fail "mptcp-setup $* --dry-run failed in $side"
  [[ $got == "$want" ]] || fail "mptcp-setup $* --dry-run in $side printed '$got', expected '$want'"
  echo "ok: in $side, mptcp-setup $* --dry-run -> ${got:-(nothing: already configured)}"
}
endpoints_before=$(lab exec cli ip mptcp endpoint show)
expect_plan cli "" client --subflow 192.0.2.2 198.51.100.2 --limits 3
expect_plan srv "" server --signal 198.51.100.1 --limits 3
expect_plan cli "ip mptcp limits set subflow 4 add_addr_accepted 4" client 198.51.100.2 --limits 4
expect_plan cli $'ip mptcp endpoint delete id 2\nip mptcp endpoint add 198.51.100.2 dev path-b signal' \
  client --signal 198.51.100.2 --limits 3
expect_plan srv "ip mptcp endpoint add 192.0.2.1 dev path-a signal" server 198.51.100.1 192.0.2.1 --limits 3
[[ $(lab exec cli ip mptcp endpoint show) == "$endpoints_before" ]] || fail "--dry-run changed the endpoints"

# --- a download that loses path A for 3 s ---
mkdir "$work/root"
head -c $((64 << 20)) /dev/urandom > "$work/root/file.bin"
# Started by the script itself, not through the lab() function: a function run with & is a
# subshell, and its PID would not be the program's.
"$LAB" --id "$lab_id" exec srv nice "$MPSERVE" --bind 192.0.2.1 --port 8080 -d "$work/root" --progress-interval 0.25 \
  > "$work/server.out" 2> "$work/server.err" &
server_pid=$!
wait_for_port "$server_pid"

"$LAB" --id "$lab_id" exec cli nice timeout 50 "$MPFETCH" "http://192.0.2.1:8080/file.bin" -O "$work/copy.bin" \
  --progress dot --progress-interval 0.25 2> "$work/fetch.err" &
fetch_pid=$!
for _ in $(seq 500); do  # until 8 MiB arrived (at most 10 s)
  size=$(stat -c %s "$work/copy.bin.part" 2>/dev/null || echo 0)
  (( size >= 8 << 20 )) && break
  kill -0 "$fetch_pid" 2>/dev/null || break
  sleep 0.02
done
kill -0 "$fetch_pid" 2>/dev/null || fail "mpfetch ended before path A could be cut"
(( size >= 8 << 20 )) || fail "less than 8 MiB arrived in 10 s"
# Cut A; 1.5 s later `status` (in the background, so sampling goes on); restore A at 3 s.
# Meanwhile the .part file's size every 50 ms: the longest time in which nothing arrived.
lab cut A --mode blackhole
cut_ms=$(date +%s%3N)
(sleep 1.5; t0=$(date +%s%3N); lab status > "$work/status.out" 2>&1; rc=$?
 echo $(($(date +%s%3N) - t0)) > "$work/status.ms"; exit $rc) &
status_pid=$!
restore_a() {
  wait "$status_pid" || fail "mplab.sh status failed: $(cat "$work/status.out")"
  lab restore A
  restored_ms=$(date +%s%3N)
}
restored_ms="" last_size=$size last_growth_ms=$cut_ms stall_ms=0
for _ in $(seq 1000); do  # 50 ms steps: at most 50 s, the same as mpfetch's timeout
  kill -0 "$fetch_pid" 2>/dev/null || break
  now_ms=$(date +%s%3N)
  if [[ -z $restored_ms ]] && (( now_ms - cut_ms >= 3000 )); then restore_a; fi
  size=$(stat -c %s "$work/copy.bin.part" 2>/dev/null || echo 0)
  if (( size > last_size )); then
    last_size=$size last_growth_ms=$now_ms
  elif (( now_ms - last_growth_ms > stall_ms )); then
    stall_ms=$((now_ms - last_growth_ms))
  fi
  sleep 0.05
done
rc=0
wait "$fetch_pid" || rc=$?
done_ms=$(date +%s%3N)
fetch_pid=
[[ -n $restored_ms ]] || restore_a
(( rc == 0 )) || fail "mpfetch exit $rc after path A was blackholed"
cmp -s "$work/root/file.bin" "$work/copy.bin" || fail "the copy differs"
echo "ok: 64 MiB byte-exact although path A was blackholed mid-transfer"
grep -q '^path A: CUT (blackhole)' "$work/status.out" || fail "status did not show path A cut"
grep -q 'mptcp  endpoint: 198.51.100.2 id 2 subflow dev path-b' "$work/status.out" ||
  fail "status did not show the client's subflow endpoint"
grep -qE '^ss +mptcp ' "$work/status.out" || fail "status did not show the live MPTCP connection"
echo "ok: status during the cut shows the cut, the endpoints and the live connection"

# Both paths carried part of the file: one summary line per subflow with its share.
for address in 192.0.2.2 198.51.100.2; do
  line=$(grep -m1 -E "subflow [0-9]+ $address:[0-9]+ -> 192\.0\.2\.1:8080 carried" "$work/fetch.err" || true)
  [[ -n $line ]] || fail "no summary line for the subflow from $address"
  share=$(sed -n 's/.*carried .* (\([0-9.]*\)%).*/\1/p' <<< "$line")
  awk -v s="$share" 'BEGIN { exit !(s >= 1) }' || fail "the subflow from $address carried only $share%"
  echo "ok: ${line#*]   }"
done

# How long the failover took, for the record.
awk -v c="$cut_ms" -v r="$restored_ms" -v d="$done_ms" -v s="$stall_ms" -v t="$(cat "$work/status.ms")" 'BEGIN {
  printf "info: done %.2f s after the cut of A (restored at %.2f s: %s); longest time without data %.2f s; status took %.2f s\n",
    (d - c) / 1000, (r - c) / 1000, (d < r ? "finished on path B alone" : "finished after the restore"), s / 1000, t / 1000 }'
stop_mpserve

# cut --mode down is ifdown's path: link down and the post-down hook; restore is ifup's.
lab cut A --mode down > /dev/null
grep -q 'from 192\.0\.2\.2 ' <<< "$(lab exec cli ip -4 rule show)" && fail "the post-down hook left the rule for 192.0.2.2"
grep -q 'state DOWN' <<< "$(lab exec cli ip -4 link show dev path-a)" || fail "cut --mode down left path-a up"
lab restore A > /dev/null
grep -q 'from 192\.0\.2\.2 lookup' <<< "$(lab exec cli ip -4 rule show)" || fail "restore did not bring the rule back"
grep -q '^default via 192\.0\.2\.1 dev path-a' <<< "$(lab exec cli ip -4 route show)" || fail "restore did not bring the default route back"
echo "ok: cut A --mode down removed path A's rule (post-down hook), restore A put it back (if-up hook)"

# Removing what the host scripts configured (ifdown's post-down hook for each interface,
# mptcp-setup --remove) leaves no rule, no table and no endpoint behind.
post_down() {  # SIDE DEV ADDR
  lab exec "$1" env IFACE="$2" ADDRFAM=inet METHOD=static MODE=stop PHASE=post-down \
    IF_ADDRESS="$3/24" sh "$repo/host/if-post-down.d/mptcp"
}
post_down cli path-a 192.0.2.2
post_down cli path-b 198.51.100.2
post_down srv path-a 192.0.2.1
post_down srv path-b 198.51.100.1
lab exec cli "$SETUP" client --remove 192.0.2.2 198.51.100.2 > /dev/null || fail "mptcp-setup client --remove failed"
lab exec srv "$SETUP" server --remove 198.51.100.1 > /dev/null || fail "mptcp-setup server --remove failed"
[[ -z $(lab exec cli "$SETUP" client --remove 192.0.2.2 198.51.100.2 --dry-run) ]] ||
  fail "mptcp-setup --remove --dry-run plans something after the removal"
for side in cli srv; do
  rules=$(lab exec "$side" ip -4 rule show | awk '{ $1 = ""; print }' | sed 's/^ *//')
  [[ $rules == $'from all lookup local\nfrom all lookup main\nfrom all lookup default' ]] ||
    fail "rules left in $side: $rules"
  tables=$(lab exec "$side" ip -4 route show table all | grep -oE ' table [0-9a-z]+' | sort -u | grep -v ' table local$' || true)
  [[ -z $tables ]] || fail "routing tables left in $side:$tables"
  [[ -z $(lab exec "$side" ip mptcp endpoint show) ]] || fail "MPTCP endpoints left in $side"
done
echo "ok: the post-down hooks and mptcp-setup --remove left no rule, table or endpoint behind"

lab down > /dev/null || fail "mplab.sh down failed"
if grep -qE "^mpl-(cli|srv)-$lab_id( |$)" <<< "$(ip netns list)"; then
  fail "namespaces left behind: $(ip netns list | grep "$lab_id")"
fi
[[ ! -e /run/mplab/$lab_id ]] || fail "state left behind in /run/mplab/$lab_id"
echo "ok: down left no namespace and no state behind"
