#!/usr/bin/env bash
# Build (if needed) and run bench/send_methods against a page-cached random file
# on loopback; prints load, the command line and a Markdown table.
#   bench/send_methods.sh [--size 1G] [--bin PATH] [-- extra send_methods args...]
# Extra args go to the program, e.g. -- --reps 7 --proto mptcp --case pread:1M
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

parse_size_bin 2,5 "$@"
make_work_dir send_methods
find_or_build send_methods

file=$work/body.bin
cached_random_file "$file" "$size"  # every method then reads from memory

print_system
echo "load before: $(uptime)"
echo "command: $bin --file $file --csv $work/raw.csv ${prog_args[*]}"
echo
"$bin" --file "$file" --csv "$work/raw.csv" "${prog_args[@]}"
echo
echo "load after:  $(uptime)"
if [[ -n ${SEND_METHODS_CSV:-} ]]; then cp -- "$work/raw.csv" "$SEND_METHODS_CSV"; fi
