#!/usr/bin/env bash
# Build (if needed) and run bench/receive_methods: a page-cached random file is sent
# over loopback and received into a file on the real disk (a directory under /tmp),
# into /dev/shm, and into /dev/null; prints load, the command line and a Markdown table.
#   bench/receive_methods.sh [--size 1G] [--bin PATH] [-- extra receive_methods args...]
# Extra args go to the program, e.g. -- --reps 7 --sink disk --case read:1M --case splice:1M
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
size=1G
bin=""
while (($#)); do
  case $1 in
    --size) size=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done

work=$(mktemp -d /tmp/receive_methods.XXXXXX)
shm=$(mktemp -d /dev/shm/receive_methods.XXXXXX)
cleanup() { rm -rf -- "$work" "$shm"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [[ -z $bin ]]; then
  if [[ -x $repo/build/bin/receive_methods ]]; then
    bin=$repo/build/bin/receive_methods
  else
    g++ -std=c++20 -O2 -Wall -Wextra -pthread "$here/receive_methods.cpp" -o "$work/receive_methods"
    bin=$work/receive_methods
  fi
fi

file=$work/body.bin
mkdir -p "$work/sink"
head -c "$size" /dev/urandom > "$file"
cat "$file" > /dev/null  # page-cache it; the sender then reads from memory

echo "date:    $(date -Is)"
echo "kernel:  $(uname -r), mptcp.enabled=$(sysctl -n net.mptcp.enabled 2>/dev/null || echo '?'), cpus=$(nproc)"
echo "disk:    $(findmnt -no SOURCE,FSTYPE,OPTIONS -T "$work/sink")"
echo "dirty:   vm.dirty_ratio=$(sysctl -n vm.dirty_ratio) vm.dirty_background_ratio=$(sysctl -n vm.dirty_background_ratio)"
echo "load before: $(uptime)"
echo "command: $bin --file $file --disk-dir $work/sink --shm-dir $shm --csv $work/raw.csv $*"
echo
"$bin" --file "$file" --disk-dir "$work/sink" --shm-dir "$shm" --csv "$work/raw.csv" "$@"
echo
echo "load after:  $(uptime)"
if [[ -n ${RECEIVE_METHODS_CSV:-} ]]; then cp -- "$work/raw.csv" "$RECEIVE_METHODS_CSV"; fi
