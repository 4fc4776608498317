#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every meson test
# in a normal build and again in an ASan+UBSan build, then print one summary
# line "tests: N passed, N failed, N skipped".
# Extra arguments go to `meson test` (e.g. --suite token).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Browser tests drive Debian's Chromium with playwright-core (no download).
# node_modules is made from package-lock.json, again whenever the lock file
# changed since (never trusted as left by hand).
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.hqrooms-lock 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.hqrooms-lock
fi
# No GStreamer registry under ~/.cache decides what a test sees: meson's
# default test setup (tests/meson.build) puts one in each build folder, and
# what runs outside meson test here uses one in build-fuzz.

status=0
# The whole suite runs the tests that need the machine to themselves
# (is_parallel: false) first, then the others several at a time, in their
# meson order (priority, then definition).  meson test runs tests in the
# order they are named and starts a test that is not parallel only once
# every test started before it has ended: in meson's own order one core
# waited idle each time a long parallel test (quality-e2e, 139 s) was still
# running when such a test came (2 min 17 s of the 28 min in both builds).
# With arguments, meson test chooses and orders as it always does.
ordered_tests() {
  python3 - "$1" <<'PY'
import json, subprocess, sys
tests = json.loads(subprocess.run(
    ["meson", "introspect", sys.argv[1], "--tests"], check=True,
    capture_output=True, text=True).stdout)
order = [t for t in tests if not t["is_parallel"]] + \
    [t for t in tests if t["is_parallel"]]
print("\n".join(t["name"] for t in order))
PY
}

# run_suite DIR JOBS [meson setup options]: JOBS parallel tests at a time.
run_suite() {
  local dir=$1 jobs=$2
  shift 2
  echo "== $dir" >&2
  scripts/build.sh "$dir" "$@"
  local tests=("${test_args[@]}")
  if [ ${#tests[@]} -eq 0 ]; then
    mapfile -t tests < <(ordered_tests "$dir")
  fi
  meson test -C "$dir" --print-errorlogs --num-processes "$jobs" \
    "${tests[@]}" || status=1
}

test_args=("$@")
# The normal build's parallel tests wait on timers and media clocks: run
# two at a time on 2 cores they used 73 CPU seconds in 216 s (measured
# each in a cpuacct cgroup), so three go at once.  The ASan build's used
# 303 in 283 s: two at a time (three made room-nack's jitter buffers NACK
# 2.2 % of a lossless stream, over its 1 %).
run_suite build 3
run_suite build-asan 2 -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbuildtype=debug

# The libFuzzer targets, built with clang, each replaying its corpus once.
fuzz_results=build-fuzz/fuzz-results.txt
if command -v clang >/dev/null; then
  echo "== build-fuzz" >&2
  if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dfuzzing=true \
      -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
  fi
  mapfile -t fuzzers < <(ninja -C build-fuzz -t targets all |
    grep -o '^tests/fuzz/fuzz-[a-z0-9_]*:' | tr -d : | sort -u)
  ninja -C build-fuzz "${fuzzers[@]}" >/dev/null
  : > "$fuzz_results"
  export GST_REGISTRY=$PWD/build-fuzz/gst-registry.bin
  for f in "${fuzzers[@]}"; do
    name=${f##*/fuzz-}
    if LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:fast_unwind_on_malloc=0 \
        "build-fuzz/$f" -runs=0 "tests/fuzz/corpus/$name" \
        >"build-fuzz/fuzz-$name.log" 2>&1; then
      echo "OK $name" >> "$fuzz_results"
    else
      echo "FAIL $name" >> "$fuzz_results"
      echo "fuzz-$name failed to replay its corpus:" >&2
      tail -20 "build-fuzz/fuzz-$name.log" >&2
      status=1
    fi
  done
  cat "$fuzz_results" >&2
fi

python3 - build build-asan <<'PY'
import json, os, sys
passed = failed = skipped = 0
if os.path.exists("build-fuzz/fuzz-results.txt"):
    for line in open("build-fuzz/fuzz-results.txt"):
        if line.startswith("OK "):
            passed += 1
        elif line.strip():
            failed += 1
for d in sys.argv[1:]:
    path = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        failed += 1
        continue
    for line in open(path):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
