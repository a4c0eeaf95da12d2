#!/usr/bin/env bash
# Build (if needed) and run bench/receive_methods: a page-cached random file is sent
# over loopback and received into a file on the real disk (a directory under /tmp),
# into /dev/shm, and into /dev/null; prints load, the command line and a Markdown table.
#   bench/receive_methods.sh [--size 1G] [--bin PATH] [-- extra receive_methods args...]
# Extra args go to the program, e.g. -- --reps 7 --sink disk --case read:1M --case splice:1M
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

parse_size_bin 2,6 "$@"
make_work_dir receive_methods
shm=$(mktemp -d /dev/shm/receive_methods.XXXXXX)
cleanup_paths=("$shm")
find_or_build receive_methods

file=$work/body.bin
mkdir -p "$work/sink"
cached_random_file "$file" "$size"  # the sender then reads from memory

print_system
echo "disk:    $(findmnt -no SOURCE,FSTYPE,OPTIONS -T "$work/sink")"
echo "dirty:   vm.dirty_ratio=$(sysctl -n vm.dirty_ratio) vm.dirty_background_ratio=$(sysctl -n vm.dirty_background_ratio)"
echo "load before: $(uptime)"
echo "command: $bin --file $file --disk-dir $work/sink --shm-dir $shm --csv $work/raw.csv ${prog_args[*]}"
echo
"$bin" --file "$file" --disk-dir "$work/sink" --shm-dir "$shm" --csv "$work/raw.csv" "${prog_args[@]}"
echo
echo "load after:  $(uptime)"
if [[ -n ${RECEIVE_METHODS_CSV:-} ]]; then cp -- "$work/raw.csv" "$RECEIVE_METHODS_CSV"; fi
