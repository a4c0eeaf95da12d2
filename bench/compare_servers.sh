#!/usr/bin/env bash
# Benchmark (not a test): mpserve against nginx (under `mptcpize run`) and
# `python3 -m http.server` (under `mptcpize run`), all on 127.0.0.1.
#   A) one large download over MPTCP (curl under mptcpize, body discarded): wall time, MB/s,
#      server and client CPU seconds per GiB;
#   B) 1 KiB requests with wrk at 100 connections, over TCP and under mptcpize: requests/s and
#      server CPU seconds per 100k requests, mpserve --threads N vs nginx worker_processes N
#      (Debian's config, and with open_file_cache and tcp_nopush off), plus mpserve --threads 1
#      --small-file-cache 0 to show what the cache is worth;
#   C) ratios mpserve / best of the others.
# With --lab, part A runs across the two-path lab (lab/mplab.sh) instead of loopback: the servers
# in its server namespace listening on every address, curl in the client namespace, so every
# download is an MPTCP connection with a subflow on each path (checked: at least one MP_JOIN).
# Part B stays on loopback (run it without --lab).
# Needs: build/bin/mpserve, nginx-light, mptcpd (mptcpize), curl, wrk, python3, iproute2
# (--lab: nft and tc as lab/mplab.sh check lists).
#
#   bench/compare_servers.sh [--quick] [--size 1G] [--runs 5] [--wrk-reps 2] [--wrk-duration 10]
#                            [--pin split,none] [--port 18300] [--mpserve build/bin/mpserve]
#                            [--skip-download] [--skip-rps] [--small-path 1k.bin]
#                            [--lab] [--lab-rate 100mbit] [--keep-servers]
# --quick: 128M file, 3 runs, 1 wrk rep of 3 s.
# --small-path: where the 1 KiB file lives under the served directory (default 1k.bin, directly
#   in it; e.g. a/b/1k.bin: mpserve's small-file cache checks a nested name with three system
#   calls instead of one).
# --lab: part A across the lab, both paths shaped to --lab-rate (0: unshaped veth); implies
#   --skip-rps. A 1 GiB download takes about 45 s at 2 x 100mbit, so e.g. --runs 3 --pin none.
# --keep-servers: part A starts each server once per placement and keeps it running for all
#   its downloads, as a server in service serves a popular file again and again (run 1 is a
#   fresh server's first download). Default: every download gets a freshly started server.
# --pin: placements for part A, comma-separated. split = servers on CPU 0, client on CPU 1;
#        none = no taskset. Part B runs unpinned, plus split (server CPU 0, wrk CPU 1) for
#        1 thread/worker when split is listed.
# Load: every trial first waits (at most 20 s) for < 0.3 cores busy over 0.5 s. During the trial
# it measures the CPU that *other* processes used (all busy ticks in /proc/stat minus server and
# client); above 0.25 cores the trial counts as busy and is repeated, at most 3 attempts in all.
# Statistics use the quiet trials when there are enough (A: 3, B: 1), else all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=lib.sh
. bench/lib.sh

size=1G runs=5 wrk_reps=2 wrk_dur=10 pins=split,none base_port=18300
mpserve=build/bin/mpserve do_a=1 do_b=1 small_path=1k.bin lab_rate=100mbit use_lab=0 keep_servers=0
while (($#)); do
  case $1 in
    --quick) size=128M runs=3 wrk_reps=1 wrk_dur=3; shift ;;
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --wrk-reps) wrk_reps=$2; shift 2 ;;
    --wrk-duration) wrk_dur=$2; shift 2 ;;
    --pin) pins=$2; shift 2 ;;
    --port) base_port=$2; shift 2 ;;
    --mpserve) mpserve=$2; shift 2 ;;
    --skip-download) do_a=0; shift ;;
    --small-path) small_path=$2; shift 2
      [[ $small_path =~ ^[A-Za-z0-9_][A-Za-z0-9_./-]*$ && $small_path != *..* ]] ||
        { echo "--small-path must be a relative path without '..'" >&2; exit 1; } ;;
    --skip-rps) do_b=0; shift ;;
    --lab) use_lab=1 do_b=0; shift ;;
    --lab-rate) lab_rate=$2; shift 2 ;;
    --keep-servers) keep_servers=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done
((runs >= 1 && runs <= 50)) || { echo "--runs must be 1..50" >&2; exit 1; }
((wrk_reps >= 1 && wrk_reps <= 10)) || { echo "--wrk-reps must be 1..10" >&2; exit 1; }
((wrk_dur >= 1 && wrk_dur <= 120)) || { echo "--wrk-duration must be 1..120" >&2; exit 1; }
need_tools "$mpserve" nginx mptcpize curl wrk nstat ss taskset
python=$(python3 -c 'import sys; print(sys.executable)')  # the real binary, not a pyenv shim
mpserve=$(realpath "$mpserve")

make_work_dir compare_servers
port_n=0
# srv_ns and cli_ns (bench/lib.sh): command prefixes for the lab's namespaces, empty on
# loopback. host: the address curl downloads from.
host=127.0.0.1 bind_all=0
if ((use_lab)); then
  need_tools nft tc
  lab_script=$PWD/lab/mplab.sh lab_id=bench$$
  "$lab_script" check > /dev/null || { "$lab_script" check; exit 1; }
  # the lab goes down (its namespaces deleted) on every exit, after the server is stopped
  trap 'cleanup || true; "$lab_script" --id "$lab_id" down > /dev/null 2>&1 || true' EXIT
  "$lab_script" --id "$lab_id" up "$lab_rate" > /dev/null
  srv_ns=("$lab_script" --id "$lab_id" exec srv) cli_ns=("$lab_script" --id "$lab_id" exec cli)
  host=192.0.2.1 bind_all=1
fi

mkdir -p "$work/www" "$work/tmp"
# a private copy: others may rebuild build/bin/mpserve while this runs
cp "$mpserve" "$work/mpserve"; mpserve_sum=$(sha256sum "$mpserve" | cut -c1-12); mpserve=$work/mpserve
mkdir -p "$work/www/$(dirname "$small_path")"
head -c 1024 /dev/urandom > "$work/www/$small_path"
cached_random_file "$work/www/big.bin" "$size" 2
bytes=$(stat -c %s "$work/www/big.bin")
raw_a=$work/download.tsv raw_b=$work/rps.tsv
: > "$raw_a"; : > "$raw_b"

# --- helpers (the rest are in bench/lib.sh) ------------------------------------------------
# start_server NAME CPUSET LOGLEVEL: NAME is mpserve-tN, mpserve-tdefault, nginx-wN-CFG, python;
# CPUSET empty = unpinned. Sets srv_pid and port.
start_server() {
  local name=$1 cpus=$2 level=$3 pin=() cmd=() bind=()
  [[ -n $cpus ]] && pin=(taskset -c "$cpus")
  ((bind_all)) || bind=(--bind 127.0.0.1)
  port=$((base_port + port_n % 200)); port_n=$((port_n + 1))
  require_free_port "$port"
  case $name in
    mpserve-t*)
      cmd=("$mpserve" --port "$port" "${bind[@]}" -d "$work/www" --progress-interval 0 --log-level "$level")
      local threads=${name#mpserve-t}; threads=${threads%%-*}
      [[ $threads == default ]] || cmd+=(--threads "$threads")
      [[ $name == *-nocache ]] && cmd+=(--small-file-cache 0) ;;
    nginx-*)
      local w=${name#nginx-w} addr=127.0.0.1; w=${w%%-*}
      ((bind_all)) && addr="*"
      case $name in
        *-debian) nginx_conf "$w" on on "" "$port" 1024 "$addr" ;;
        *-nopushoff) nginx_conf "$w" on off "" "$port" 1024 "$addr" ;;
        *-sendfileoff) nginx_conf "$w" off off "output_buffers 1 1m;" "$port" 1024 "$addr" ;;
        # nginx's own answer to small files: descriptors and stat results kept (trusted for
        # 30 s without a check), and no cork/uncork pair per response
        *-cached) nginx_conf "$w" on off "open_file_cache max=1000 inactive=20s; open_file_cache_valid 30s;" "$port" 1024 "$addr" ;;
      esac
      cmd=(mptcpize run nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log") ;;
    python)
      cmd=(mptcpize run "$python" -m http.server "${bind[@]}" -d "$work/www" "$port") ;;
  esac
  # mplab.sh exec keeps its PID for the program (exec), so srv_pid is the server's
  srv_log=$work/server-$name.log
  "${pin[@]}" "${srv_ns[@]}" "${cmd[@]}" > "$srv_log" 2>&1 &
  srv_pid=$!
  server_ready "$name" "$port" mpserve nginx 'python*'
}

# --- A: large download over MPTCP ----------------------------------------------------------
download_servers=(mpserve-t1 mpserve-tdefault nginx-w1-debian nginx-w1-nopushoff nginx-w1-sendfileoff python)
download_once() {  # $1=pin mode $2=rep $3=server; appends one row, sets trial_busy
  local mode=$1 rep=$2 name=$3 scpu="" ccpu=()
  [[ $mode == split ]] && { scpu=0; ccpu=(taskset -c 1); }
  wait_quiet > /dev/null  # the in-trial measurement decides "busy"
  if ((keep_servers)) && [[ -n ${kept_pid[$name]:-} ]]; then
    srv_pid=${kept_pid[$name]} port=${kept_port[$name]} srv_log=$work/server-$name.log
  else
    start_server "$name" "$scpu" info
    ((keep_servers)) && { kept_pid[$name]=$srv_pid kept_port[$name]=$port; cleanup_servers+=("$srv_pid"); }
  fi
  local pids; mapfile -t pids < <(server_pids)
  local tokens0; tokens0=$(grep -c "MPTCP token" "$srv_log" || true)
  local s0 s1 syn0 syn1 fb0 fb1 j0 j1 b0 b1 t0 t1
  # every download starts from the kernel's defaults, not the last one's ssthresh and RTT
  if ((use_lab)); then
    "${cli_ns[@]}" ip tcp_metrics flush all 2>/dev/null || true
    "${srv_ns[@]}" ip tcp_metrics flush all 2>/dev/null || true
  fi
  s0=$(proc_ticks "${pids[@]}"); syn0=$(mpc MPTcpExtMPCapableSYNACKRX); fb0=$(mpc MPTcpExtMPCapableFallbackSYNACK)
  j0=$(mpc MPTcpExtMPJoinSynAckRx)
  local TIMEFORMAT='%3U %3S'
  b0=$(cpu_busy_ticks); t0=$(now_ns)
  { time "${ccpu[@]}" "${cli_ns[@]}" mptcpize run curl -s -o /dev/null --max-time $((use_lab ? 900 : 120)) \
      -w '%{http_code} %{size_download} %{time_total}\n' "http://$host:$port/big.bin" \
      > "$work/curl.out"; } 2> "$work/curl.time"
  b1=$(cpu_busy_ticks); t1=$(now_ns)
  s1=$(proc_ticks "${pids[@]}"); syn1=$(mpc MPTcpExtMPCapableSYNACKRX); fb1=$(mpc MPTcpExtMPCapableFallbackSYNACK)
  j1=$(mpc MPTcpExtMPJoinSynAckRx)
  local code got secs cu cs
  read -r code got secs < "$work/curl.out"
  read -r cu cs < <(tail -1 "$work/curl.time")
  [[ $code == 200 && $got == "$bytes" ]] || { echo "$name: HTTP $code, $got of $bytes bytes" >&2; exit 1; }
  # mptcp = the client's SYN got an MP_CAPABLE SYN-ACK (system-wide counter, so >= 1) and no
  # SYN-ACK fallback; mpserve also names the MPTCP token of the connection in its log
  local mptcp=$(( syn1 - syn0 >= 1 && fb1 == fb0 ))
  # in the lab, MPTCP also means a second path: the client joined at least one more subflow
  ((use_lab)) && mptcp=$(( mptcp && j1 - j0 >= 1 ))
  if [[ $name == mpserve-* ]] && (( $(grep -c "MPTCP token" "$srv_log" || true) == tokens0 )); then mptcp=0; fi
  if ((keep_servers)); then srv_pid=""; else stop_server; fi
  local other; other=$(other_cores "$b0" "$b1" "$t0" "$t1" $(( s1 - s0 + $(secs_to_ticks "$cu + $cs") )))
  trial_busy=$(is_busy "$other")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\n' "$mode" "$name" "$rep" "$secs" \
    "$(( s1 - s0 ))" "$cu" "$cs" "$mptcp" "$trial_busy" "$other" >> "$raw_a"
  printf '  %-5s rep %d %-22s %6.0f MB/s  server %.2f s  client %.2f s  mptcp=%d  others %.2f cores%s\n' \
    "$mode" "$rep" "$name" "$(echo "$bytes / $secs / 1000000" | bc -l)" "$(echo "($s1 - $s0) / $tck" | bc -l)" \
    "$(echo "$cu + $cs" | bc -l)" "$mptcp" "$other" "$([[ $trial_busy == 1 ]] && echo '  BUSY')"
}
# --keep-servers: the running server of each name, and its port (cleanup_servers: stopped on exit)
declare -A kept_pid=() kept_port=()
stop_kept_servers() {
  local name
  for name in "${!kept_pid[@]}"; do srv_pid=${kept_pid[$name]}; stop_server; done
  kept_pid=() kept_port=() cleanup_servers=()
}
run_download() {
  for _ in 1 2 3; do download_once "$@"; [[ $trial_busy == 0 ]] && break; done; return 0
}

# --- B: 1 KiB requests with wrk ------------------------------------------------------------
rps_once() {  # $1=pin mode $2=proto $3=rep $4=server $5=threads
  local mode=$1 proto=$2 rep=$3 name=$4 n=$5 scpu="" wpin=() wrap=()
  [[ $mode == split ]] && { scpu=0; wpin=(taskset -c 1); }
  [[ $proto == mptcp ]] && wrap=(mptcpize run)
  wait_quiet > /dev/null  # the in-trial measurement decides "busy"
  # warn: mpserve's access log goes to the console log at info, so this turns it off (like
  # nginx's access_log off); python's per-request log lines go to a file in the temp dir
  start_server "$name" "$scpu" warn
  local pids; mapfile -t pids < <(server_pids)
  local s0 s1 syn0 syn1 b0 b1 t0 t1
  s0=$(proc_ticks "${pids[@]}"); syn0=$(mpc MPTcpExtMPCapableSYNACKRX)
  local TIMEFORMAT='%3U %3S'
  b0=$(cpu_busy_ticks); t0=$(now_ns)
  { time timeout $((wrk_dur + 30)) "${wpin[@]}" "${wrap[@]}" wrk -t2 -c100 -d"${wrk_dur}s" --timeout 5s \
      "http://127.0.0.1:$port/$small_path" > "$work/wrk.out" 2>&1; } 2> "$work/wrk.time"
  b1=$(cpu_busy_ticks); t1=$(now_ns)
  s1=$(proc_ticks "${pids[@]}"); syn1=$(mpc MPTcpExtMPCapableSYNACKRX)
  stop_server
  local reqs rps errs non2xx cu cs
  reqs=$(awk '/requests in/{print $1}' "$work/wrk.out")
  rps=$(awk '/^Requests\/sec/{print $2}' "$work/wrk.out")
  errs=$(awk '/Socket errors/{gsub(",", ""); print $4 + $6 + $8 + $10}' "$work/wrk.out")
  non2xx=$(awk '/Non-2xx/{print $NF}' "$work/wrk.out")
  read -r cu cs < <(tail -1 "$work/wrk.time")
  [[ -n $reqs && -n $rps ]] || { echo "$name: wrk failed:" >&2; cat "$work/wrk.out" >&2; exit 1; }
  # 100 connections must have been MPTCP (python closes after each request: many more)
  local mp=1
  [[ $proto == mptcp ]] && mp=$(( syn1 - syn0 >= 100 ))
  local other; other=$(other_cores "$b0" "$b1" "$t0" "$t1" $(( s1 - s0 + $(secs_to_ticks "$cu + $cs") )))
  trial_busy=$(is_busy "$other")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\n' "$mode" "$proto" "$name" "$n" "$rep" \
    "$reqs" "$rps" "$(( s1 - s0 ))" "${errs:-0}" "${non2xx:-0}" "$mp" "$(echo "$cu + $cs" | bc -l)" \
    "$trial_busy" "$other" >> "$raw_b"
  printf '  %-5s %-5s rep %d %-18s %9.0f req/s  server %.2f s  wrk %.2f s  errors %s non-2xx %s MP_CAPABLE SYN-ACKs %d  others %.2f cores%s\n' \
    "$mode" "$proto" "$rep" "$name" "$rps" "$(echo "($s1 - $s0) / $tck" | bc -l)" "$(echo "$cu + $cs" | bc -l)" \
    "${errs:-0}" "${non2xx:-0}" "$(( syn1 - syn0 ))" "$other" "$([[ $trial_busy == 1 ]] && echo '  BUSY')"
}
run_rps() {
  for _ in 1 2 3; do rps_once "$@"; [[ $trial_busy == 0 ]] && break; done; return 0
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) CPUs; $(nginx -v 2>&1);"
echo "  $(curl --version | head -1 | cut -d' ' -f1-2); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); python $("$python" -V 2>&1 | cut -d' ' -f2)"
echo "  mpserve $("$mpserve" --version 2>&1 | head -1), binary sha256 $mpserve_sum; git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git status --porcelain -- server shared 2>/dev/null | grep -q . && echo ' with uncommitted changes in server/ or shared/')"
echo "file: $bytes bytes; download runs: $runs; wrk: ${wrk_reps} x ${wrk_dur}s; pin: $pins; small file: /$small_path"
((use_lab)) && echo "part A across the two-path lab (lab/mplab.sh), paths shaped to: $lab_rate (0: unshaped); curl from $host"
echo "load before: $(uptime)"

if ((do_a)); then
  echo; echo "A) download of $bytes bytes over MPTCP (rounds interleave the servers)"
  ((keep_servers)) && echo "servers kept running across a placement's runs (run 1: a fresh server's first download)"
  for mode in ${pins//,/ }; do
    for ((rep = 1; rep <= runs; rep++)); do
      for name in "${download_servers[@]}"; do run_download "$mode" "$rep" "$name"; done
    done
    stop_kept_servers
  done
fi
if ((do_b)); then
  echo; echo "B) 1 KiB requests, wrk -t2 -c100 -d${wrk_dur}s"
  for ((rep = 1; rep <= wrk_reps; rep++)); do
    for proto in tcp mptcp; do
      for n in 1 2; do
        for srv in "mpserve-t$n" "nginx-w$n-debian" "nginx-w$n-cached"; do run_rps none "$proto" "$rep" "$srv" "$n"; done
      done
      run_rps none "$proto" "$rep" mpserve-t1-nocache 1  # what the small-file cache is worth
      [[ $rep == 1 ]] && run_rps none "$proto" "$rep" python 1
      if [[ ,$pins, == *,split,* ]]; then
        for srv in mpserve-t1 nginx-w1-debian nginx-w1-cached; do run_rps split "$proto" "$rep" "$srv" 1; done
      fi
    done
  done
fi
echo; echo "load after: $(uptime)"

# --- C: tables and ratios ------------------------------------------------------------------
where="on 127.0.0.1"
((use_lab)) && where="across the two-path lab, paths $([[ $lab_rate == 0 ]] && echo unshaped || echo "of $lab_rate each"), MPTCP runs = with a joined second path"
"$python" - "$raw_a" "$raw_b" "$bytes" "$tck" "$where" <<'EOF'
import csv, statistics as st, sys
raw_a, raw_b, size, tck, where = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
gib = size / 2**30
rows = lambda p: [r for r in csv.reader(open(p), delimiter="\t")]
def pick(rs, busy_col, need):  # the quiet trials if there are enough of them
    quiet = [r for r in rs if r[busy_col] == "0"]
    return (quiet if len(quiet) >= need else rs), f"{len(quiet)}/{len(rs)}"
label = {"mpserve-t1": "mpserve --threads 1", "mpserve-tdefault": "mpserve (default threads = 2)",
         "mpserve-t2": "mpserve --threads 2", "mpserve-t1-nocache": "mpserve --threads 1 --small-file-cache 0",
         "nginx-w1-cached": "nginx w1: open_file_cache, tcp_nopush off", "nginx-w2-cached": "nginx w2: open_file_cache, tcp_nopush off",
         "nginx-w1-debian": "nginx w1: sendfile on; tcp_nopush on", "nginx-w2-debian": "nginx w2: sendfile on; tcp_nopush on",
         "nginx-w1-nopushoff": "nginx w1: sendfile on; tcp_nopush off",
         "nginx-w1-sendfileoff": "nginx w1: sendfile off; output_buffers 1 1m", "python": "python3 -m http.server"}
ratios = []
A = rows(raw_a)
if A:
    print("\n### A) download over MPTCP %s, %d MiB, curl under mptcpize (MB = 10^6 bytes)" % (where, size >> 20))
    for mode in dict.fromkeys(r[0] for r in A):
        print(f"\npin: {mode}" + (" (servers on CPU 0, curl on CPU 1)" if mode == "split" else " (no taskset)"))
        print("\n| server | wall s median | min | max | MB/s median | MB/s per run | server CPU s/GiB | client CPU s/GiB | MPTCP runs | quiet/all |")
        print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
        res = {}
        for name in dict.fromkeys(r[1] for r in A if r[0] == mode):
            rs, qa = pick([r for r in A if r[0] == mode and r[1] == name], 8, 3)
            t = [float(r[3]) for r in rs]; n = len(rs)
            scpu = sum(int(r[4]) for r in rs) / tck / (n * gib)
            ccpu = sum(float(r[5]) + float(r[6]) for r in rs) / (n * gib)
            mbs = size / st.median(t) / 1e6
            res[name] = (mbs, scpu)
            print(f"| {label[name]} | {st.median(t):.3f} | {min(t):.3f} | {max(t):.3f} | {mbs:.0f} "
                  f"| {' '.join(f'{size / x / 1e6:.0f}' for x in t)} | {scpu:.2f} | {ccpu:.2f} "
                  f"| {sum(int(r[7]) for r in rs)}/{n} | {qa} |")
        others = {k: v for k, v in res.items() if not k.startswith("mpserve")}
        fast = max(others, key=lambda k: others[k][0]); lean = min(others, key=lambda k: others[k][1])
        for m in (k for k in res if k.startswith("mpserve")):
            ratios.append((f"A {mode}: {label[m]} MB/s / fastest other ({label[fast]})", res[m][0] / others[fast][0], "> 1"))
            ratios.append((f"A {mode}: {label[m]} CPU s/GiB / leanest other ({label[lean]})", res[m][1] / others[lean][1], "<= 1"))
B = rows(raw_b)
if B:
    print("\n### B) 1 KiB file, wrk -t2 -c100 (keep-alive); CPU per 100k requests")
    print("\n| pin | client | server | threads/workers | req/s per rep | req/s mean | server CPU s/100k | wrk CPU s/100k | errors | non-2xx | MPTCP ok | quiet/all |")
    print("|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    res = {}
    for key in dict.fromkeys((r[0], r[1], r[2], r[3]) for r in B):
        rs, qa = pick([r for r in B if tuple(r[:4]) == key], 12, 1)
        rps = [float(r[6]) for r in rs]; reqs = sum(int(r[5]) for r in rs)
        cpu = sum(int(r[7]) for r in rs) / tck / reqs * 1e5
        ccpu = sum(float(r[11]) for r in rs) / reqs * 1e5
        res[key] = (st.mean(rps), cpu)
        client = "wrk (TCP)" if key[1] == "tcp" else "mptcpize wrk (MPTCP)"
        print(f"| {key[0]} | {client} | {label[key[2]]} | {key[3]} | {' '.join(f'{x:.0f}' for x in rps)} | {st.mean(rps):.0f} "
              f"| {cpu:.2f} | {ccpu:.2f} | {sum(int(r[8]) for r in rs)} | {sum(int(r[9]) for r in rs)} "
              f"| {sum(int(r[10]) for r in rs)}/{len(rs)} | {qa} |")
    for (pin, proto, name, n), (rps, cpu) in res.items():
        if not name.startswith("mpserve"): continue
        others = {k: v for k, v in res.items() if k[0] == pin and k[1] == proto and k[3] == n and not k[2].startswith("mpserve")}
        if not others: continue
        fast = max(others, key=lambda k: others[k][0]); lean = min(others, key=lambda k: others[k][1])
        ratios.append((f"B {pin} {proto} n={n}: {label[name]} req/s / best other ({label[fast[2]]})", rps / others[fast][0], "> 1"))
        ratios.append((f"B {pin} {proto} n={n}: {label[name]} CPU s/100k req / leanest other ({label[lean[2]]})", cpu / others[lean][1], "<= 1"))
if ratios:
    print("\n### C) ratios, mpserve / best of the others")
    print("\n| comparison | ratio | target | met |\n|---|---:|---|---|")
    for what, r, target in ratios:
        met = r > 1 if target == "> 1" else r <= 1
        print(f"| {what} | {r:.2f} | {target} | {'yes' if met else 'no'} |")
EOF
