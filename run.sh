#!/usr/bin/env bash
# One entry point for people and CI.
#   ./run.sh deps    install missing Debian packages (quiet when all are present)
#   ./run.sh build   deps + configure + build (binaries in build/bin/)
#   ./run.sh test    build + every test through ctest, then all of it again under
#                    AddressSanitizer + UndefinedBehaviorSanitizer with the fuzz targets (sanitize)
#   ./run.sh sanitize  only the sanitizer run: clang, ASan+UBSan, libFuzzer targets, in build-sanitize/
#   ./run.sh tsan    ThreadSanitizer build (build-tsan/) and the tests of the multi-threaded server
#   ./run.sh demo    build + the failover demo: a 1 GiB download over two shaped paths in network
#                    namespaces, one path cut and restored mid-transfer, SHA-256 checked
set -euo pipefail
cd "$(dirname "$0")"

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-url1.81-dev libssl-dev libspdlog-dev libgtest-dev libcli11-dev
  iproute2 nftables strace procps util-linux curl wget python3
  nginx-light  # the reference the comparison test and the benchmark measure us against
  mptcpize wrk bc  # the benchmarks (bench/): nginx and curl under MPTCP, 1 KiB requests, arithmetic
  openssl ca-certificates  # the HTTPS tests make their certificates with the openssl command
  clang  # sanitizer builds and the libFuzzer targets
  # The kTLS test boots Debian's kernel (which has the "tls" module) in QEMU, without KVM.
  qemu-system-x86 busybox-static linux-image-amd64 kmod
)
build_dir=${BUILD_DIR:-build}

deps() {
  local missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  (( ${#missing[@]} == 0 )) && return 0
  echo "run.sh: installing ${missing[*]}"
  local sudo=
  (( EUID == 0 )) || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  # Packages like nginx start a service on port 80 when installed; tests start their own
  # instances instead, so forbid service starts during the install (Debian's policy-rc.d).
  local policy=/usr/sbin/policy-rc.d created_policy=
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    created_policy=1
  fi
  local status=0
  { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
    status=$?
  if [[ -n $created_policy ]]; then $sudo rm -f "$policy"; fi
  return "$status"
}

# Warnings are errors in CI only: a newer compiler's new warning must not stop a user's build.
werror() { [[ ${CI:-} == true ]] && echo ON || echo OFF; }

build() {
  deps
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMP_WERROR="$(werror)" -DBUILD_TESTING=ON >/dev/null
  cmake --build "$build_dir" -j "$(nproc)"
}

run_tests() {
  build
  # ctest prints its own summary ("100% tests passed, 0 tests failed out of N").
  ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 600
  sanitize
}

# sanitizer_build DIR SANITIZERS [CMAKE ARGS...]: configures and builds DIR with clang
sanitizer_build() {
  local dir=$1 sanitizers=$2; shift 2
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMP_WERROR="$(werror)" \
    -DBUILD_TESTING=ON -DMP_SANITIZE="$sanitizers" "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}

# sanitizer_ctest DIR [CTEST ARGS...]: runs ctest with every sanitizer report going to a file
# under DIR/sanitizer-logs (a report also stops the program, so its test fails), and fails
# when any report was written, showing them: a server that only leaks at exit is caught too.
sanitizer_ctest() {
  local dir=$1; shift
  local logs=$PWD/$dir/sanitizer-logs
  rm -rf "$logs"; mkdir -p "$logs"
  local status=0
  ASAN_OPTIONS="detect_leaks=1:log_path=$logs/asan" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan" \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$logs/tsan" \
    ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" --timeout 900 "$@" || status=$?
  if compgen -G "$logs/*" >/dev/null; then
    echo "run.sh: sanitizer reports in $logs:"
    for report in "$logs"/*; do echo "--- $report"; head -60 "$report"; done
    status=1
  else
    echo "run.sh: no sanitizer reports"
  fi
  return "$status"
}

# Unit, integration and short fuzz runs under AddressSanitizer + UndefinedBehaviorSanitizer.
sanitize() {
  deps
  echo "run.sh: the tests again under AddressSanitizer + UndefinedBehaviorSanitizer (build-sanitize/)"
  sanitizer_build build-sanitize address,undefined -DMP_FUZZ=ON -DMP_FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
  sanitizer_ctest build-sanitize
}

# ThreadSanitizer: the unit tests and the server's integration tests (its worker threads
# share the server state, the access log and the path-manager labels). Not the kTLS test:
# its VM emulates the CPU, and TSan's slowdown on top of that would run for many minutes.
tsan() {
  deps
  sanitizer_build build-tsan thread
  sanitizer_ctest build-tsan -R "^(Server|Pm|Response|Static|Tls|integration[.]server|integration[.]two_subflows|integration[.]https_with)"
}

# The main job: the two-path failover demo in network namespaces (lab/failover_demo.sh).
# Where namespaces cannot be made (no root), the loopback download below runs instead.
demo() {
  build
  local status=0
  bash lab/failover_demo.sh "$build_dir/bin/mpserve" "$build_dir/bin/mpfetch" || status=$?
  if (( status == 77 )); then
    echo "demo: falling back to a loopback download"
    loopback_demo
    return
  fi
  return "$status"
}

loopback_demo() {
  # Globals, not locals: the EXIT trap runs after this function has returned.
  demo_server_pid= demo_work=$(mktemp -d /tmp/mpserve-demo.XXXXXX)
  local work=$demo_work size_mib=${DEMO_MIB:-256}
  # Ends only the server this demo started.
  trap 'if [[ -n $demo_server_pid ]]; then kill "$demo_server_pid" 2>/dev/null || true; wait "$demo_server_pid" 2>/dev/null || true; fi; rm -rf "$demo_work"' EXIT
  mkdir "$work/www"
  echo "demo: generating a ${size_mib} MiB random file"
  head -c "$((size_mib << 20))" /dev/urandom > "$work/www/demo.bin"
  "$build_dir/bin/mpserve" --port 0 --bind 127.0.0.1 --directory "$work/www" > "$work/server.out" 2> "$work/server.log" &
  demo_server_pid=$!
  local port=
  for _ in $(seq 100); do
    port=$(sed -n 's/^Serving HTTP on .* port \([0-9]\+\) .*/\1/p' "$work/server.out")
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { cat "$work/server.out" "$work/server.log"; echo "demo: mpserve did not start"; exit 1; }
  cat "$work/server.out"
  "$build_dir/bin/mpfetch" "http://127.0.0.1:$port/demo.bin" -O "$work/copy.bin"
  kill "$demo_server_pid"; wait "$demo_server_pid" 2>/dev/null || true; demo_server_pid=
  echo "--- mpserve's log"
  cat "$work/server.log"
  local sent received
  sent=$(sha256sum < "$work/www/demo.bin" | cut -d' ' -f1)
  received=$(sha256sum < "$work/copy.bin" | cut -d' ' -f1)
  echo "SHA-256 served:     $sent"
  echo "SHA-256 downloaded: $received"
  [[ $sent == "$received" ]] || { echo "demo: FAILED, the copy differs"; exit 1; }
  echo "demo: OK"
}

case ${1:-} in
  deps) deps ;;
  build) build ;;
  test) run_tests ;;
  sanitize) sanitize ;;
  tsan) tsan ;;
  demo) demo ;;
  *) echo "usage: $0 deps|build|test|sanitize|tsan|demo" >&2; exit 2 ;;
esac
