#!/usr/bin/env bash
# Benchmark (not a test): one large download over HTTPS on 127.0.0.1, every pairing of
#   servers: mpserve, nginx (Debian's defaults: sendfile on, tcp_nopush on; under
#            `mptcpize run` for MPTCP)
#   clients: curl (under `mptcpize run` for MPTCP), mpfetch
# over MPTCP and over plain TCP (mpserve/mpfetch --mptcp off, nginx and curl as they are).
# Same certificate (ECDSA P-256, made here with a throwaway CA) and the same TLS 1.3 suite
# (TLS_AES_256_GCM_SHA384, what both clients pick); bodies go to /dev/null. The pairings run
# in a new random order each round, and the loopback TCP metrics are forgotten before each.
# Prints per pairing the median wall time, server and client CPU seconds per GiB, then the
# ratios the issue asks for: mpserve/nginx with curl, mpfetch/curl against nginx.
# Needs: build/bin/mpserve, build/bin/mpfetch, nginx-light, mptcpd (mptcpize), curl, openssl.
#
#   bench/compare_tls.sh [--size 1G] [--runs 5] [--port 18600] [--protos mptcp,tcp] [--pin none]
#                        [--mpserve build/bin/mpserve] [--mpfetch build/bin/mpfetch]
# --pin split: servers on CPU 0, clients on CPU 1 (taskset); none (default): the scheduler places them.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=lib.sh
. bench/lib.sh

size=1G runs=5 base_port=18600 protos=mptcp,tcp pin=none
mpserve=build/bin/mpserve mpfetch=build/bin/mpfetch
while (($#)); do
  case $1 in
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --port) base_port=$2; shift 2 ;;
    --protos) protos=$2; shift 2 ;;
    --pin) pin=$2; shift 2 ;;
    --mpserve) mpserve=$2; shift 2 ;;
    --mpfetch) mpfetch=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done
((runs >= 1 && runs <= 50)) || { echo "--runs must be 1..50" >&2; exit 1; }
[[ ,$protos, =~ ^(,(mptcp|tcp))+,$ ]] || { echo "--protos: a list of mptcp and tcp" >&2; exit 1; }
[[ $pin == none || $pin == split ]] || { echo "--pin: none or split" >&2; exit 1; }
server_pin=() client_pin=()
[[ $pin == split ]] && server_pin=(taskset -c 0) client_pin=(taskset -c 1)
need_tools "$mpserve" "$mpfetch" nginx mptcpize curl openssl ss ip shuf taskset python3 bc
make_work_dir compare_tls
mkdir -p "$work/www" "$work/tmp" "$work/pki"
# private copies: others may rebuild build/bin while this runs
cp "$mpserve" "$work/mpserve"; cp "$mpfetch" "$work/mpfetch"
mpserve=$work/mpserve mpfetch=$work/mpfetch
cached_random_file "$work/www/big.bin" "$size" 2
bytes=$(stat -c %s "$work/www/big.bin")

# A throwaway CA and a certificate for 127.0.0.1 that both servers present.
pki=$work/pki ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=bench CA" -keyout "$pki/ca.key" -out "$pki/ca.pem" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -new "${ec[@]}" -subj /CN=localhost -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$pki/ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -set_serial 1 -days 2 \
  -extfile "$pki/ext" -out "$pki/server.pem" 2>/dev/null
raw=$work/raw.tsv; : > "$raw"
port_n=0

start_server() {  # $1=mpserve|nginx $2=mptcp|tcp; sets srv_pid and port
  port=$((base_port + port_n % 200)); port_n=$((port_n + 1))
  require_free_port "$port"
  if [[ $1 == mpserve ]]; then
    local mode=(); [[ $2 == tcp ]] && mode=(--mptcp off)
    "${server_pin[@]}" "$mpserve" --port "$port" --bind 127.0.0.1 -d "$work/www" --progress-interval 0 --log-level warn \
      --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" "${mode[@]}" > "$work/server.log" 2>&1 &
  else
    # nginx 1.22 leaves TLS 1.3 off unless told: the same protocols as mpserve
    nginx_conf 1 on on "ssl_protocols TLSv1.2 TLSv1.3; ssl_certificate $pki/server.pem; ssl_certificate_key $pki/server.key;" "$port ssl"
    local wrap=(); [[ $2 == mptcp ]] && wrap=(mptcpize run)
    "${server_pin[@]}" "${wrap[@]}" nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log" > "$work/server.log" 2>&1 &
  fi
  srv_pid=$!
  wait_listening "$port" || { echo "$1 did not listen on :$port" >&2; cat "$work/server.log" >&2; exit 1; }
  if [[ $2 == mptcp ]]; then
    ss -HMln "sport = :$port" | grep -m1 -q . || { echo "$1: the listener on :$port is not MPTCP" >&2; exit 1; }
  fi
  sleep 0.1  # nginx forks its worker
}

download() {  # $1=server $2=client $3=proto $4=rep: appends a row
  local server=$1 client=$2 proto=$3 rep=$4 cmd=()
  forget_loopback_tcp_metrics
  wait_quiet > /dev/null
  start_server "$server" "$proto"
  local url="https://127.0.0.1:$port/big.bin"
  if [[ $client == curl ]]; then
    cmd=(curl -sS --cacert "$pki/ca.pem" -o /dev/null --max-time 120 -w '%{http_code} %{size_download}' "$url")
    [[ $proto == mptcp ]] && cmd=(mptcpize run "${cmd[@]}")
  else
    cmd=("$mpfetch" -q -t 1 -T 120 --ca-certificate "$pki/ca.pem" -O /dev/null "$url")
    [[ $proto == tcp ]] && cmd+=(--mptcp off)
  fi
  # As on a fresh Debian: no SSL_CERT_FILE (set in some environments). With it, mpfetch, which
  # trusts the system store as well as --ca-certificate (as wget does), parsed the whole
  # 140-certificate bundle, 16 ms per run, where it otherwise looks certificates up by hash;
  # curl with --cacert reads that file alone either way.
  cmd=(env -u SSL_CERT_FILE -u SSL_CERT_DIR -u NIX_SSL_CERT_FILE "${cmd[@]}")
  local pids; mapfile -t pids < <(echo "$srv_pid"; pgrep -P "$srv_pid" || true)
  local s0 s1 t0 t1 rtx0 rtx1 TIMEFORMAT='%3U %3S'
  rtx0=$(mpc MPTcpExtMPTCPRetrans)
  s0=$(proc_ticks "${pids[@]}"); t0=$(now_ns)
  { time "${client_pin[@]}" "${cmd[@]}" > "$work/client.out" 2> "$work/client.err"; } 2> "$work/client.time" ||
    { echo "$client from $server ($proto) failed:" >&2; cat "$work/client.err" >&2; exit 1; }
  t1=$(now_ns); s1=$(proc_ticks "${pids[@]}")
  rtx1=$(mpc MPTcpExtMPTCPRetrans)
  stop_server
  if [[ $client == curl && $(cat "$work/client.out") != "200 $bytes" ]]; then
    echo "curl from $server: $(cat "$work/client.out")" >&2; exit 1
  fi
  local cu cs; read -r cu cs < <(tail -1 "$work/client.time")
  local wall; wall=$(echo "($t1 - $t0) / 1000000000" | bc -l)
  printf '%s\t%s\t%s\t%s\t%.4f\t%.3f\t%.3f\t%d\n' "$proto" "$server" "$client" "$rep" "$wall" \
    "$(echo "($s1 - $s0) / $tck" | bc -l)" "$(echo "$cu + $cs" | bc -l)" "$((rtx1 - rtx0))" >> "$raw"
  # MPTCP-level retransmissions (machine-wide counter, but nothing else uses MPTCP here): each
  # is a timeout of a couple of hundred milliseconds, the usual cause of a slow MPTCP trial
  printf '  %-5s %-7s <- %-7s rep %d  %6.0f MB/s  server %.2f s  client %.2f s  mptcp_rtx=%d\n' "$proto" "$server" \
    "$client" "$rep" "$(echo "$bytes / $wall / 1000000" | bc -l)" "$(echo "($s1 - $s0) / $tck" | bc -l)" \
    "$(echo "$cu + $cs" | bc -l)" "$((rtx1 - rtx0))"
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) CPUs; $(nginx -v 2>&1); $(openssl version)"
echo "  $(curl --version | head -1 | cut -d' ' -f1-2); git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "file: $bytes bytes; runs: $runs; protocols: $protos; pin: $pin"
# Which suite each server ends up with, as a client that offers OpenSSL's defaults sees it.
for server in mpserve nginx; do
  start_server "$server" tcp
  echo "  $server: $(openssl s_client -connect "127.0.0.1:$port" -CAfile "$pki/ca.pem" < /dev/null 2>/dev/null |
    grep -m1 -E '^New, ')"
  stop_server
done
# kTLS for the TCP case: the "tls" upper-layer protocol must exist in the kernel.
ktls=$(python3 -c 'import socket
s=socket.socket(); l=socket.socket(); l.bind(("127.0.0.1",0)); l.listen(); s.connect(l.getsockname())
try: s.setsockopt(socket.IPPROTO_TCP, 31, b"tls"); print("available")
except OSError as e: print("unavailable (%s)" % e.strerror)')
echo "  kernel TLS (TCP_ULP tls) on TCP: $ktls"

for proto in ${protos//,/ }; do
  for ((rep = 1; rep <= runs; rep++)); do
    # A new random order each round: no pairing always runs first or after the same one.
    mapfile -t order < <(printf '%s\n' mpserve:curl nginx:curl nginx:mpfetch mpserve:mpfetch | shuf)
    echo "  $proto round $rep order: ${order[*]}"
    for pair in "${order[@]}"; do
      download "${pair%%:*}" "${pair##*:}" "$proto" "$rep"
    done
  done
done

python3 - "$raw" "$bytes" <<'EOF'
import random, statistics as st, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
gib = int(sys.argv[2]) / (1 << 30)
def samples(proto, server, client, column):
    return [float(r[column]) / gib for r in rows if r[0] == proto and r[1] == server and r[2] == client]
def cell(proto, server, client):
    wall = samples(proto, server, client, 4)
    if not wall:
        return None
    return dict(wall=st.median(wall), lo=min(wall), hi=max(wall), srv=st.median(samples(proto, server, client, 5)),
                cli=st.median(samples(proto, server, client, 6)), n=len(wall),
                rtx=sum(1 for r in rows if r[:3] == [proto, server, client] and int(r[7]) > 0))
def ratio_interval(a, b):
    # 95 % bootstrap interval of median(a) / median(b): how far the ratio could move with
    # another draw of as many downloads (single downloads here vary by 10-30 %)
    rng = random.Random(1)
    draws = sorted(st.median(rng.choices(a, k=len(a))) / st.median(rng.choices(b, k=len(b))) for _ in range(2000))
    return draws[50], draws[1949]
print("\n| protocol | server | client | s/GiB median (min-max) | server CPU s/GiB | client CPU s/GiB | runs | with MPTCP retransmissions |")
print("|---|---|---|---|---|---|---|---|")
for proto in ("mptcp", "tcp"):
    for server, client in (("mpserve", "curl"), ("nginx", "curl"), ("nginx", "mpfetch"), ("mpserve", "mpfetch")):
        c = cell(proto, server, client)
        if c:
            print(f"| {proto} | {server} | {client} | {c['wall']:.3f} ({c['lo']:.3f}-{c['hi']:.3f}) | "
                  f"{c['srv']:.3f} | {c['cli']:.3f} | {c['n']} | {c['rtx'] if proto == 'mptcp' else '-'} |")
print()
def compare(label, mine, theirs, cpu):
    a, b = cell(*mine), cell(*theirs)
    if not (a and b):
        return
    lo, hi = ratio_interval(samples(*mine, 4), samples(*theirs, 4))
    print(f"{label}: time {a['wall'] / b['wall']:.2f}x (95 % interval {lo:.2f}-{hi:.2f}), "
          f"{'server' if cpu == 'srv' else 'client'} CPU {a[cpu] / b[cpu]:.2f}x")
for proto in ("mptcp", "tcp"):
    compare(f"{proto}: mpserve/nginx (client curl)", (proto, "mpserve", "curl"), (proto, "nginx", "curl"), "srv")
    compare(f"{proto}: mpfetch/curl (server nginx)", (proto, "nginx", "mpfetch"), (proto, "nginx", "curl"), "cli")
    compare(f"{proto}: mpfetch/curl (server mpserve)", (proto, "mpserve", "mpfetch"), (proto, "mpserve", "curl"), "cli")
EOF
