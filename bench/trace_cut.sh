#!/usr/bin/env bash
# Diagnostic (not a test, not a benchmark): what happens inside the kernel while path A of the
# lab is cut under an mpserve -> mpfetch download. Every ~80 ms during the cut it records the
# server's subflows (`ss -tniM`: rto, retransmissions, unacked, notsent), both sides' MPTCP
# socket memory (`ss -tnmM`: the client's receive queue, the server's send buffer) and the
# server's MPTcpExt counters (MPTCP-level retransmissions, subflows declared stale). Then the
# usual failover report (lab/failover_report.py). docs/failover.md reads one such trace.
# Needs: root, build/bin/mpserve and mpfetch, python3, nft.
#
#   bench/trace_cut.sh [--rate 100mbit] [--size-mib 300] [--cut-at 3] [--cut-for 5]
#                      [--warm-up] [--sysctl srv|cli:KEY=VALUE]... [--out FILE]
# --warm-up: one whole download first in the same lab (the ~1.3 s gap shows far more often
# after one). --out: where the trace goes (default: a file in /tmp, named at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=lib.sh
. bench/lib.sh

rate=100mbit size_mib=300 cut_at=3 cut_for=5 warm_up=0 sysctls=() out=""
while (($#)); do
  case $1 in
    --rate) rate=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --cut-at) cut_at=$2; shift 2 ;;
    --cut-for) cut_for=$2; shift 2 ;;
    --warm-up) warm_up=1; shift ;;
    --sysctl) sysctls+=("$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done
((size_mib >= 16 && size_mib <= 4096)) || { echo "--size-mib must be 16..4096" >&2; exit 1; }
for setting in "${sysctls[@]}"; do
  [[ $setting =~ ^(srv|cli):[a-z0-9_.]+=.+$ ]] || { echo "--sysctl needs srv:KEY=VALUE or cli:KEY=VALUE" >&2; exit 1; }
done
mpserve=$(realpath build/bin/mpserve) mpfetch=$(realpath build/bin/mpfetch)
need_tools "$mpserve" "$mpfetch" python3 nft ss nstat bc
lab=$PWD/lab/mplab.sh
"$lab" check >/dev/null || { "$lab" check; exit 1; }

make_work_dir trace_cut
lab_id=trace$$
server_pid="" sampler_pid="" client_pid=""
cleanup() {
  # shellcheck disable=SC2086  # unquoted on purpose: the unset ones drop out
  stop_pids $client_pid $sampler_pid $server_pid
  "$lab" --id "$lab_id" down >/dev/null 2>&1 || true
  rm -rf -- "$work"
}
lab() { "$lab" --id "$lab_id" "$@"; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

mkdir -p "$work/www"
cached_random_file "$work/www/file.bin" "$((size_mib << 20))"
lab up "$rate" > /dev/null
for setting in "${sysctls[@]}"; do lab exec "${setting%%:*}" sysctl -qw "${setting#*:}"; done
lab exec srv "$mpserve" --port 8000 -d "$work/www" --progress-interval 0 --access-log off > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do lab exec srv ss -Hltn 'sport = :8000' | grep -q . && break; sleep 0.1; done
fetch() { lab exec cli timeout 300 "$mpfetch" -q -O "$work/copy.bin" http://192.0.2.1:8000/file.bin; }
if ((warm_up)); then fetch; rm -f "$work/copy.bin"; fi

lab exec cli python3 "$PWD/lab/path_sampler.py" "$work/paths" path-a path-b --max-seconds 600 &
sampler_pid=$!
sleep 0.2
t0=$(now)
fetch > "$work/client.log" 2>&1 &
client_pid=$!
sleep "$cut_at"
cut=$(now)
lab cut A --mode blackhole > /dev/null
trace=${out:-$(mktemp /tmp/trace_cut.XXXXXX)}
{
  echo "# trace_cut: $(date -Is), kernel $(uname -r), $rate, ${size_mib} MiB, warm-up $warm_up, sysctls: ${sysctls[*]:-none}"
  echo "# T = seconds since the cut; srv subflows: ss -tniM; srv/cli msk: ss -tnmM skmem (r: receive queue, rb: receive buffer, w: queued to send, tb: send buffer)"
  end=$(echo "$cut + $cut_for" | bc)
  while (($(echo "$(now) < $end" | bc))); do
    echo "T $(since "$cut")"
    lab exec srv ss -tniM state established '( sport = :8000 )' 2>/dev/null |
      grep -oE "^(tcp|mptcp) +[0-9]+ +[0-9]+ +[^ ]+ +[^ ]+|rto:[0-9.]+|backoff:[0-9]+|unacked:[0-9]+|retrans:[0-9/]+|notsent:[0-9]+|lastack:[0-9]+" |
      tr '\n' ' ' | sed 's/^/  srv subflows: /' || true  # none left once the download is over
    echo
    echo "  srv msk: $(lab exec srv ss -tnmM '( sport = :8000 )' 2>/dev/null | grep -A1 '^mptcp' | grep -oE 'skmem:\([^)]*\)' | head -1)"
    echo "  cli msk: $(lab exec cli ss -tnmM '( dport = :8000 )' 2>/dev/null | grep -A1 '^mptcp' | grep -oE 'skmem:\([^)]*\)' | head -1)"
    echo "  srv counters: $(lab exec srv nstat -az MPTcpExtMPTCPRetrans MPTcpExtSubflowStale MPTcpExtSubflowRecover 2>/dev/null | awk 'NR > 1 { printf "%s=%s ", $1, $2 }')"
  done
} > "$trace"
restore=$(now)
lab restore A > /dev/null
rc=0
wait "$client_pid" || rc=$?
client_pid=""
t1=$(now)
sleep 0.2
kill "$sampler_pid"; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""
intact=no
cmp -s "$work/copy.bin" "$work/www/file.bin" && intact=yes
echo "mpfetch exit $rc, copy intact: $intact"
python3 lab/failover_report.py "$work/paths" --start "$t0" --cut "$cut" --restore "$restore" --end "$t1" --rate "$rate"
echo "trace: $trace"
