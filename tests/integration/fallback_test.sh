#!/usr/bin/env bash
# MPTCP switched off in the kernel (net.mptcp.enabled=0), in a private network namespace made
# with `unshare -n` (it has no name, so nothing can leak; it ends with this script):
#   --mptcp auto: both programs warn once, fall back to TCP and the download still works;
#   --mptcp on:   both refuse with a clear message and a non-zero exit.
#
# usage: fallback_test.sh MPSERVE MPFETCH        exit 0 pass, 1 fail, 77 skip
set -euo pipefail
MPSERVE=$(readlink -f "${1:?usage: fallback_test.sh MPSERVE MPFETCH}")
MPFETCH=$(readlink -f "${2:?usage: fallback_test.sh MPSERVE MPFETCH}")
source "$(dirname "$0")/lib.sh"

enter_private_netns "$MPSERVE" "$MPFETCH"

# Inside the private namespace from here on.
if ! echo 0 > /proc/sys/net/mptcp/enabled 2>/dev/null; then
  echo "SKIP: this kernel has no net.mptcp.enabled to switch off"
  exit 77
fi
ip link set lo up

make_workdir mp-fallback-test

mkdir "$work/root"
head -c $((4 << 20)) /dev/urandom > "$work/root/file.bin"

# --mptcp on: the server refuses to start.
if "$MPSERVE" --mptcp on --port 0 --bind 127.0.0.1 -d "$work/root" > "$work/server.out" 2> "$work/server.err"; then
  fail "mpserve --mptcp on started although MPTCP is disabled"
fi
grep -q "net.mptcp.enabled=0" "$work/server.err" || fail "mpserve --mptcp on does not say why it failed"
echo "ok: mpserve --mptcp on refuses: $(head -n1 "$work/server.err")"

# --mptcp auto: the server falls back and says so.
start_mpserve --mptcp auto --port 0 --bind 127.0.0.1 -d "$work/root"
grep -q "^Listening socket fell back to TCP: MPTCP is disabled (net.mptcp.enabled=0)" "$work/server.out" ||
  fail "mpserve does not report the fallback on stdout"
[[ $(grep -c "MPTCP unavailable" "$work/server.err") == 1 ]] || fail "mpserve should warn exactly once"
echo "ok: mpserve --mptcp auto falls back to TCP and warns once"

# --mptcp on: the client refuses, with wget's network-failure code 4.
set +e
"$MPFETCH" --mptcp on "http://127.0.0.1:$port/file.bin" -O "$work/copy.bin" 2> "$work/fetch.err"
code=$?
set -e
[[ $code == 4 ]] || fail "mpfetch --mptcp on exited with $code, expected 4"
grep -q "net.mptcp.enabled=0" "$work/fetch.err" || fail "mpfetch --mptcp on does not say why it failed"
[[ ! -e $work/copy.bin && ! -e $work/copy.bin.part ]] || fail "mpfetch --mptcp on left a file behind"
echo "ok: mpfetch --mptcp on refuses with exit 4: $(tail -n1 "$work/fetch.err")"

# --mptcp auto: the client falls back, warns once, and the download is complete and over TCP.
"$MPFETCH" --mptcp auto "http://127.0.0.1:$port/file.bin" -O "$work/copy.bin" 2> "$work/fetch.err" ||
  fail "mpfetch --mptcp auto failed"
cmp -s "$work/root/file.bin" "$work/copy.bin" || fail "the copy differs"
[[ $(grep -c "MPTCP unavailable" "$work/fetch.err") == 1 ]] || fail "mpfetch should warn exactly once"
grep -q "connected to 127.0.0.1:$port over TCP" "$work/fetch.err" || fail "mpfetch does not say it used TCP"
grep -q "done: 4.00 MiB .*, TCP, 1 subflow" "$work/fetch.err" || fail "mpfetch's summary does not say TCP"
echo "ok: mpfetch --mptcp auto falls back to TCP, warns once, and the copy is complete"
