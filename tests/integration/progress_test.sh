#!/usr/bin/env bash
# The per-subflow progress log on a transfer that lasts several intervals: loopback of a
# private network namespace (`unshare -n`, nameless, gone with this script) shaped with tbf
# to 40 Mbit/s, 12 MiB served by mpserve and fetched by mpfetch with a 0.2 s interval.
# Both must log progress lines and, under each, a subflow line with local -> remote, the
# bytes of the interval, share, rate, RTT and cwnd; and the JSON log must carry the same.
#
# usage: progress_test.sh MPSERVE MPFETCH        exit 0 pass, 1 fail, 77 skip
set -euo pipefail
MPSERVE=$(readlink -f "${1:?usage: progress_test.sh MPSERVE MPFETCH}")
MPFETCH=$(readlink -f "${2:?usage: progress_test.sh MPSERVE MPFETCH}")
source "$(dirname "$0")/lib.sh"

enter_private_netns "$MPSERVE" "$MPFETCH"

ip link set lo mtu 1500 up
if ! tc qdisc add dev lo root tbf rate 40mbit burst 32kb latency 100ms 2>/dev/null; then
  echo "SKIP: cannot shape loopback with tc tbf"
  exit 77
fi

make_workdir mp-progress-test

mkdir "$work/root"
head -c $((12 << 20)) /dev/urandom > "$work/root/file.bin"
start_mpserve --port 0 --bind 127.0.0.1 -d "$work/root" --progress-interval 0.2 \
  --log-json "$work/server.json"

timeout 60 "$MPFETCH" "http://127.0.0.1:$port/file.bin" -O "$work/copy.bin" --progress-interval 0.2 \
  --log-json "$work/fetch.json" 2> "$work/fetch.err" || fail "mpfetch failed"
cmp -s "$work/root/file.bin" "$work/copy.bin" || fail "the copy differs"
stop_mpserve

# At 40 Mbit/s, 12 MiB take about 2.5 s: several 0.2 s intervals on each side.
progress='[0-9.]+ [KMG]?i?B / 12.0 MiB \([0-9.]+%\) [0-9.]+ [kMG]?bit/s MPTCP token [0-9a-f]{8}'
subflow='subflow [0-9]+ 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+ \+[0-9.]+ [KMG]?i?B +[0-9.]+% [0-9.]+ [kMG]?bit/s rtt [0-9.]+ ms cwnd [0-9]+'
for side in server fetch; do
  lines=$(grep -cE "$progress" "$work/$side.err" || true)
  (( lines >= 3 )) || fail "$side logged $lines progress lines, expected at least 3"
  rows=$(grep -cE "$subflow" "$work/$side.err" || true)
  (( rows >= lines )) || fail "$side logged $rows subflow lines for $lines progress lines"
  grep -q '"event":"subflow_progress"' "$work/$side.json" || fail "$side's JSON log has no subflow_progress"
  grep -q '"event":"transfer_done"' "$work/$side.json" || fail "$side's JSON log has no transfer_done"
  echo "ok: $side logged $lines progress lines with $rows subflow lines, e.g.:"
  grep -E "$subflow" "$work/$side.err" | sed -n 2p
done
# Each side's subflow is the other side's, mirrored.
grep -qE "subflow 1 127\.0\.0\.1:$port -> 127\.0\.0\.1:[0-9]+ \+" "$work/server.err" || fail "server subflow addresses"
grep -qE "subflow 1 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$port \+" "$work/fetch.err" || fail "client subflow addresses"
echo "ok: subflow addresses match the connection"
