#!/usr/bin/env bash
# Load script (bounded; not part of ./run.sh test): mpserve on 127.0.0.1 under
#   - wrk: 1,000 keep-alive connections asking for a 1 KiB file for --seconds (default 30), and
#   - at the same time --downloads (default 50) concurrent downloads of a --size (default 1G)
#     file by curl under `mptcpize run` (so MPTCP, and mpserve's copy buffers), each bounded by
#     --download-timeout (default 600 s).
# Prints what docs/reliability.md records: wrk's requests, errors and non-2xx answers; how
# many downloads finished whole; mpserve's descriptors before, at the peak and after; its peak
# resident memory (sampled every 0.2 s); and checks them: no failed request, no failed download,
# descriptors back to the baseline, peak memory within --max-rss-mib (default 512).
# Needs: build/bin/mpserve, wrk, curl, mptcpize (mptcpd), ss.
#
#   bench/load_test.sh [--seconds 30] [--connections 1000] [--downloads 50] [--size 1G]
#                      [--max-rss-mib 512] [--download-timeout 600] [--port 18700]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=lib.sh
. bench/lib.sh

seconds=30 connections=1000 downloads=50 size=1G max_rss_mib=512 download_timeout=600 port=18700
mpserve=build/bin/mpserve
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --downloads) downloads=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --max-rss-mib) max_rss_mib=$2; shift 2 ;;
    --download-timeout) download_timeout=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --mpserve) mpserve=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done
for n in "$seconds" "$connections" "$downloads" "$max_rss_mib" "$download_timeout"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "not a number: $n" >&2; exit 1; }
done
((seconds >= 1 && seconds <= 600)) || { echo "--seconds: 1..600" >&2; exit 1; }
((connections >= 1 && connections <= 10000)) || { echo "--connections: 1..10000" >&2; exit 1; }
((downloads <= 200)) || { echo "--downloads: 0..200" >&2; exit 1; }
((download_timeout >= 10 && download_timeout <= 3600)) || { echo "--download-timeout: 10..3600" >&2; exit 1; }
need_tools "$mpserve" wrk curl mptcpize ss
ulimit -n $((connections + downloads + 1024))  # for wrk; mpserve takes its hard limit itself
make_work_dir load_test
mkdir -p "$work/www"
head -c 1024 /dev/urandom > "$work/www/1k.bin"
cached_random_file "$work/www/big.bin" "$size"
bytes=$(stat -c %s "$work/www/big.bin")
require_free_port "$port"

"$mpserve" --port "$port" --bind 127.0.0.1 -d "$work/www" --progress-interval 0 --log-level warn \
  --access-log off > "$work/server.log" 2>&1 &
srv_pid=$!
wait_listening "$port" || { cat "$work/server.log" >&2; exit 1; }
# Warm-up: each worker thread's event loop makes its epoll, eventfd and timerfd on its first
# connection; the baseline is taken after every worker has had one.
for _ in $(seq $(($(nproc) * 2))); do curl -s -o /dev/null "http://127.0.0.1:$port/1k.bin"; done
sleep 0.2
fds() { find "/proc/$srv_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$srv_pid/status"; }
fd_before=$(fds) rss_before=$(rss_kib)
fd_list() { find "/proc/$srv_pid/fd" -mindepth 1 -maxdepth 1 -printf '%f %l\n' 2>/dev/null | sort; }
fd_list > "$work/fds.before"

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) CPUs; git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "load: wrk -c$connections for ${seconds}s on a 1 KiB file + $downloads x $bytes-byte downloads (curl under mptcpize)"
echo "mpserve before: $fd_before descriptors, $((rss_before / 1024)) MiB resident"

# Samples every 0.2 s until told to stop: peak descriptors and resident memory.
: > "$work/samples"
( while [[ ! -e $work/stop-sampling ]] && kill -0 "$srv_pid" 2>/dev/null; do
    echo "$(fds) $(rss_kib)" >> "$work/samples"; sleep 0.2
  done ) &
sampler=$!

download_pids=()
for ((i = 0; i < downloads; i++)); do
  mptcpize run curl -sS -o /dev/null --max-time "$download_timeout" -w '%{http_code} %{size_download}\n' \
    "http://127.0.0.1:$port/big.bin" > "$work/download.$i" 2>&1 &
  download_pids+=($!)
done
timeout $((seconds + 60)) wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s "http://127.0.0.1:$port/1k.bin" \
  > "$work/wrk.out" 2>&1 || true
failed_downloads=0
for ((i = 0; i < downloads; i++)); do
  wait "${download_pids[$i]}" || true
  [[ $(cat "$work/download.$i") == "200 $bytes" ]] || failed_downloads=$((failed_downloads + 1))
done
touch "$work/stop-sampling"; wait "$sampler" || true

# After every client is gone the server should hold what it held before.
fd_after=$(fds)
for _ in $(seq 50); do ((fd_after <= fd_before)) && break; sleep 0.2; fd_after=$(fds); done
fd_peak=$(awk '$1 > m {m = $1} END {print m + 0}' "$work/samples")
rss_peak=$(awk '$2 > m {m = $2} END {print m + 0}' "$work/samples")
requests=$(awk '/requests in/{print $1}' "$work/wrk.out")
rps=$(awk '/^Requests\/sec/{print $2}' "$work/wrk.out")
socket_errors=$(awk '/Socket errors/{gsub(",", ""); print $4 + $6 + $8 + $10}' "$work/wrk.out")
non2xx=$(awk '/Non-2xx/{print $NF}' "$work/wrk.out")
alive=1; kill -0 "$srv_pid" 2>/dev/null || alive=0

echo "wrk: ${requests:-?} requests (${rps:-?}/s), socket errors ${socket_errors:-0}, non-2xx ${non2xx:-0}"
echo "downloads: $((downloads - failed_downloads)) of $downloads whole"
echo "mpserve: descriptors $fd_before before, $fd_peak at the peak, $fd_after after; resident memory" \
  "$((rss_before / 1024)) MiB before, $((rss_peak / 1024)) MiB at the peak; still running: $alive"
status=0
[[ -n $requests ]] || { echo "FAIL: wrk did not run:"; cat "$work/wrk.out"; status=1; }
((${socket_errors:-0} == 0 && ${non2xx:-0} == 0)) || { echo "FAIL: failed requests"; status=1; }
((failed_downloads == 0)) || { echo "FAIL: $failed_downloads downloads failed"; status=1; }
if ((fd_after > fd_before)); then
  echo "FAIL: descriptors leaked ($fd_before -> $fd_after); new ones, and the port's sockets:"
  fd_list | comm -13 "$work/fds.before" -
  ss -tanMH "( sport = :$port )" | awk '{print $1}' | sort | uniq -c
  status=1
fi
((rss_peak / 1024 <= max_rss_mib)) || { echo "FAIL: peak memory over $max_rss_mib MiB"; status=1; }
((alive)) || { echo "FAIL: mpserve died:"; tail -20 "$work/server.log"; status=1; }
((status == 0)) && echo "load: OK"
exit "$status"
