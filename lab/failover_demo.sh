#!/usr/bin/env bash
# The failover demo (`./run.sh demo`): two laptops in the lab (lab/mplab.sh), both paths shaped,
# mpserve serving a 1 GiB ubuntu.iso on the server, mpfetch downloading it on the client while
# path A is cut a few seconds in and restored a few seconds later. Both programs show their
# per-subflow progress live ("server:" and "client:" lines); lab/path_sampler.py records what
# each path delivers. At the end: the copy's SHA-256 checked, a table of throughput before,
# during and after the cut, how long each change took to show, the bytes per path, and an SVG
# chart of throughput per path over time (lab/failover_report.py).
#
# usage: failover_demo.sh MPSERVE MPFETCH
# Settings (environment): DEMO_RATE (per path, default 100mbit), DEMO_SIZE_MIB (1024),
# DEMO_CUT_AT (seconds into the download, 8), DEMO_CUT_FOR (seconds, 8),
# DEMO_CUT_MODE (blackhole|down, blackhole), DEMO_INTERVAL (progress lines, seconds, 2),
# DEMO_REPLUG (1: mpfetch --replug-stalled-paths re-plugs the cut path at once; 0: the kernel
# alone, ~1 s), DEMO_CACHE (where ubuntu.iso and the chart are kept).
set -euo pipefail
mpserve=$(readlink -f "${1:?usage: failover_demo.sh MPSERVE MPFETCH}")
mpfetch=$(readlink -f "${2:?usage: failover_demo.sh MPSERVE MPFETCH}")
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
lab=$here/mplab.sh

rate=${DEMO_RATE:-100mbit}
size_mib=${DEMO_SIZE_MIB:-1024}
cut_at=${DEMO_CUT_AT:-8}
cut_for=${DEMO_CUT_FOR:-8}
cut_mode=${DEMO_CUT_MODE:-blackhole}
interval=${DEMO_INTERVAL:-2}
replug=${DEMO_REPLUG:-1}
[[ $replug == 0 || $replug == 1 ]] || { echo "demo: DEMO_REPLUG must be 0 or 1, not '$replug'" >&2; exit 2; }
replug_args=()
((replug)) && replug_args=(--replug-stalled-paths)
# The interpreter itself, not a wrapper such as a pyenv shim: the sampler is ended by its PID.
python=$(python3 -c 'import sys; print(sys.executable)')
cache=${DEMO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mpserve-demo}

if ! "$lab" check >/dev/null 2>&1; then
  echo "demo: this machine cannot run the two-path lab:" >&2
  "$lab" check >&2 || true
  exit 77
fi

# The ISO is random bytes, generated once and kept: the demo is about the transfer.
mkdir -p "$cache/www"
iso=$cache/www/ubuntu.iso
if [[ ! -f $iso || $(stat -c %s "$iso") != $((size_mib << 20)) ]]; then
  echo "demo: generating a ${size_mib} MiB ubuntu.iso in $cache (once)"
  head -c "$((size_mib << 20))" /dev/urandom > "$iso.tmp"
  mv "$iso.tmp" "$iso"
  sha256sum < "$iso" | cut -d' ' -f1 > "$iso.sha256"
fi
[[ -f $iso.sha256 ]] || sha256sum < "$iso" | cut -d' ' -f1 > "$iso.sha256"
expected=$(cat "$iso.sha256")

id=demo$$
work=$(mktemp -d /tmp/mpserve-failover-demo.XXXXXX)
server_pid= client_pid= sampler_pid=
cleanup() {
  for pid in $client_pid $sampler_pid $server_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  "$lab" --id "$id" down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now() { date +%s.%N; }

echo "demo: two paths of $rate each: A 192.0.2.0/24, B 198.51.100.0/24"
"$lab" --id "$id" up "$rate" >/dev/null
"$lab" --id "$id" exec srv "$mpserve" --port 8000 -d "$cache/www" --progress-interval "$interval" \
  > "$work/server.out" 2> >(tee "$work/server.log" | sed -u 's/^/server: /') &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^Serving HTTP' "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
sed 's/^/server: /' "$work/server.out"
"$lab" --id "$id" exec cli "$python" "$here/path_sampler.py" "$work/paths.txt" path-a path-b &
sampler_pid=$!

echo "demo: downloading http://192.0.2.1:8000/ubuntu.iso; path A is cut at ${cut_at}s for ${cut_for}s ($cut_mode)"
start=$(now)
# Through a process substitution rather than a pipe: $! is then mpfetch itself (mplab.sh exec
# keeps the PID), so the demo waits for mpfetch's own exit status.
"$lab" --id "$id" exec cli "$mpfetch" --progress dot --progress-interval "$interval" "${replug_args[@]}" \
  http://192.0.2.1:8000/ubuntu.iso -O "$work/ubuntu.iso" > >(sed -u 's/^/client: /') 2>&1 &
client_pid=$!

cut= restored=
sleep "$cut_at"
if kill -0 "$client_pid" 2>/dev/null; then
  echo "demo: >>> cutting path A ($cut_mode) <<<"
  cut=$(now)
  "$lab" --id "$id" cut A --mode "$cut_mode"
  sleep "$cut_for"
  echo "demo: >>> restoring path A <<<"
  restored=$(now)
  "$lab" --id "$id" restore A
fi
wait "$client_pid" || { client_pid=; echo "demo: FAILED, mpfetch did not complete the download"; exit 1; }
client_pid=
end=$(now)
sleep 0.3  # the sampler's last lines
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=

echo
echo "=== summary"
actual=$(sha256sum < "$work/ubuntu.iso" | cut -d' ' -f1)
echo "SHA-256 served:     $expected"
echo "SHA-256 downloaded: $actual"
[[ $actual == "$expected" ]] || { echo "demo: FAILED, the copy differs"; exit 1; }
echo "SHA-256 verified: the copy is whole"
chart=$cache/failover-chart.svg
"$python" "$here/failover_report.py" "$work/paths.txt" --start "$start" --end "$end" \
  ${cut:+--cut "$cut"} ${restored:+--restore "$restored"} --rate "$rate" \
  --title "mpfetch from mpserve, 2 x $rate, path A cut ($cut_mode) for ${cut_for} s" --svg "$chart"
echo "what mpserve logged about the paths:"
grep -E 'subflow [0-9]+ .*(carried|stalled|carries data again|is gone)|\[pm\] (sub_established|sub_closed)' \
  "$work/server.log" | sed 's/^/  /' || true
echo "demo: OK: the download survived losing path A; chart of throughput per path: $chart"
