#!/usr/bin/env bash
# End to end over loopback: mpfetch downloads a 256 MiB random file from mpserve; the copy
# must have the same SHA-256, both sides must report an MPTCP connection with its subflow,
# and strace on mpserve must show the body leaving by sendfile(2), not read into user space.
#
# usage: download_test.sh MPSERVE MPFETCH        exit 0 pass, 1 fail, 77 skip
set -euo pipefail

MPSERVE=${1:?usage: download_test.sh MPSERVE MPFETCH}
MPFETCH=${2:?usage: download_test.sh MPSERVE MPFETCH}
source "$(dirname "$0")/lib.sh"
size_mib=256

if ! command -v strace >/dev/null; then
  echo "SKIP: strace is not installed (./run.sh deps installs it)"
  exit 77
fi
make_workdir mp-download-test

mkdir "$work/root"
head -c "$((size_mib << 20))" /dev/urandom > "$work/root/random.bin"
expected=$(sha256sum < "$work/root/random.bin" | cut -d' ' -f1)

# Port 0: the kernel picks a free port and mpserve prints it, as python -m http.server does.
# (LeakSanitizer cannot work under a tracer: in a sanitizer build it is off for this one run.)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -o "$work/strace.log" -e trace=sendfile,read,pread64 \
  "$MPSERVE" --port 0 --bind 127.0.0.1 --directory "$work/root" --progress-interval 0.2 --body-method sendfile \
  > "$work/server.out" 2> "$work/server.err" &
tracer_pid=$!
wait_for_port "$tracer_pid"
server_pid=$(pgrep -P "$tracer_pid" -x mpserve || true)
[[ -n $server_pid ]] || fail "cannot find the mpserve process under strace"

timeout 120 "$MPFETCH" "http://127.0.0.1:$port/random.bin" -O "$work/copy.bin" \
  --progress-interval 0.2 2> "$work/fetch.err" || fail "mpfetch exited with $?"

actual=$(sha256sum < "$work/copy.bin" | cut -d' ' -f1)
[[ $actual == "$expected" ]] || fail "SHA-256 differs: sent $expected, got $actual"
[[ ! -e $work/copy.bin.part ]] || fail "the .part file was left behind"
echo "ok: SHA-256 of the ${size_mib} MiB copy matches ($actual)"

stop_mpserve

# Sum what the syscalls returned: sendfile must account for the whole body; read/pread64
# together stay far below it (they only see the HTTP request and start-up files).
read -r sendfile_bytes read_bytes < <(awk '
  / = [0-9]+$/ {
    n = $NF
    if ($0 ~ /sendfile\(/) s += n
    else if ($0 ~ /(pread64|read)\(/) r += n
  }
  END { printf "%d %d\n", s, r }' "$work/strace.log")
body=$((size_mib << 20))
echo "strace: sendfile returned $sendfile_bytes bytes, read/pread64 returned $read_bytes bytes"
(( sendfile_bytes == body )) || fail "sendfile carried $sendfile_bytes bytes, the body is $body"
(( read_bytes < 1048576 )) || fail "read/pread64 returned $read_bytes bytes: the body went through user space"
echo "ok: the body left mpserve by sendfile"

grep -q "done: ${size_mib}.0 MiB .* MPTCP token [0-9a-f]\{8\}, 1 subflow" "$work/server.err" ||
  fail "mpserve's summary does not report the MPTCP transfer"
grep -q "subflow 1 127.0.0.1:$port -> 127.0.0.1:[0-9]* carried" "$work/server.err" ||
  fail "mpserve's summary has no per-subflow line"
grep -q "done: ${size_mib}.0 MiB .* MPTCP token [0-9a-f]\{8\}, 1 subflow" "$work/fetch.err" ||
  fail "mpfetch's summary does not report the MPTCP transfer"
grep -q "subflow 1 127.0.0.1:[0-9]* -> 127.0.0.1:$port carried" "$work/fetch.err" ||
  fail "mpfetch's summary has no per-subflow line"
echo "ok: both sides report the MPTCP connection and its subflow"

# Without --body-method, mpserve chooses by connection type, as measured in
# docs/transfer-methods.md: on MPTCP a copy through a 1 MiB buffer for a file's first request,
# then a send from a kept mapping of the file; sendfile on TCP.
start_mpserve --port 0 --bind 127.0.0.1 --directory "$work/root" --progress-interval 0
for round in first second; do
  rm -f "$work/copy.bin"
  timeout 120 "$MPFETCH" -q "http://127.0.0.1:$port/random.bin" -O "$work/copy.bin" || fail "mpfetch ($round, default method) failed"
  [[ $(sha256sum < "$work/copy.bin" | cut -d' ' -f1) == "$expected" ]] || fail "SHA-256 differs with the default method ($round download)"
done
timeout 120 curl -sS -o /dev/null "http://127.0.0.1:$port/random.bin" || fail "curl failed"
stop_mpserve
[[ $(grep -c "done: ${size_mib}.0 MiB .* MPTCP token .*, sent by copy" "$work/server.err") == 1 ]] ||
  fail "the first MPTCP transfer was not sent by copy"
[[ $(grep -c "done: ${size_mib}.0 MiB .* MPTCP token .*, sent by mmap" "$work/server.err") == 1 ]] ||
  fail "the second MPTCP transfer was not sent from the mapping"
# curl offers no MPTCP: on the MPTCP listener that is a fallback to plain TCP.
grep -q "done: ${size_mib}.0 MiB .* TCP (MPTCP fell back), 1 subflow, sent by sendfile" "$work/server.err" ||
  fail "the TCP transfer was not sent by sendfile"
echo "ok: by default a file's first MPTCP transfer is copied, the next sent from its mapping (byte-exact), TCP by sendfile; the log says which"

# mpfetch's first read of a response must be large: a 512-byte read (Beast's default for a
# header) from a receive window the server's first burst had filled lost the window update
# on MPTCP, and the server stalled on its 200 ms retransmission timer (docs/benchmarks.md).
start_mpserve --port 0 --bind 127.0.0.1 --directory "$work/root" --progress-interval 0
rm -f "$work/copy.bin"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -o "$work/fetch-strace.log" -e trace=connect,recvmsg,recvfrom,read \
  timeout 120 "$MPFETCH" -q "http://127.0.0.1:$port/random.bin" -O "$work/copy.bin" || fail "mpfetch under strace failed"
stop_mpserve
first_read=$(awk '
  /connect\([0-9]+, \{sa_family=AF_INET,/ { match($0, /connect\([0-9]+/); fd = substr($0, RSTART + 8, RLENGTH - 8) }
  fd != "" && ($0 ~ "recvmsg\\(" fd "," || $0 ~ "recvfrom\\(" fd "," || $0 ~ "read\\(" fd ",") && /iov_len=|, [0-9]+\) = [0-9]+$/ {
    if (match($0, /iov_len=[0-9]+/)) print substr($0, RSTART + 8, RLENGTH - 8)
    else { n = split($0, parts, /, /); sub(/\).*/, "", parts[n]); print parts[n] }
    exit
  }' "$work/fetch-strace.log")
[[ -n $first_read ]] || fail "no read on mpfetch's connection in the strace log"
(( first_read >= 65536 )) || fail "mpfetch's first read of the response asks for $first_read bytes, not at least 64 KiB"
echo "ok: mpfetch's first read of the response asks for $first_read bytes"
