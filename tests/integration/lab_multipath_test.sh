#!/usr/bin/env bash
# Multipath behaviour in the two-laptop lab (lab/mplab.sh), both paths shaped to R = 100 Mbit/s;
# throughput is what the client's interfaces received (lab/path_sampler.py, the bytes the
# shaping counts), reported by lab/failover_report.py:
# - aggregation: mpfetch from mpserve reaches at least 1.8 times what one path delivers to a
#   plain TCP download (R less the headers the shaping counts, measured in the same run);
# - fallback: with --mptcp off on either side the download stays within one path's rate, and
#   both programs say the connection is plain TCP (mpfetch: "fell back" when it asked for MPTCP);
# - failover: path A blackholed mid-transfer and restored: the copy is byte-exact, both
#   programs log path A's subflow stalling (or closing), path A carries data again after the
#   restore, and the throughput returns to the aggregate before the transfer ends;
# - re-plug: the same cut with mpfetch --replug-stalled-paths: mpfetch finds path A's subflow
#   holding the download up, deletes and re-adds its endpoint, a new subflow joins over A after
#   the restore, the copy is byte-exact and the endpoints are as before;
# - total outage: both paths blackholed for longer than mpfetch's read timeout, then restored:
#   mpfetch reconnects, resumes with a range request (206) and the copy is byte-exact.
#
# usage: lab_multipath_test.sh MPSERVE MPFETCH        exit 0 pass, 1 fail, 77 skip
set -euo pipefail
MPSERVE=$(readlink -f "${1:?usage: lab_multipath_test.sh MPSERVE MPFETCH}")
MPFETCH=$(readlink -f "${2:?usage: lab_multipath_test.sh MPSERVE MPFETCH}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
LAB=$repo/lab/mplab.sh
source "$here/lib.sh"

if ! reason=$("$LAB" check 2>&1); then
  echo "SKIP: $reason"
  exit 77
fi
rate=100mbit rate_bits=100000000
# The interpreter itself, not a wrapper such as a pyenv shim: the sampler is ended by its PID.
python=$(python3 -c 'import sys; print(sys.executable)')
lab_id=mp$$
lab() { "$LAB" --id "$lab_id" "$@"; }
# What runs in the background is started by the script itself with `"$LAB" ... &`: a function
# run with & is a subshell, and its PID would not be the program's (mplab.sh exec keeps it).
make_workdir mp-lab-multipath
sampler_pid= fetch_pid= server2_pid=
cleanup_lab() {
  local pid
  for pid in $fetch_pid $sampler_pid $server2_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  cleanup_integration
  lab down >/dev/null 2>&1 || true
}
trap cleanup_lab EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
now() { date +%s.%N; }

lab up "$rate" > "$work/up.out" || fail "mplab.sh up failed: $(cat "$work/up.out")"
mkdir "$work/root"
head -c $((160 << 20)) /dev/urandom > "$work/root/big.bin"
head -c $((24 << 20)) "$work/root/big.bin" > "$work/root/small.bin"
head -c $((64 << 20)) "$work/root/big.bin" > "$work/root/medium.bin"
one_path_bps=0

"$LAB" --id "$lab_id" exec srv "$MPSERVE" --bind 192.0.2.1 --port 8080 -d "$work/root" --progress-interval 0.5 \
  > "$work/server.out" 2> "$work/server.err" &
server_pid=$!
wait_for_port "$server_pid"

start_sampler() {  # NAME: samples both paths into $work/NAME.paths until stop_sampler
  "$LAB" --id "$lab_id" exec cli "$python" "$repo/lab/path_sampler.py" "$work/$1.paths" path-a path-b --max-seconds 120 &
  sampler_pid=$!
  sleep 0.2
}
stop_sampler() {
  sleep 0.2
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=
}
# report NAME START END [REPORT ARGS]: prints the report and loads its key=value summary as r_KEY.
report() {
  local name=$1 start=$2 end=$3
  shift 3
  "$python" "$repo/lab/failover_report.py" "$work/$name.paths" --start "$start" --end "$end" \
    --rate "$rate" --summary "$work/$name.summary" "$@" | sed 's/^/info: /'
  local key value
  while IFS='=' read -r key value; do
    printf -v "r_$key" '%s' "$value"
  done < "$work/$name.summary"
}
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
fetch_args() {  # NAME URL [MPFETCH ARGS]: the client's command line, into fetch_cmd
  local name=$1 url=$2
  shift 2
  fetch_cmd=("$LAB" --id "$lab_id" exec cli timeout 100 "$MPFETCH" "$url" -O "$work/$name.copy"
             --progress dot --progress-interval 0.5 "$@")
}
fetch() {  # NAME URL [MPFETCH ARGS]: downloads into $work/NAME.copy, log in $work/NAME.err
  fetch_args "$@"
  "${fetch_cmd[@]}" 2> "$work/$1.err"
}
start_fetch() {  # as fetch, in the background: fetch_pid
  fetch_args "$@"
  "${fetch_cmd[@]}" 2> "$work/$1.err" &
  fetch_pid=$!
}

# measured_fetch NAME FILE PORT [MPFETCH ARGS]: downloads FILE with the paths sampled, checks
# the copy is byte-exact, removes it, and loads the report's figures (r_*).
measured_fetch() {
  local name=$1 file=$2 port=$3 t0 t1
  shift 3
  start_sampler "$name"
  t0=$(now)
  fetch "$name" "http://192.0.2.1:$port/$file" "$@" ||
    fail "mpfetch $* (from port $port) failed: $(tail -n3 "$work/$name.err")"
  t1=$(now)
  stop_sampler
  cmp -s "$work/root/$file" "$work/$name.copy" || fail "the copy of $file ($name) differs"
  rm -f "$work/$name.copy"
  report "$name" "$t0" "$t1"
}

# download_across_a_cut NAME [MPFETCH ARGS]: big.bin with the paths sampled, path A blackholed
# 2 s in and restored 4 s later; sets rc (mpfetch's exit), t0, cut, restored and t1.
download_across_a_cut() {
  local name=$1
  shift
  start_sampler "$name"
  t0=$(now)
  start_fetch "$name" http://192.0.2.1:8080/big.bin "$@"
  sleep 2
  kill -0 "$fetch_pid" 2>/dev/null || fail "mpfetch ended before path A could be cut"
  cut=$(now)
  lab cut A --mode blackhole > /dev/null
  sleep 4
  restored=$(now)
  lab restore A > /dev/null
  rc=0
  wait "$fetch_pid" || rc=$?
  fetch_pid=
  t1=$(now)
  stop_sampler
  return "$rc"
}

# --- fallback: --mptcp off on the server, then on the client ---
# What one path delivers to a plain TCP download is also the yardstick for aggregation: the
# interfaces count each TCP segment's payload and one set of headers per offloaded burst, while
# the shaping also counts every segment's headers, so a path delivers ~0.96 R by this count.
"$LAB" --id "$lab_id" exec srv "$MPSERVE" --bind 192.0.2.1 --port 8081 -d "$work/root" --mptcp off \
  > "$work/server2.out" 2> "$work/server2.err" &
server2_pid=$!
for _ in $(seq 100); do
  grep -q '^Serving HTTP' "$work/server2.out" 2>/dev/null && break
  sleep 0.1
done
grep -q '^Listening socket is TCP (--mptcp off)' "$work/server2.out" ||
  fail "mpserve --mptcp off does not say it listens on TCP: $(cat "$work/server2.out")"
measured_fetch server_off small.bin 8081
kill "$server2_pid"
wait "$server2_pid" 2>/dev/null || true
server2_pid=
at_least $((rate_bits * 105 / 100)) "$r_whole_bps" ||
  fail "with mpserve --mptcp off the download ran at $((r_whole_bps / 1000000)) Mbit/s, above one path"
grep -qE 'done: 24.0 MiB .*TCP \(MPTCP fell back\), 1 subflow' "$work/server_off.err" ||
  fail "mpfetch does not report that MPTCP fell back"
grep -qE 'GET /small.bin done: 24.0 MiB .*, TCP, 1 subflow' "$work/server2.err" ||
  fail "mpserve --mptcp off does not report a plain TCP transfer"
echo "ok: mpserve --mptcp off: $((r_whole_bps / 1000000)) Mbit/s (one path), mpfetch says MPTCP fell back, mpserve says TCP"
one_path_bps=$r_steady_bps

measured_fetch client_off small.bin 8080 --mptcp off
at_least $((rate_bits * 105 / 100)) "$r_whole_bps" ||
  fail "with mpfetch --mptcp off the download ran at $((r_whole_bps / 1000000)) Mbit/s, above one path"
grep -qE 'done: 24.0 MiB .*, TCP, 1 subflow' "$work/client_off.err" ||
  fail "mpfetch --mptcp off does not report a plain TCP transfer"
grep -qE 'GET /small.bin done: 24.0 MiB .*TCP \(MPTCP fell back\), 1 subflow' "$work/server.err" ||
  fail "mpserve does not report that the client's connection fell back to TCP"
echo "ok: mpfetch --mptcp off: $((r_whole_bps / 1000000)) Mbit/s (one path), both report plain TCP"
if (( r_steady_bps > one_path_bps )); then one_path_bps=$r_steady_bps; fi

# --- aggregation, against what one path delivers to plain TCP (measured above) ---
measured_fetch aggregate big.bin 8080
at_least "$r_steady_bps" $((one_path_bps * 18 / 10)) ||
  fail "both paths together reached $((r_steady_bps / 1000000)) Mbit/s, less than 1.8 x one path's $((one_path_bps / 1000000)) Mbit/s"
for p in A B; do
  v=r_bytes_$p
  (( ${!v} > 32 << 20 )) || fail "path $p carried only ${!v} bytes of 160 MiB"
done
grep -qE 'done: 160(\.0)? MiB .*MPTCP token [0-9a-f]+, [2-9] subflows' "$work/aggregate.err" ||
  fail "mpfetch's summary does not show an MPTCP connection with several subflows"
echo "ok: 160 MiB at $((r_steady_bps / 1000000)) Mbit/s over 2 x $rate (>= 1.8 x one path's $((one_path_bps / 1000000))), both paths used"

# --- failover: A blackholed at 2 s for 4 s during a 160 MiB download ---
server_lines_before=$(wc -l < "$work/server.err")
download_across_a_cut failover || fail "mpfetch exit $rc after path A was blackholed: $(tail -n3 "$work/failover.err")"
cmp -s "$work/root/big.bin" "$work/failover.copy" || fail "the copy differs after the failover"
echo "ok: 160 MiB byte-exact although path A was blackholed for 4 s"
report failover "$t0" "$t1" --cut "$cut" --restore "$restored"
tail -n +"$((server_lines_before + 1))" "$work/server.err" > "$work/failover.server.err"
for side in failover.err failover.server.err; do
  who=mpfetch
  [[ $side == failover.server.err ]] && who=mpserve
  grep -qE 'subflow [0-9]+ (192\.0\.2\.[12]:[0-9]+ -> 192\.0\.2\.[12]:[0-9]+) (stalled: no data for|is gone after)' \
    "$work/$side" || fail "$who did not log that path A's subflow stalled or closed"
  line=$(grep -m1 -E 'subflow [0-9]+ 192\.0\.2\.[12]:[0-9]+ -> 192\.0\.2\.[12]:[0-9]+ (stalled|is gone)' "$work/$side")
  echo "ok: $who: subflow${line#*   subflow}"
done
# After the restore path A carries data again: the interface counts it, and the programs say so
# (the stalled subflow resumes, or a new one joins over A).
at_least "$r_after_A_bps" $((rate_bits / 2)) ||
  fail "path A carried only $((r_after_A_bps / 1000000)) Mbit/s after the restore"
grep -qE 'subflow [0-9]+ 192\.0\.2\.2:[0-9]+ -> 192\.0\.2\.1:8080 carries data again|\[pm\] sub_established .*192\.0\.2\.2' \
  "$work/failover.err" || fail "mpfetch did not log path A carrying data again"
[[ $r_restore_recovery_s != none ]] || fail "the throughput did not return to 90% of the aggregate after the restore"
echo "ok: after the restore path A carried $((r_after_A_bps / 1000000)) Mbit/s; the aggregate was back in ${r_restore_recovery_s} s"
rm -f "$work/failover.copy"

# --- re-plug: the same cut, with mpfetch --replug-stalled-paths ---
kernel_gap=$r_cut_recovery_s
endpoints_before=$(lab exec cli ip mptcp endpoint show)
download_across_a_cut replug --replug-stalled-paths || fail "mpfetch --replug-stalled-paths exit $rc: $(tail -n3 "$work/replug.err")"
cmp -s "$work/root/big.bin" "$work/replug.copy" || fail "the copy differs after the re-plug"
report replug "$t0" "$t1" --cut "$cut" --restore "$restored"
if grep -qE '\[paths\] subflow 192\.0\.2\.2:[0-9]+ -> 192\.0\.2\.1:8080 went quiet' "$work/replug.err"; then
  grep -qE '\[paths\] re-plugged endpoint 192\.0\.2\.2 id [0-9]+ subflow' "$work/replug.err" ||
    fail "mpfetch found path A's subflow holding the download up but did not re-plug its endpoint"
  grep -qE '\[paths\] a new subflow from 192\.0\.2\.2 has joined' "$work/replug.err" ||
    fail "no new subflow joined over path A after the restore"
  replug_outcome="re-plugged path A, a new subflow joined after the restore"
else
  # The cut can fall where almost nothing was in flight on A: then the kernel's first
  # MPTCP-level retransmission fills the hole before anything waits, and there is nothing to
  # re-plug. Only a path B that never stood still excuses the missing re-plug.
  at_least 0.1 "$r_cut_silence_s" ||
    fail "path B stood still for ${r_cut_silence_s} s after the cut, and mpfetch did not re-plug path A;" \
      "what it logged about the paths:" "$(grep -E '\[paths\]|\[pm\]|stalled|subflow' "$work/replug.err" | tail -n 30)"
  replug_outcome="no re-plug needed (path B never stood still)"
fi
at_least "$r_after_A_bps" $((rate_bits / 2)) ||
  fail "path A carried only $((r_after_A_bps / 1000000)) Mbit/s after the restore"
endpoints_after=$(lab exec cli ip mptcp endpoint show)
[[ $endpoints_after == "$endpoints_before" ]] ||
  fail "the endpoints changed: before '$endpoints_before', after '$endpoints_after'"
echo "ok: $replug_outcome; byte-exact, endpoints as before, A back after the restore;" \
  "path B at 90 % after ${r_cut_recovery_s} s (${kernel_gap} s without re-plugging, above)"
rm -f "$work/replug.copy"

# --- total outage: both paths blackholed for 5 s, longer than the 2 s read timeout ---
start_sampler outage
t0=$(now)
start_fetch outage http://192.0.2.1:8080/medium.bin --read-timeout 2 --connect-timeout 1 --waitretry 1 -t 0
sleep 1
kill -0 "$fetch_pid" 2>/dev/null || fail "mpfetch ended before the paths could be cut"
lab cut A > /dev/null
lab cut B > /dev/null
sleep 5
lab restore A > /dev/null
lab restore B > /dev/null
rc=0
wait "$fetch_pid" || rc=$?
fetch_pid=
stop_sampler
(( rc == 0 )) || fail "mpfetch exit $rc after a total outage: $(tail -n3 "$work/outage.err")"
cmp -s "$work/root/medium.bin" "$work/outage.copy" || fail "the copy differs after the outage"
grep -q 'read timed out after' "$work/outage.err" || fail "mpfetch did not time out reading during the outage"
grep -q 'HTTP 206 Partial Content' "$work/outage.err" || fail "mpfetch did not resume with a range request"
grep -qE 'saved .* after [0-9]+ retr' "$work/outage.err" || fail "mpfetch's last line does not count the retries"
echo "ok: both paths out for 5 s: $(grep -m1 'read timed out' "$work/outage.err" | sed 's/^[^ ]* [a-z]* *//'); resumed with 206; byte-exact"
stop_mpserve
