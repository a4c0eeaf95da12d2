#!/usr/bin/env bash
# A longer fuzz run than the test suite's (which gives each target 30 s): every target for
# --seconds (default 600) on a scratch corpus seeded from fuzz/corpus/NAME, one target at a
# time, in the sanitizer build (./run.sh sanitize makes it). New inputs stay in the scratch
# corpus (printed at the end); crashes are written there as crash-* files and fail the run.
#
#   fuzz/run_fuzzers.sh [--seconds 600] [--jobs 1] [--build build-sanitize] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=600 jobs=1 build=build-sanitize keep=0
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ ]] && ((seconds >= 1 && seconds <= 86400)) || { echo "--seconds: 1..86400" >&2; exit 1; }
[[ $jobs =~ ^[0-9]+$ ]] && ((jobs >= 1 && jobs <= 64)) || { echo "--jobs: 1..64" >&2; exit 1; }
work=$(mktemp -d /tmp/mp-fuzz.XXXXXX)
((keep)) || trap 'rm -rf "$work"' EXIT
status=0
for name in request response; do
  fuzzer=$build/bin/${name}_fuzzer
  [[ -x $fuzzer ]] || { echo "no $fuzzer: run ./run.sh sanitize first" >&2; exit 1; }
  mkdir -p "$work/$name"
  echo "fuzz: $name for $seconds s"
  (cd "$work" && "$OLDPWD/$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -jobs="$jobs" \
      -workers="$jobs" -print_final_stats=1 "$work/$name" "$OLDPWD/fuzz/corpus/$name" 2>&1 | tail -12) || status=1
  echo "fuzz: $name corpus now $(find "$work/$name" -type f | wc -l) inputs"
done
if compgen -G "$work/crash-*" >/dev/null || compgen -G "$work/*/crash-*" >/dev/null; then
  echo "fuzz: crashes found (kept in $work)"; trap - EXIT; status=1
fi
exit "$status"
