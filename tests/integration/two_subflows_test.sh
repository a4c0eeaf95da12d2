#!/usr/bin/env bash
# Two paths on one machine: a private network namespace (`unshare -n`, nameless, gone with
# this script) whose loopback carries 192.0.2.1 and 198.51.100.1, with an MPTCP "subflow"
# endpoint on the second address, so every connection to 192.0.2.1 gets a second subflow.
# (Both ends share the namespace, so the server's path manager also tries a subflow of its own
# towards the client's port and gets "connection refused"; the log shows that as sub_closed.)
# Asserts that both subflows carry part of a 256 MiB download, that both programs log two
# subflows in their progress and summaries, and that mpserve logs the path-manager event of
# the joining subflow (and the connection's created and closed events) under the connection
# it belongs to.
#
# usage: two_subflows_test.sh MPSERVE MPFETCH        exit 0 pass, 1 fail, 77 skip
set -euo pipefail
MPSERVE=$(readlink -f "${1:?usage: two_subflows_test.sh MPSERVE MPFETCH}")
MPFETCH=$(readlink -f "${2:?usage: two_subflows_test.sh MPSERVE MPFETCH}")
source "$(dirname "$0")/lib.sh"

enter_private_netns "$MPSERVE" "$MPFETCH"

ip link set lo up
ip addr add 192.0.2.1/24 dev lo
ip addr add 198.51.100.1/24 dev lo
if ! ip mptcp limits set subflow 2 add_addr_accepted 2 2>/dev/null ||
   ! ip mptcp endpoint add 198.51.100.1 dev lo subflow 2>/dev/null; then
  echo "SKIP: cannot configure the MPTCP path manager (ip mptcp) in this namespace"
  exit 77
fi
# 1 Gbit/s keeps the transfer long enough for progress lines and both paths busy.
tc qdisc add dev lo root tbf rate 1gbit burst 256kb latency 50ms 2>/dev/null || true

make_workdir mp-two-subflows

mkdir "$work/root"
head -c $((256 << 20)) /dev/urandom > "$work/root/file.bin"
start_mpserve --port 8080 --bind 192.0.2.1 -d "$work/root" --progress-interval 0.5
grep -q '^Listening socket is MPTCP' "$work/server.out" || fail "mpserve is not listening on MPTCP"

timeout 120 "$MPFETCH" "http://192.0.2.1:8080/file.bin" -O "$work/copy.bin" --progress-interval 0.5 \
  2> "$work/fetch.err" || fail "mpfetch failed"
cmp -s "$work/root/file.bin" "$work/copy.bin" || fail "the copy differs"
stop_mpserve

for side in server fetch; do
  grep -q "done: 256.0 MiB .* MPTCP token [0-9a-f]*, 2 subflows" "$work/$side.err" ||
    fail "$side's summary does not show 2 subflows"
  for address in 192.0.2.1 198.51.100.1; do
    line=$(grep -m1 -E "subflow [0-9]+ .*$address:[0-9]+ .*carried" "$work/$side.err" || true)
    [[ -n $line ]] || fail "$side: no summary line for the subflow via $address"
    share=$(sed -n 's/.*carried .* (\([0-9.]*\)%).*/\1/p' <<< "$line")
    awk -v s="$share" 'BEGIN { exit !(s >= 5) }' || fail "$side: the subflow via $address carried only $share%"
    echo "ok: $side: ${line#*] }"
  done
done
grep -qE '^\S+ info  \[#1 [0-9.:]+\] \[pm\] sub_established token=[0-9a-f]{8} 192\.0\.2\.1:8080 -> 198\.51\.100\.1:[0-9]+' \
  "$work/server.err" || fail "mpserve did not log the joining subflow under its connection"
echo "ok: mpserve logged the subflow joining, under its connection"
# The connection's first events come before its session has read the token, its last after the
# session has ended: those are named too.
grep -qE '^\S+ info  \[#1 [0-9.:]+\] \[pm\] created token=' "$work/server.err" ||
  fail "mpserve's created event is not named after its connection"
grep -qE '^\S+ info  \[#1 [0-9.:]+\] \[pm\] closed token=' "$work/server.err" ||
  fail "mpserve's closed event is not named after its connection"
echo "ok: mpserve named the created and closed events after their connection"
rows=$(grep -cE 'subflow [0-9]+ 192\.0\.2\.1:8080 -> 198\.51\.100\.1:[0-9]+ \+[0-9.]+ [KMG]?i?B .* rtt ' "$work/server.err" || true)
(( rows >= 1 )) || fail "mpserve's progress lines never showed the second subflow"
echo "ok: mpserve's progress lines show the second subflow ($rows lines)"
