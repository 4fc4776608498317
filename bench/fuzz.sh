#!/usr/bin/env bash
# The security suite's benchmark mode: a few minutes of libFuzzer on the
# server's fuzz targets, one after another (one process each: the machine
# may be shared), then one line per target with what it did.
#
#   bench/fuzz.sh [SECONDS-PER-TARGET] [TARGET...]
#   bench/fuzz.sh 120 frames rest        # the default
#   bench/fuzz.sh 600 frames              # the 10-minute run of issue 14
#
# Builds the targets in build-fuzz (clang, ASan+UBSan, as scripts/test.sh
# does), starts from the committed corpus tests/fuzz/corpus/NAME with
# tests/fuzz/NAME.dict when there is one, and keeps what it finds in
# build-fuzz/fuzz-work/NAME (never in the committed corpus: add an input
# there by hand when it is worth keeping).  A crash leaves its input in
# build-fuzz/fuzz-work/ and the target's line says so; the script then
# exits 1.  Prints, per target: runs, runs per second, coverage (cov:
# edges, ft: features) and crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frames rest)

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz "${targets[@]/#/tests/fuzz/fuzz-}" >/dev/null

export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
results=()
for t in "${targets[@]}"; do
  work=build-fuzz/fuzz-work/$t
  log=build-fuzz/fuzz-work/$t.log
  mkdir -p "$work"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
  # libsoup 3.2.3 leaks the request line of requests it refuses, before
  # any code of ours runs (tests/lsan.supp); fuzz_rest.c leaves out those
  # it can tell, but the suppression needs slow unwinding (ten times fewer
  # runs), so this target is fuzzed without leak checks.  Its corpus
  # replays (suite fuzz, scripts/test.sh) check leaks with the suppression.
  asan=${ASAN_OPTIONS:-}
  case $t in
    rest) asan=detect_leaks=0 ;;
  esac
  echo "== fuzz-$t for $seconds s (log: $log)" >&2
  rc=0
  ASAN_OPTIONS=$asan \
    "build-fuzz/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -timeout=30 \
    -max_len=8192 -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix="build-fuzz/fuzz-work/$t-" \
    "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  # The last status line: "#N DONE cov: C ft: F corp: ... exec/s: E ..."
  last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 || true)
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" |
    tail -1)
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log" |
    tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+) .*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+) .*/\1/p' <<<"$last")
  crashes=0
  if [ "$rc" -ne 0 ]; then
    crashes=1
    status=1
  fi
  results+=("$(printf 'fuzz-%-8s %5d s  runs %8s  exec/s %5s  cov %6s  ft %6s  crashes %d' \
    "$t" "$seconds" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes")")
  if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5 >&2 || true
  fi
done
printf '%s\n' "${results[@]}"
exit $status
