#!/usr/bin/env bash
# The per-subflow progress log on a transfer that lasts several intervals: loopback of a
# private network namespace (`unshare -n`, nameless, gone with this script) shaped with tbf
# to 40 Mbit/s, 12 MiB served by mpserve and fetched by mpfetch with a 0.2 s interval.
# Both must log progress lines and, under each, a subflow line with local -> remote, the
# bytes of the interval, share, rate, RTT and cwnd; and the JSON log must carry the same.
#
# usage: progress_test.sh MPSERVE MPFETCH        exit 0 pass, 1 fail, 77 skip
set -euo pipefail
mpserve=$(readlink -f "${1:?usage: progress_test.sh MPSERVE MPFETCH}")
mpfetch=$(readlink -f "${2:?usage: progress_test.sh MPSERVE MPFETCH}")

if [[ ${MP_IN_PRIVATE_NETNS:-} != 1 ]]; then
  if ! unshare -n true 2>/dev/null; then
    echo "SKIP: cannot create a network namespace (unshare -n needs CAP_SYS_ADMIN)"
    exit 77
  fi
  MP_IN_PRIVATE_NETNS=1 exec unshare -n bash "$0" "$mpserve" "$mpfetch"
fi

ip link set lo mtu 1500 up
if ! tc qdisc add dev lo root tbf rate 40mbit burst 32kb latency 100ms 2>/dev/null; then
  echo "SKIP: cannot shape loopback with tc tbf"
  exit 77
fi

work=$(mktemp -d /tmp/mp-progress-test.XXXXXX)
server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for log in server.out server.err fetch.err; do
    [[ -s $work/$log ]] && { echo "--- $log"; tail -n 40 "$work/$log"; }
  done
  exit 1
}

mkdir "$work/root"
head -c $((12 << 20)) /dev/urandom > "$work/root/file.bin"
"$mpserve" --port 0 --bind 127.0.0.1 -d "$work/root" --progress-interval 0.2 \
  --log-json "$work/server.json" > "$work/server.out" 2> "$work/server.err" &
server_pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's/^Serving HTTP on .* port \([0-9]\+\) .*/\1/p' "$work/server.out")
  [[ -n $port ]] && break
  kill -0 "$server_pid" 2>/dev/null || fail "mpserve exited before listening"
  sleep 0.1
done
[[ -n $port ]] || fail "mpserve did not print its port"

timeout 60 "$mpfetch" "http://127.0.0.1:$port/file.bin" -O "$work/copy.bin" --progress-interval 0.2 \
  --log-json "$work/fetch.json" 2> "$work/fetch.err" || fail "mpfetch failed"
cmp -s "$work/root/file.bin" "$work/copy.bin" || fail "the copy differs"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=

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
