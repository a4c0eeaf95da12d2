#!/usr/bin/env bash
# Benchmark (not a test): mpfetch vs `mptcpize run curl` vs `mptcpize run wget`, each downloading
# one large page-cached random file from nginx (under `mptcpize run`) over MPTCP on 127.0.0.1.
# Wall time and client CPU seconds (user+sys of the client process tree), into a file on disk
# (the realistic case) and into /dev/null (the network path alone), then ratios mpfetch / curl
# and mpfetch / wget. Needs: build/bin/mpfetch, nginx-light, mptcpd (mptcpize), curl, wget,
# iproute2 (nstat, ss), coreutils sync, python3.
#
#   bench/compare_clients.sh [--quick] [--size 1G] [--runs 5] [--pin split,none] [--port 18500]
#                            [--mpfetch build/bin/mpfetch] [--strace] [--variants LIST]
# --quick: 256M file, 3 runs.
# --pin: placements, comma-separated. split = nginx on CPU 0, client on CPU 1; none = no taskset.
# --strace: afterwards, one more download per client under `strace -f -c` (counts syscalls; not timed).
# --variants: comma-separated subset of mpfetch-file,mpfetch-stdout,curl-file,wget-file,
#   mpfetch-null,curl-null,wget-null (default all); e.g. more runs of mpfetch and curl without
#   wget, whose kernel stalls under mptcpize can take minutes per download.
# Into a file, mpfetch writes NAME.part, fsyncs and renames; curl and wget do neither. So every
# file trial runs `sync FILE` (an fsync of that file) right after the client and times it apart:
# tables show each client alone and "+ sync". `mpfetch -O - > FILE` (stdout, no fsync, no rename)
# is measured too, as the like-for-like of plain curl/wget. /dev/null is opened directly by all three.
# Load: as bench/compare_servers.sh. Every trial first waits (at most 20 s) for < 0.3 cores busy
# over 0.5 s; during the trial it measures the CPU of *other* processes (busy ticks in /proc/stat
# minus nginx, the client, the sync and kernel threads); above 0.25 cores the trial counts as busy
# and is repeated, at most 3 attempts in all. Statistics use the quiet trials when there are at
# least 3, else all of them. Kernel-thread CPU (writeback, jbd2, ksoftirqd) is reported apart.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=lib.sh
. bench/lib.sh

size=1G runs=5 pins=split,none base_port=18500 mpfetch=build/bin/mpfetch do_strace=0 variants_arg=""
while (($#)); do
  case $1 in
    --quick) size=256M runs=3; shift ;;
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --pin) pins=$2; shift 2 ;;
    --port) base_port=$2; shift 2 ;;
    --mpfetch) mpfetch=$2; shift 2 ;;
    --strace) do_strace=1; shift ;;
    --variants) variants_arg=$2; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done
((runs >= 1 && runs <= 50)) || { echo "--runs must be 1..50" >&2; exit 1; }
need_tools "$mpfetch" nginx mptcpize curl wget nstat ss ip shuf taskset sync sha256sum bc python3
((do_strace == 0)) || command -v strace >/dev/null || { echo "missing: strace" >&2; exit 1; }
python=$(python3 -c 'import sys; print(sys.executable)')

make_work_dir compare_clients
port=""

mkdir -p "$work/www" "$work/tmp" "$work/out"
# a private copy: others may rebuild build/bin/mpfetch while this runs
mpfetch_sum=$(sha256sum "$mpfetch" | cut -c1-12); cp "$mpfetch" "$work/mpfetch"; mpfetch=$work/mpfetch
cached_random_file "$work/www/big.bin" "$size" 2
bytes=$(stat -c %s "$work/www/big.bin")
src_sum=$(sha256sum "$work/www/big.bin" | cut -d' ' -f1)
out=$work/out/big.bin raw=$work/trials.tsv
: > "$raw"
declare -A sha_checked=()

# --- helpers (the rest are in bench/lib.sh) ------------------------------------------------
kthread_ticks() {  # utime+stime of all kernel threads (children of kthreadd), in clock ticks
  # the comm field may hold spaces: fields are counted after its closing parenthesis
  { awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); if (f[2] == 2) t += f[12] + f[13] }
         END { print t + 0 }' /proc/[0-9]*/stat 2>/dev/null || true; } | tail -1
}
# start_server CPUSET: nginx with the config that was fastest for MPTCP in docs/benchmarks.md
# (copying through a 1 MiB buffer: MPTCP has no zero-copy sendfile). CPUSET empty = unpinned.
start_server() {
  local pin=()
  [[ -n $1 ]] && pin=(taskset -c "$1")
  port=$base_port
  require_free_port "$port"
  nginx_conf 1 off off "output_buffers 1 1m;" "$port"
  "${pin[@]}" mptcpize run nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log" \
    > "$work/server.log" 2>&1 &
  srv_pid=$!
  server_ready nginx "$port" nginx
}
url() { echo "http://127.0.0.1:$port/big.bin"; }

# client_cmd VARIANT: sets cmd (argv) and stdout_to (where the client's stdout goes)
client_cmd() {
  local sink=$out; [[ $1 == *-null ]] && sink=/dev/null
  stdout_to=$work/client.out
  case $1 in
    mpfetch-file|mpfetch-null) cmd=("$mpfetch" -q -t 1 -T 120 -O "$sink" "$(url)") ;;
    mpfetch-stdout) cmd=("$mpfetch" -q -t 1 -T 120 -O - "$(url)"); stdout_to=$out ;;
    curl-*) cmd=(mptcpize run curl -s --max-time 120 -o "$sink" -w '%{http_code} %{size_download}\n' "$(url)") ;;
    wget-*) cmd=(mptcpize run wget -q --tries=1 --timeout=120 -O "$sink" "$(url)") ;;
  esac
}
label_of() {
  case $1 in
    mpfetch-file) echo "mpfetch -q -O FILE (fsync + rename)" ;;
    mpfetch-stdout) echo "mpfetch -q -O - > FILE (no fsync)" ;;
    mpfetch-null) echo "mpfetch -q -O /dev/null" ;;
    curl-file) echo "mptcpize run curl -s -o FILE" ;;
    curl-null) echo "mptcpize run curl -s -o /dev/null" ;;
    wget-file) echo "mptcpize run wget -q -O FILE" ;;
    wget-null) echo "mptcpize run wget -q -O /dev/null" ;;
  esac
}
variants=(mpfetch-file mpfetch-stdout curl-file wget-file mpfetch-null curl-null wget-null)
if [[ -n $variants_arg ]]; then
  IFS=, read -ra chosen <<< "$variants_arg"
  for v in "${chosen[@]}"; do
    [[ " ${variants[*]} " == *" $v "* ]] || { echo "unknown variant: $v" >&2; exit 1; }
  done
  variants=("${chosen[@]}")
fi

# --- one trial --------------------------------------------------------------------------------
trial() {  # $1=pin mode $2=rep $3=variant; appends one row, sets trial_busy
  local mode=$1 rep=$2 v=$3 pin=()
  [[ $mode == split ]] && pin=(taskset -c 1)
  rm -f -- "$out" "$out.part"
  sync -f "$work/out"  # the previous trial's unlink (and its discard) is not this trial's cost
  forget_loopback_tcp_metrics
  wait_quiet > /dev/null  # the in-trial measurement decides "busy"
  local cmd=() stdout_to; client_cmd "$v"
  local pids; mapfile -t pids < <(server_pids)
  local s0 s1 k0 k1 syn0 syn1 fb0 fb1 b0 b1 t0 t1 rc=0 TIMEFORMAT='%3R %3U %3S'
  syn0=$(mpc MPTcpExtMPCapableSYNACKRX); fb0=$(mpc MPTcpExtMPCapableFallbackSYNACK)
  local rtx0 rtx1; rtx0=$(mpc MPTcpExtMPTCPRetrans)
  k0=$(kthread_ticks); s0=$(proc_ticks "${pids[@]}")
  b0=$(cpu_busy_ticks); t0=$(now_ns)
  { time "${pin[@]}" "${cmd[@]}" > "$stdout_to" 2> "$work/client.err"; } 2> "$work/client.time" || rc=$?
  local sw=0 su=0 ss_=0
  if [[ $v != *-null && $rc == 0 ]]; then
    { time "${pin[@]}" sync "$out"; } 2> "$work/sync.time"
    read -r sw su ss_ < <(tail -1 "$work/sync.time")
  fi
  b1=$(cpu_busy_ticks); t1=$(now_ns)
  s1=$(proc_ticks "${pids[@]}"); k1=$(kthread_ticks)
  syn1=$(mpc MPTcpExtMPCapableSYNACKRX); fb1=$(mpc MPTcpExtMPCapableFallbackSYNACK)
  rtx1=$(mpc MPTcpExtMPTCPRetrans)
  local wall cu cs
  read -r wall cu cs < <(tail -1 "$work/client.time")
  ((rc == 0)) || { echo "$v: exit $rc:" >&2; cat "$work/client.err" "$work/client.out" >&2; exit 1; }
  if [[ $v == curl-* ]]; then
    local code got; read -r code got < "$work/client.out"
    [[ $code == 200 && $got == "$bytes" ]] || { echo "$v: HTTP $code, $got of $bytes bytes" >&2; exit 1; }
  fi
  if [[ $v != *-null ]]; then
    local have; have=$(stat -c %s "$out")
    [[ $have == "$bytes" ]] || { echo "$v: $out has $have of $bytes bytes" >&2; exit 1; }
    if [[ -z ${sha_checked[$v]:-} ]]; then
      [[ $(sha256sum "$out" | cut -d' ' -f1) == "$src_sum" ]] || { echo "$v: sha256 mismatch" >&2; exit 1; }
      sha_checked[$v]=1
    fi
  fi
  # MPTCP = the client's SYN got an MP_CAPABLE SYN-ACK and no SYN-ACK fallback (system-wide counters)
  local mptcp=$(( syn1 - syn0 >= 1 && fb1 == fb0 ))
  local ours=$(( s1 - s0 + k1 - k0 + $(secs_to_ticks "$cu + $cs + $su + $ss_") ))
  local other; other=$(other_cores "$b0" "$b1" "$t0" "$t1" "$ours")
  trial_busy=$(is_busy "$other")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\n' "$mode" "$v" "$rep" "$wall" "$cu" "$cs" \
    "$sw" "$su" "$ss_" "$(( s1 - s0 ))" "$(( k1 - k0 ))" "$mptcp" "$trial_busy" "$other" >> "$raw"
  # MPTCP-level retransmissions (system-wide; each is a ~200 ms stall of the sender's timer)
  printf '  %-5s rep %d %-15s %6.3f s %5.0f MB/s  client %.2f s%s  nginx %.2f s  kthreads %.2f s  mptcp=%d  mptcp_rtx=%d  others %.2f cores%s\n' \
    "$mode" "$rep" "$v" "$wall" "$(echo "$bytes / $wall / 1000000" | bc -l)" "$(echo "$cu + $cs" | bc -l)" \
    "$([[ $v == *-null ]] || printf '  + sync %.3f s (cpu %.2f s)' "$sw" "$(echo "$su + $ss_" | bc -l)")" \
    "$(echo "($s1 - $s0) / $tck" | bc -l)" "$(echo "($k1 - $k0) / $tck" | bc -l)" "$mptcp" "$((rtx1 - rtx0))" "$other" \
    "$([[ $trial_busy == 1 ]] && echo '  BUSY')"
}
run_trial() {
  for _ in 1 2 3; do trial "$@"; [[ $trial_busy == 0 ]] && break; done; return 0
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) CPUs; $(nginx -v 2>&1)"
echo "  $(curl --version | head -1 | cut -d' ' -f1-2); $(wget --version | head -1 | cut -d' ' -f1-3)"
echo "  mpfetch $("$mpfetch" --version 2>&1 | head -1), binary sha256 $mpfetch_sum; git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git status --porcelain -- fetch shared 2>/dev/null | grep -q . && echo ' with uncommitted changes in fetch/ or shared/')"
echo "file: $bytes bytes, sha256 ${src_sum:0:12}; runs: $runs; pin: $pins; output under $work/out ($(df --output=fstype "$work/out" | tail -1 | tr -d ' '))"
echo "load before: $(uptime)"

for mode in ${pins//,/ }; do
  scpu=""; [[ $mode == split ]] && scpu=0
  start_server "$scpu"
  echo; echo "pin: $mode, nginx PID $srv_pid on :$port"
  for ((rep = 1; rep <= runs; rep++)); do
    # A new random order each round: no client always runs first or after the same one (a
    # rotation keeps every client after the same neighbour).
    mapfile -t order < <(printf '%s\n' "${variants[@]}" | shuf)
    echo "  round $rep order: ${order[*]}"
    for v in "${order[@]}"; do run_trial "$mode" "$rep" "$v"; done
  done
  stop_server
done
rm -f -- "$out" "$out.part"
echo; echo "load after: $(uptime)"

if ((do_strace)); then
  start_server ""
  echo; echo "strace -f -c, one download each (unpinned; strace slows the client, so times mean nothing):"
  for v in "${variants[@]}"; do
    [[ $v == mpfetch-stdout ]] && continue  # the same client as mpfetch-file
    rm -f -- "$out" "$out.part"
    client_cmd "$v"
    strace -f -c -o "$work/strace.txt" "${cmd[@]}" > "$stdout_to" 2> /dev/null
    echo; echo "  $(label_of "$v"): top syscalls by count"
    awk 'NR > 2 && $1 !~ /^-/ && $NF != "total" {printf "%10d  %s\n", $4, $NF}' "$work/strace.txt" \
      | sort -nr | head -8 | sed 's/^/    /'
    echo "    total: $(awk '$NF == "total" {print $4}' "$work/strace.txt") calls"
  done
  rm -f -- "$out" "$out.part"
  stop_server
fi

# --- tables and ratios --------------------------------------------------------------------------
labels=""; for v in "${variants[@]}"; do labels+="$v=$(label_of "$v");"; done
"$python" - "$raw" "$bytes" "$tck" "$labels" <<'EOF'
import csv, statistics as st, sys
raw, size, tck = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
label = dict(kv.split("=", 1) for kv in sys.argv[4].split(";") if kv)
R = [r for r in csv.reader(open(raw), delimiter="\t")]
def pick(rs):  # the quiet trials if there are at least 3 of them
    quiet = [r for r in rs if r[12] == "0"]
    return (quiet if len(quiet) >= 3 else rs), f"{len(quiet)}/{len(rs)}"
mmm = lambda xs: f"{st.median(xs):.3f} ({min(xs):.3f}–{max(xs):.3f})"
ratios = []
for mode in dict.fromkeys(r[0] for r in R):
    where = "nginx on CPU 0, client on CPU 1" if mode == "split" else "no taskset"
    res = {}
    for sink in ("file", "null"):
        vs = [v for v in dict.fromkeys(r[1] for r in R if r[0] == mode) if (v.endswith("-null")) == (sink == "null")]
        if not vs: continue
        print(f"\n### {'into a file on disk' if sink == 'file' else 'into /dev/null'}, pin {mode} ({where}); "
              f"{size >> 20} MiB, medians (min–max), MB = 10^6 bytes")
        if sink == "file":
            print("\n| client | wall s | MB/s | client CPU s | + `sync FILE`: wall s | + sync: CPU s | nginx CPU s | kernel threads CPU s | MPTCP | quiet/all |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        else:
            print("\n| client | wall s | MB/s | client CPU s | nginx CPU s | kernel threads CPU s | MPTCP | quiet/all |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for v in vs:
            rs, qa = pick([r for r in R if r[0] == mode and r[1] == v])
            wall = [float(r[3]) for r in rs]
            cpu = [float(r[4]) + float(r[5]) for r in rs]
            wall_s = [float(r[3]) + float(r[6]) for r in rs]
            cpu_s = [float(r[4]) + float(r[5]) + float(r[7]) + float(r[8]) for r in rs]
            srv = st.median(int(r[9]) / tck for r in rs); kth = st.median(int(r[10]) / tck for r in rs)
            res[v] = dict(wall=st.median(wall), cpu=st.median(cpu), wall_s=st.median(wall_s), cpu_s=st.median(cpu_s))
            mp = f"{sum(int(r[11]) for r in rs)}/{len(rs)}"
            if sink == "file":
                print(f"| {label[v]} | {mmm(wall)} | {size / st.median(wall) / 1e6:.0f} | {mmm(cpu)} | {mmm(wall_s)} "
                      f"| {mmm(cpu_s)} | {srv:.2f} | {kth:.2f} | {mp} | {qa} |")
            else:
                print(f"| {label[v]} | {mmm(wall)} | {size / st.median(wall) / 1e6:.0f} | {mmm(cpu)} | {srv:.2f} | {kth:.2f} | {mp} | {qa} |")
    def add(what, a, ka, b, kb):
        if a in res and b in res:
            ratios.append((mode, what, res[a]["wall" + ka] / res[b]["wall" + kb], res[a]["cpu" + ka] / res[b]["cpu" + kb]))
    for other in ("curl", "wget"):
        add(f"/dev/null: mpfetch / {other}", "mpfetch-null", "", f"{other}-null", "")
        add(f"file: mpfetch (fsync) / {other} (no sync)", "mpfetch-file", "", f"{other}-file", "")
        add(f"file: mpfetch (fsync) / {other} + sync FILE", "mpfetch-file", "", f"{other}-file", "_s")
        add(f"file: mpfetch -O - > FILE / {other} (neither syncs)", "mpfetch-stdout", "", f"{other}-file", "")
        add(f"file: mpfetch -O - > FILE + sync / {other} + sync", "mpfetch-stdout", "_s", f"{other}-file", "_s")
if ratios:
    print("\n### ratios of medians (target: mpfetch no slower than curl and with no more CPU, i.e. both <= 1)")
    print("\n| pin | comparison | wall ratio | CPU ratio | target met |\n|---|---|---:|---:|---|")
    for mode, what, w, c in ratios:
        print(f"| {mode} | {what} | {w:.2f} | {c:.2f} | {'yes' if w <= 1 and c <= 1 else 'no'} |")
EOF
