#!/usr/bin/env bash
# Benchmark (not a test): multipath behaviour in the two-laptop lab (lab/mplab.sh), mpserve +
# mpfetch against nginx + curl under `mptcpize run`, in one run on the same lab:
#   path rates   what each path delivers alone to a plain TCP download (curl from nginx);
#   aggregation  the steady aggregate over both paths / the sum of the path rates (target >= 0.95);
#   cut          path A cut a few seconds in: time until the throughput is back to 90 % of the
#                surviving path's rate (target < 1 s), and the longest time below 10 % of it;
#   restore      time from the restore until it is back to 90 % of the aggregate (target < 2 s);
#   integrity    every copy's SHA-256 against the file's (target: no byte lost or corrupted).
# Throughput is what the client's interfaces received (lab/path_sampler.py, 50 ms samples),
# reduced by lab/failover_report.py: the same yardstick for every client.
# Needs: root, build/bin/mpserve and mpfetch, nginx-light, mptcpd (mptcpize), curl, python3, nft.
#
#   bench/compare_lab.sh [--rate 100mbit] [--size-mib 300] [--runs 3] [--cut-at 3] [--cut-for 5]
#                        [--mode blackhole|down] [--sysctl KEY=VALUE]... [--pairs mp,nginx]
# --sysctl sets a sysctl in both lab namespaces before the runs (e.g. net.mptcp.stale_loss_cnt=2),
# to compare what the kernel's knobs change. --pairs picks server + client pairs, to tell which
# side makes a difference: mp (mpserve + mpfetch), nginx (nginx + curl), mp-curl (mpserve +
# curl), nginx-mpfetch (nginx + mpfetch), mp-sendfile (mpserve --body-method sendfile + mpfetch),
# nginx-nocork (nginx with tcp_nopush off + curl), mp-replug and nginx-mpfetch-replug (the same
# with mpfetch --replug-stalled-paths, which re-plugs a path that holds the download up).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=lib.sh
. bench/lib.sh

rate=100mbit size_mib=300 runs=3 cut_at=3 cut_for=5 mode=blackhole pairs_arg=mp,nginx sysctls=()
while (($#)); do
  case $1 in
    --rate) rate=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --cut-at) cut_at=$2; shift 2 ;;
    --cut-for) cut_for=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --sysctl) sysctls+=("$2"); shift 2 ;;
    --pairs) pairs_arg=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done
((runs >= 1 && runs <= 10)) || { echo "--runs must be 1..10" >&2; exit 1; }
((size_mib >= 16 && size_mib <= 4096)) || { echo "--size-mib must be 16..4096" >&2; exit 1; }
[[ $mode == blackhole || $mode == down ]] || { echo "--mode must be blackhole or down" >&2; exit 1; }
IFS=, read -ra pairs <<< "$pairs_arg"
for pair in "${pairs[@]}"; do
  case $pair in mp|nginx|mp-curl|nginx-mpfetch|mp-sendfile|nginx-nocork|mp-replug|nginx-mpfetch-replug) ;; *) echo "unknown pair: $pair" >&2; exit 1 ;; esac
done
mpserve=$(realpath build/bin/mpserve) mpfetch=$(realpath build/bin/mpfetch)
need_tools "$mpserve" "$mpfetch" nginx mptcpize curl python3 nft
python=$(python3 -c 'import sys; print(sys.executable)')  # the real binary, not a pyenv shim
lab=$PWD/lab/mplab.sh sampler=$PWD/lab/path_sampler.py reporter=$PWD/lab/failover_report.py
"$lab" check >/dev/null || { "$lab" check; exit 1; }

make_work_dir compare_lab
lab_id=bench$$
sampler_pid="" client_pid="" nginx_pid="" nginx2_pid="" srv2_pid=""
stop_all() {
  # shellcheck disable=SC2086  # unquoted on purpose: the unset ones drop out
  stop_pids $client_pid $sampler_pid $nginx_pid $nginx2_pid $srv2_pid
  stop_server
  "$lab" --id "$lab_id" down >/dev/null 2>&1 || true
  rm -rf -- "$work"
}
trap stop_all EXIT
lab() { "$lab" --id "$lab_id" "$@"; }
# Background programs are started with `"$lab" --id ... &`, not through lab(): a function run
# with & is a subshell, and its PID would not be the program's (mplab.sh exec keeps it).
now() { date +%s.%N; }

mkdir -p "$work/www" "$work/tmp"
cached_random_file "$work/www/file.bin" "$((size_mib << 20))"
expected=$(sha256sum < "$work/www/file.bin" | cut -d' ' -f1)

lab up "$rate" > /dev/null
for setting in "${sysctls[@]}"; do
  for side in cli srv; do lab exec "$side" sysctl -qw "$setting"; done
done
# Both servers listen on every address, so the address the server announces is usable too.
"$lab" --id "$lab_id" exec srv "$mpserve" --port 8000 -d "$work/www" --progress-interval 0 --access-log off \
  > "$work/mpserve.out" 2>&1 &
srv_pid=$!
"$lab" --id "$lab_id" exec srv "$mpserve" --port 8002 -d "$work/www" --progress-interval 0 --access-log off \
  --body-method sendfile > "$work/mpserve-sendfile.out" 2>&1 &
srv2_pid=$!
# The same nginx without TCP_CORK (tcp_nopush off) on 8003, to tell what the cork changes.
nginx_conf 1 on off "" 8003 1024 "*"
sed "s|$work/nginx.pid|$work/nginx-nocork.pid|" "$work/nginx.conf" > "$work/nginx-nocork.conf"
nginx_conf 1 on on "" 8001 1024 "*"
"$lab" --id "$lab_id" exec srv mptcpize run nginx -c "$work/nginx.conf" > "$work/nginx.log" 2>&1 &
nginx_pid=$!
"$lab" --id "$lab_id" exec srv mptcpize run nginx -c "$work/nginx-nocork.conf" > "$work/nginx-nocork.log" 2>&1 &
nginx2_pid=$!
for _ in $(seq 100); do
  lab exec srv ss -Hltn 'sport = :8000' | grep -q . && lab exec srv ss -Hltn 'sport = :8002' | grep -q . &&
    lab exec srv ss -HMltn 'sport = :8001' | grep -q . && lab exec srv ss -HMltn 'sport = :8003' | grep -q . && break
  sleep 0.1
done
lab exec srv ss -HMltn 'sport = :8001' | grep -q . || { echo "nginx under mptcpize is not listening on MPTCP" >&2; exit 1; }

# measure NAME CUT? CLIENT-ARGS...: one download in the client namespace with the paths sampled;
# with CUT=cut, path A is cut at cut_at for cut_for seconds. Prints the report's summary line
# and leaves the figures in $work/NAME.summary; the copy's digest is checked and the copy removed.
measure() {
  local name=$1 cut=$2 t0 t1 cut_t="" restore_t="" rc=0
  shift 2
  "$lab" --id "$lab_id" exec cli "$python" "$sampler" "$work/$name.paths" path-a path-b --max-seconds 600 &
  sampler_pid=$!
  sleep 0.2
  t0=$(now)
  "$lab" --id "$lab_id" exec cli timeout 300 "$@" > "$work/$name.log" 2>&1 &
  client_pid=$!
  if [[ $cut == cut ]]; then
    sleep "$cut_at"
    if kill -0 "$client_pid" 2>/dev/null; then
      cut_t=$(now); lab cut A --mode "$mode" > /dev/null
      sleep "$cut_for"
      restore_t=$(now); lab restore A > /dev/null
    fi
  fi
  wait "$client_pid" || rc=$?
  client_pid=""
  t1=$(now)
  sleep 0.2
  kill "$sampler_pid"; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""
  local digest="-"
  [[ -f $work/copy.bin ]] && digest=$(sha256sum < "$work/copy.bin" | cut -d' ' -f1)
  rm -f "$work/copy.bin" "$work/copy.bin.part"
  "$python" "$reporter" "$work/$name.paths" --start "$t0" --end "$t1" ${cut_t:+--cut "$cut_t"} \
    ${restore_t:+--restore "$restore_t"} --rate "$rate" --summary "$work/$name.summary" > "$work/$name.report"
  echo "exit=$rc" >> "$work/$name.summary"
  echo "intact=$([[ $digest == "$expected" ]] && echo yes || echo no)" >> "$work/$name.summary"
  echo "seconds=$(echo "$t1 - $t0" | bc -l)" >> "$work/$name.summary"
}
get() { sed -n "s/^$2=//p" "$work/$1.summary"; }
mbit() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

echo "== compare_lab: $(date -Is), kernel $(uname -r), $(nproc) cpus; git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "   lab: 2 paths of $rate (tbf), file $size_mib MiB, runs $runs, cut A at ${cut_at}s for ${cut_for}s ($mode)"
echo "   sysctls: ${sysctls[*]:-(kernel defaults)}; $(lab exec srv sysctl net.mptcp.stale_loss_cnt net.mptcp.scheduler 2>/dev/null | tr '\n' ' ')"
echo "   $(nginx -v 2>&1); $(curl --version | head -1 | cut -d' ' -f1-2); mpserve/mpfetch $("$mpfetch" --version | head -1)"

# Path rates: plain TCP (no mptcpize), one path each, from nginx.
for p in A B; do
  addr=192.0.2.1
  [[ $p == B ]] && addr=198.51.100.1
  # 96 MiB are enough for a steady rate (the report takes the second half of the transfer).
  measure "path$p" nocut curl -s -r 0-$(((96 << 20) - 1)) -o "$work/copy.bin" "http://$addr:8001/file.bin"
done
path_a=$(get pathA steady_bps) path_b=$(get pathB steady_bps)
sum=$(echo "$path_a + $path_b" | bc)
echo "path rates (plain TCP, one path): A $(mbit "$path_a") Mbit/s, B $(mbit "$path_b") Mbit/s, sum $(mbit "$sum")"

client_cmd() {  # PAIR: the client's command line (words split on purpose by the caller)
  local fetch="$mpfetch -q -O $work/copy.bin" curl="mptcpize run curl -s -o $work/copy.bin"
  case $1 in
    mp) echo "$fetch http://192.0.2.1:8000/file.bin" ;;
    nginx) echo "$curl http://192.0.2.1:8001/file.bin" ;;
    mp-curl) echo "$curl http://192.0.2.1:8000/file.bin" ;;
    nginx-mpfetch) echo "$fetch http://192.0.2.1:8001/file.bin" ;;
    nginx-nocork) echo "$curl http://192.0.2.1:8003/file.bin" ;;
    mp-sendfile) echo "$fetch http://192.0.2.1:8002/file.bin" ;;
    mp-replug) echo "$fetch --replug-stalled-paths http://192.0.2.1:8000/file.bin" ;;
    nginx-mpfetch-replug) echo "$fetch --replug-stalled-paths http://192.0.2.1:8001/file.bin" ;;
  esac
}
printf '%-21s %-4s %-6s %12s %10s %10s %11s %12s %8s %5s\n' pair run kind "aggregate" efficiency "cut->90%" "below10%" "restore->90%" intact exit
for ((run = 1; run <= runs; run++)); do
  for pair in "${pairs[@]}"; do
    # shellcheck disable=SC2046  # the command line is split on purpose
    measure "$pair-agg-$run" nocut $(client_cmd "$pair")
    measure "$pair-cut-$run" cut $(client_cmd "$pair")
    agg=$(get "$pair-agg-$run" steady_bps)
    printf '%-21s %-4s %-6s %12s %10s %10s %11s %12s %8s %5s\n' "$pair" "$run" plain "$(mbit "$agg")" \
      "$(echo "scale=3; $agg / $sum" | bc)" - - - "$(get "$pair-agg-$run" intact)" "$(get "$pair-agg-$run" exit)"
    printf '%-21s %-4s %-6s %12s %10s %10s %11s %12s %8s %5s\n' "$pair" "$run" "cut" \
      "$(mbit "$(get "$pair-cut-$run" before_bps)")" - "$(get "$pair-cut-$run" cut_recovery_s)" \
      "$(get "$pair-cut-$run" cut_silence_s)" "$(get "$pair-cut-$run" restore_recovery_s)" \
      "$(get "$pair-cut-$run" intact)" "$(get "$pair-cut-$run" exit)"
  done
done

# Medians per pair, as a Markdown table for docs/benchmarks.md.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "| pair | aggregation (aggregate / sum of path rates) | cut: back to 90 % of path B | cut: longest below 10 % | restore: back to 90 % of aggregate | copies intact |"
echo "|---|---:|---:|---:|---:|---:|"
for pair in "${pairs[@]}"; do
  eff=$(for ((r = 1; r <= runs; r++)); do echo "scale=4; $(get "$pair-agg-$r" steady_bps) / $sum" | bc; done | median)
  # "none": not back before the restore; counted as the whole cut
  cutr=$(for ((r = 1; r <= runs; r++)); do get "$pair-cut-$r" cut_recovery_s; done | sed "s/^none$/$cut_for/" | median)
  sil=$(for ((r = 1; r <= runs; r++)); do get "$pair-cut-$r" cut_silence_s; done | median)
  res=$(for ((r = 1; r <= runs; r++)); do get "$pair-cut-$r" restore_recovery_s; done | grep -v none | median)
  intact=$(for ((r = 1; r <= runs; r++)); do get "$pair-agg-$r" intact; get "$pair-cut-$r" intact; done | grep -c yes || true)
  case $pair in
    mp) name="mpserve + mpfetch" ;;
    nginx) name="nginx + curl (mptcpize)" ;;
    mp-curl) name="mpserve + curl (mptcpize)" ;;
    nginx-mpfetch) name="nginx (mptcpize) + mpfetch" ;;
    mp-sendfile) name="mpserve --body-method sendfile + mpfetch" ;;
    nginx-nocork) name="nginx tcp_nopush off + curl" ;;
    mp-replug) name="mpserve + mpfetch --replug-stalled-paths" ;;
    nginx-mpfetch-replug) name="nginx (mptcpize) + mpfetch --replug-stalled-paths" ;;
  esac
  printf '| %s | %.3f | %s s | %s s | %s s | %d/%d |\n' "$name" "$eff" "$cutr" "$sil" "$res" "$intact" $((2 * runs))
done
