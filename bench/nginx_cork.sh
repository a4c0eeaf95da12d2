#!/usr/bin/env bash
# Reference check: Debian nginx serving a page-cached file on 127.0.0.1, under
# `mptcpize run` (MPTCP) and plain (TCP), with sendfile+tcp_nopush (TCP_CORK),
# sendfile without nopush, and sendfile off. Clients: curl and a Python client
# that recv_into()s a 1 MiB buffer. Needs: nginx-light (or nginx), mptcpd, curl.
#   bench/nginx_cork.sh [--size 1G] [--reps 5] [--port 18080] [--server-cpu N] [--client-cpu N]
# --server-cpu/--client-cpu pin nginx and the clients with taskset (same N = one core).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

size=1G reps=5 port=18080 scpu=() ccpu=()
while (($#)); do
  case $1 in
    --size) size=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --server-cpu) scpu=(taskset -c "$2"); shift 2 ;;
    --client-cpu) ccpu=(taskset -c "$2"); shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done
((reps >= 1 && reps <= 50)) || { echo "reps must be 1..50" >&2; exit 1; }
require_free_port "$port"

make_work_dir nginx_cork
mkdir -p "$work/www" "$work/tmp"
cached_random_file "$work/www/body.bin" "$size"
bytes=$(stat -c %s "$work/www/body.bin")

cat > "$work/get.py" <<'EOF'
import socket, sys, time
port, proto, expect = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262 if proto == "mptcp" else socket.IPPROTO_TCP)
s.settimeout(60)
s.connect(("127.0.0.1", port))
buf = bytearray(1 << 20); view = memoryview(buf); got = 0; head = b""
t0 = time.monotonic()
s.sendall(b"GET /body.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
for _ in range(10_000_000):
    n = s.recv_into(view)
    if n == 0: break
    if len(head) < 4096 and b"\r\n\r\n" not in head:
        head += bytes(view[:n]); i = head.find(b"\r\n\r\n")
        if i >= 0: got = len(head) - i - 4
        continue
    got += n
t = time.monotonic() - t0
assert got == expect, (got, expect)
print(f"{expect / t / 1e6:.0f}")
EOF

worker_cpu() {  # utime+stime of nginx's worker, in clock ticks
  local w; w=$(pgrep -P "$srv_pid" | head -1)
  awk '{print $14 + $15}' "/proc/$w/stat"
}

run_config() {  # $1=label $2=proto $3=sendfile $4=tcp_nopush
  local label=$1 proto=$2 sf=$3 np=$4 wrap=()
  [[ $proto == mptcp ]] && wrap=(mptcpize run)
  nginx_conf 1 "$sf" "$np" "" "$port" 64
  "${scpu[@]}" "${wrap[@]}" nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log" &
  srv_pid=$!
  wait_listening "$port" || true
  # kill-by-PID relies on mptcpize exec()ing nginx rather than forking it
  [[ $(cat "/proc/$srv_pid/comm" 2>/dev/null) == nginx ]] || { echo "PID $srv_pid is not nginx" >&2; exit 1; }
  if [[ $proto == mptcp ]] && ! ss -HMln "sport = :$port" | grep -q .; then
    echo "nginx listener on :$port is not MPTCP" >&2; exit 1
  fi
  local c0 curl_r=() py_r=() cap0 cap1
  c0=$(worker_cpu)
  cap0=$(nstat -saz MPTcpExtMPCapableSYNRX | awk '/MPCapableSYNRX/{print $2}')
  for ((i = 0; i < reps; i++)); do
    curl_r+=("$("${ccpu[@]}" "${wrap[@]}" curl -s -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$port/body.bin" |
      awk '{printf "%.0f", $1 / 1e6}')")
    py_r+=("$("${ccpu[@]}" python3 "$work/get.py" "$port" "$proto" "$bytes")")
  done
  cap1=$(nstat -saz MPTcpExtMPCapableSYNRX | awk '/MPCapableSYNRX/{print $2}')
  local cpu=$(( $(worker_cpu) - c0 ))
  stop_server
  med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  printf '| %s | %s | %s | %s | %s | %s | %.2f | %d |\n' "$proto" "$label" \
    "$(med "${curl_r[@]}")" "${curl_r[*]}" "$(med "${py_r[@]}")" "${py_r[*]}" \
    "$(echo "$cpu / $(getconf CLK_TCK) / (2 * $reps)" | bc -l)" $((cap1 - cap0))
}

echo "date: $(date -Is); $(nginx -v 2>&1); kernel $(uname -r); file $bytes bytes; reps $reps"
echo "pinning: server ${scpu[*]:-none}, client ${ccpu[*]:-none}"
echo "load before: $(uptime)"
echo
echo "| proto | nginx config | curl MB/s median | curl runs | python MB/s median | python runs | worker CPU s/transfer | MP_CAPABLE SYNs seen |"
echo "|---|---|---:|---|---:|---|---:|---:|"
for proto in mptcp tcp; do
  run_config "sendfile on; tcp_nopush on" "$proto" on on
  run_config "sendfile on; tcp_nopush off" "$proto" on off
  run_config "sendfile off" "$proto" off off
done
echo
echo "load after: $(uptime)"
