# shellcheck shell=bash disable=SC2034  # size, bin, prog_args are set for the sourcing script
# Sourced by the bench/*.sh scripts: work directory and cleanup, the page-cached body file,
# the server started in the background (srv_pid) and its nginx config, load accounting.
# Globals it reads: work, srv_pid, cleanup_paths (extra dirs to remove), cleanup_servers
# (PIDs of more servers, started by the script, to stop on exit), srv_ns and cli_ns
# (command prefixes that run in the server's and the client's network namespace, e.g.
# lab/mplab.sh exec srv; empty: this one).

srv_pid="" cleanup_paths=() cleanup_servers=() srv_ns=() cli_ns=()
tck=$(getconf CLK_TCK)

# stop_server: TERM srv_pid, give it 5 s, then KILL; reaps it and clears srv_pid
stop_server() {
  [[ -n $srv_pid ]] || return 0
  kill -TERM "$srv_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$srv_pid" 2>/dev/null || true
  wait "$srv_pid" 2>/dev/null || true
  srv_pid=""
}
cleanup() {
  local pid
  stop_server
  for pid in "${cleanup_servers[@]}"; do srv_pid=$pid; stop_server; done
  rm -rf -- "$work" "${cleanup_paths[@]}"
}

# stop_pids PID...: ends each of these processes (started by this script) and reaps it
stop_pids() {
  local pid
  for pid in "$@"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# make_work_dir NAME: work = a new /tmp/NAME.XXXXXX, removed (server stopped first) on exit
make_work_dir() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT TERM HUP
}

# cached_random_file PATH SIZE [READS]: SIZE random bytes, read READS times (1) into the page cache
cached_random_file() {
  head -c "$2" /dev/urandom > "$1"
  for _ in $(seq "${3:-1}"); do cat "$1" > /dev/null; done
}

need_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
  done
}

listening() { "${srv_ns[@]}" ss -Hltn "sport = :$1" | grep -q .; }
require_free_port() {
  if listening "$1"; then echo "port $1 is in use" >&2; exit 1; fi
}
# wait_listening PORT: up to 5 s for a listener on PORT; fails if none came
wait_listening() {
  for _ in $(seq 100); do listening "$1" && return 0; sleep 0.05; done
  listening "$1"
}

# nginx_conf WORKERS SENDFILE TCP_NOPUSH EXTRA PORT [WORKER_CONNECTIONS] [ADDRESS]: writes
# $work/nginx.conf serving $work/www on ADDRESS:PORT (127.0.0.1; "*" for every address), its
# temp files under $work/tmp
nginx_conf() {
  cat > "$work/nginx.conf" <<EOF
daemon off;
user root;
worker_processes $1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections ${6:-1024}; }
http {
  access_log off;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  scgi_temp_path $work/tmp/scgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  types { application/octet-stream bin; }
  sendfile $2;
  tcp_nopush $3;
  tcp_nodelay on;
  $4
  server { listen $([[ ${7:-127.0.0.1} == "*" ]] && echo "$5" || echo "${7:-127.0.0.1}:$5"); root $work/www; }
}
EOF
}

# server_ready NAME PORT COMM...: after starting srv_pid (output in $work/server.log), waits for
# its MPTCP listener on PORT and checks that srv_pid's comm matches one of the COMM patterns
server_ready() {
  local name=$1 port=$2 comm ok=0 c; shift 2
  wait_listening "$port" || { echo "$name did not listen on :$port" >&2; cat "$work/server.log" >&2; exit 1; }
  # killing by PID relies on mptcpize exec()ing the server rather than forking it
  comm=$(cat "/proc/$srv_pid/comm")
  # shellcheck disable=SC2053  # $c is a glob pattern
  for c in "$@"; do [[ $comm == $c ]] && ok=1; done
  ((ok)) || { echo "PID $srv_pid is $comm" >&2; exit 1; }
  "${srv_ns[@]}" ss -HMln "sport = :$port" | grep -q . || { echo "$name: listener on :$port is not MPTCP" >&2; exit 1; }
  sleep 0.1  # let nginx fork its workers
}
server_pids() {  # the server process and its children (nginx workers), one per line
  echo "$srv_pid"
  pgrep -P "$srv_pid" || true
}

# --- load accounting (all in clock ticks of $tck per second) ---------------------------------
now_ns() { date +%s%N; }
cpu_busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }
wait_quiet() {  # prints 1 if the machine stayed busy for 20 s, else 0
  local a b
  for _ in $(seq 40); do
    a=$(cpu_busy_ticks); sleep 0.5; b=$(cpu_busy_ticks)
    # < 0.3 cores busy over 0.5 s = fewer than 0.15 * CLK_TCK ticks
    if (( (b - a) * 100 < 15 * tck )); then echo 0; return; fi
  done
  echo 1
}
mpc() { "${cli_ns[@]}" nstat -saz "$1" | awk -v k="$1" '$1 == k {print $2}'; }  # in the client's namespace
# forget_loopback_tcp_metrics: the kernel remembers a destination's ssthresh and RTT from the
# last connection to it (`ip tcp_metrics`), so a download right after one that lost much (curl
# and wget into files do) would start from them. Loopback only: nothing else is touched.
forget_loopback_tcp_metrics() { ip tcp_metrics delete 127.0.0.1 2>/dev/null || true; }
proc_ticks() {  # utime+stime of the given PIDs (threads included)
  local t=0 p v
  for p in "$@"; do
    v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || v=0
    t=$((t + v))
  done
  echo "$t"
}
# other_cores BUSY0 BUSY1 NS0 NS1 OURS_TICKS: cores used by everything but our server and client
other_cores() { echo "($2 - $1 - $5) / $tck / (($4 - $3) / 1000000000)" | bc -l; }
is_busy() { [[ $(echo "$1 > 0.25" | bc -l) == 1 ]] && echo 1 || echo 0; }
# awk, not cut: bc prints ".004" for under a tick, which cut would turn into an empty string.
secs_to_ticks() { echo "($1) * $tck" | bc -l | awk '{ printf "%d", $1 }'; }  # $1: an expression in seconds

# --- send_methods.sh / receive_methods.sh ------------------------------------------------------
# parse_size_bin HELP_LINES ARGS...: --size, --bin, -h, then `--`; sets size, bin and prog_args
parse_size_bin() {
  local help=$1; shift
  size=1G bin="" prog_args=()
  while (($#)); do
    case $1 in
      --size) size=$2; shift 2 ;;
      --bin) bin=$2; shift 2 ;;
      --) shift; break ;;
      -h|--help) sed -n "${help}p" "$0"; exit 0 ;;
      *) echo "unknown argument: $1" >&2; exit 1 ;;
    esac
  done
  prog_args=("$@")
}
# find_or_build NAME: bin = build/bin/NAME if built, else NAME.cpp compiled into $work
find_or_build() {
  [[ -z $bin ]] || return 0
  local here repo; here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd); repo=$(dirname "$here")
  if [[ -x $repo/build/bin/$1 ]]; then
    bin=$repo/build/bin/$1
  else
    g++ -std=c++20 -O2 -Wall -Wextra -pthread "$here/$1.cpp" -o "$work/$1"
    bin=$work/$1
  fi
}
print_system() {
  echo "date:    $(date -Is)"
  echo "kernel:  $(uname -r), mptcp.enabled=$(sysctl -n net.mptcp.enabled 2>/dev/null || echo '?'), cpus=$(nproc)"
}
