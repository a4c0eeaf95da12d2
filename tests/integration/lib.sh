# Sourced by the integration scripts: a private network namespace, a work directory that is
# always removed, mpserve in the background (ended by PID, never by name), and failure
# reports that show the logs. Scripts set MPSERVE and MPFETCH before sourcing.

# Re-runs the calling script inside a private network namespace (`unshare -n`). It has no
# name, so nothing can leak: it ends with the script. Skips (77) where none can be made.
enter_private_netns() {
  [[ ${MP_IN_PRIVATE_NETNS:-} == 1 ]] && return 0
  if ! unshare -n true 2>/dev/null; then
    echo "SKIP: cannot create a network namespace (unshare -n needs CAP_SYS_ADMIN)"
    exit 77
  fi
  MP_IN_PRIVATE_NETNS=1 exec unshare -n bash "$0" "$@"
}

work=
server_pid=
tracer_pid=  # set when mpserve runs under a tracer (strace): waited for after the server ends

cleanup_integration() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n $tracer_pid ]]; then wait "$tracer_pid" 2>/dev/null || true; fi
  if [[ -n $work ]]; then rm -rf "$work"; fi
}

# make_workdir NAME: a fresh directory in $work, removed on every exit path.
make_workdir() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  trap cleanup_integration EXIT
}

fail() {
  echo "FAIL: $*"
  local log
  for log in server.out server.err fetch.err; do
    if [[ -s $work/$log ]]; then
      echo "--- $log"
      tail -n 40 "$work/$log"
    fi
  done
  exit 1
}

# wait_for_port PID: the port mpserve printed in server.out ("Serving HTTP on ... port N"),
# into $port; fails if PID ends first or nothing comes within 10 s.
wait_for_port() {
  port=
  local _
  for _ in $(seq 100); do
    port=$(sed -n 's/^Serving HTTP on .* port \([0-9]\+\) .*/\1/p' "$work/server.out" 2>/dev/null || true)
    [[ -n $port ]] && return 0
    kill -0 "$1" 2>/dev/null || fail "mpserve exited before listening"
    sleep 0.1
  done
  fail "mpserve did not print its port within 10 s"
}

# start_mpserve ARGS...: mpserve in the background, stdout in server.out, stderr in
# server.err; sets $server_pid and $port.
start_mpserve() {
  "$MPSERVE" "$@" > "$work/server.out" 2> "$work/server.err" &
  server_pid=$!
  wait_for_port "$server_pid"
}

stop_mpserve() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  if [[ -n $tracer_pid ]]; then
    wait "$tracer_pid" 2>/dev/null || true
    tracer_pid=
  fi
}
