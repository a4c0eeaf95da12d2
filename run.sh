#!/usr/bin/env bash
# One entry point for people and CI.
#   ./run.sh deps    install missing Debian packages (quiet when all are present)
#   ./run.sh build   deps + configure + build (binaries in build/bin/)
#   ./run.sh test    build + every test through ctest
#   ./run.sh demo    build + the failover demo: a 1 GiB download over two shaped paths in network
#                    namespaces, one path cut and restored mid-transfer, SHA-256 checked
set -euo pipefail
cd "$(dirname "$0")"

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-url1.81-dev libssl-dev libspdlog-dev libgtest-dev libcli11-dev
  iproute2 nftables strace procps util-linux curl wget python3
  nginx-light  # the reference the comparison test and the benchmark measure us against
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

build() {
  deps
  local werror=OFF
  [[ ${CI:-} == true ]] && werror=ON
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMP_WERROR="$werror" -DBUILD_TESTING=ON >/dev/null
  cmake --build "$build_dir" -j "$(nproc)"
}

run_tests() {
  build
  # ctest prints its own summary ("100% tests passed, 0 tests failed out of N").
  ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 600
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
  demo) demo ;;
  *) echo "usage: $0 deps|build|test|demo" >&2; exit 2 ;;
esac
