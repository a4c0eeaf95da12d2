#!/usr/bin/env bash
# Build (if needed) and run bench/send_methods against a page-cached random file
# on loopback; prints load, the command line and a Markdown table.
#   bench/send_methods.sh [--size 1G] [--bin PATH] [-- extra send_methods args...]
# Extra args go to the program, e.g. -- --reps 7 --proto mptcp --case pread:1M
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
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done

work=$(mktemp -d /tmp/send_methods.XXXXXX)
cleanup() { rm -rf -- "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [[ -z $bin ]]; then
  if [[ -x $repo/build/bin/send_methods ]]; then
    bin=$repo/build/bin/send_methods
  else
    g++ -std=c++20 -O2 -Wall -Wextra -pthread "$here/send_methods.cpp" -o "$work/send_methods"
    bin=$work/send_methods
  fi
fi

file=$work/body.bin
head -c "$size" /dev/urandom > "$file"
cat "$file" > /dev/null  # page-cache it; every method then reads from memory

echo "date:    $(date -Is)"
echo "kernel:  $(uname -r), mptcp.enabled=$(sysctl -n net.mptcp.enabled 2>/dev/null || echo '?'), cpus=$(nproc)"
echo "load before: $(uptime)"
echo "command: $bin --file $file --csv $work/raw.csv $*"
echo
"$bin" --file "$file" --csv "$work/raw.csv" "$@"
echo
echo "load after:  $(uptime)"
if [[ -n ${SEND_METHODS_CSV:-} ]]; then cp -- "$work/raw.csv" "$SEND_METHODS_CSV"; fi
