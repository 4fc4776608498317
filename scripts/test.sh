#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every meson test
# in a normal build and again in an ASan+UBSan build, then print one summary
# line "tests: N passed, N failed, N skipped".
# Extra arguments go to `meson test` (e.g. --suite token).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Browser tests drive Debian's Chromium with playwright-core (no download).
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

status=0
run_suite() {
  local dir=$1
  shift
  echo "== $dir" >&2
  scripts/build.sh "$dir" "$@"
  meson test -C "$dir" --print-errorlogs --num-processes 2 \
    "${test_args[@]}" || status=1
}

test_args=("$@")
run_suite build
run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbuildtype=debug

python3 - build build-asan <<'PY'
import json, os, sys
passed = failed = skipped = 0
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
