#!/usr/bin/env bash
# `make test`: installs what is missing, checks the format, builds, and runs every
# suite in the normal build and in an AddressSanitizer + UndefinedBehaviorSanitizer
# build, the unit and integration suites in a ThreadSanitizer build; then runs each
# libFuzzer target for a bounded time. Ends with "N passed, N failed".
#
# Environment: HOMING_TEST_QUICK=1 skips the sanitizer build and fuzzing (for a
# quick local loop; CI never sets it). Each libFuzzer run is HOMING_FUZZ_RUNS
# executions (default 20000) from a fixed seed, so the same tree gives the same
# run everywhere (a CI verdict never depends on luck), capped at
# HOMING_FUZZ_SECONDS (default 60). Longer exploration: run fuzz/fuzz_NAME by hand
# with -max_total_time (docs/hacking.md).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=0
failures=()

# tests/skips.txt: "NAME<TAB or spaces>reason" per line; a listed test may skip.
allowed_skip() { # $1 = meson test name
  [ -f tests/skips.txt ] || return 1
  awk -v n="$1" '!/^#/ && $1 == n && NF >= 2 { found = 1 } END { exit !found }' tests/skips.txt
}

count_results() { # $1 = build dir
  local log="$1/meson-logs/testlog.json"
  [ -f "$log" ] || { failed=$((failed + 1)); failures+=("$1: no test log"); return; }
  local line
  while IFS=$'\t' read -r result name; do
    case "$result" in
      OK|EXPECTEDFAIL) passed=$((passed + 1)) ;;
      SKIP)
        # A skip is a failure unless tests/skips.txt names the test with its reason.
        if allowed_skip "$name"; then
          skipped=$((skipped + 1)); failures+=("skipped (allowed): $1 $name")
        else
          failed=$((failed + 1)); failures+=("$1 $name: SKIP, not listed in tests/skips.txt")
        fi ;;
      *) failed=$((failed + 1)); failures+=("$1 $name: $result") ;;
    esac
  done < <(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    t=json.loads(l); print(t["result"]+"\t"+t["name"])' "$log")
}

build() { # $1 = dir, rest = meson options
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
    rm -f "$dir.setup.log"
  fi
  meson compile -C "$dir" || return 1
}

run_suites() { # $1 = dir, rest = meson test options
  local dir=$1; shift
  rm -f "$dir/meson-logs/testlog.json"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@"
  count_results "$dir"
}

echo "== clang-format --dry-run -Werror"
# The committed .clang-format is the house style: a file that differs fails the run.
if git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run -Werror; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); failures+=("clang-format: the files above differ from .clang-format")
fi

echo "== normal build"
if build build; then
  run_suites build
else
  failed=$((failed + 1)); failures+=("normal build failed")
fi

if [ "${HOMING_TEST_QUICK:-0}" != 1 ]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0
  if build build-asan -Db_sanitize=address,undefined -Db_lundef=false \
      -Dc_args=-fno-sanitize-recover=undefined -Dbuildtype=debug; then
    run_suites build-asan --no-suite browser --no-suite bench --timeout-multiplier 3
  else
    failed=$((failed + 1)); failures+=("sanitizer build failed")
  fi
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

  echo "== ThreadSanitizer build (unit and integration suites)"
  # The daemon runs a loop thread per core, the ingester, enrichment, notifier
  # and privacy threads. Every process a test starts writes a report file into
  # $tsan_dir if TSan sees a race; any file there fails the run, whatever the
  # test itself concluded (a daemon's report would otherwise go unread).
  tsan_dir=$(mktemp -d)
  if build build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug; then
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$tsan_dir/report" \
      run_suites build-tsan --suite unit --suite integration --no-suite timing \
      --timeout-multiplier 3
    for r in "$tsan_dir"/report*; do
      [ -f "$r" ] || continue
      failed=$((failed + 1)); failures+=("ThreadSanitizer report: $r (printed above)")
      head -60 "$r"
    done
  else
    failed=$((failed + 1)); failures+=("ThreadSanitizer build failed")
  fi
  rm -rf "$tsan_dir"

  echo "== libFuzzer runs"
  if CC=clang-14 build build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined \
      -Db_lundef=false -Dbuildtype=debug; then
    secs=${HOMING_FUZZ_SECONDS:-60}
    runs=${HOMING_FUZZ_RUNS:-20000}
    for f in build-fuzz/fuzz/fuzz_*; do
      [ -f "$f" ] && [ -x "$f" ] || continue  # not the fuzz_NAME.p object folders
      name=${f##*/fuzz_}
      work=$(mktemp -d)
      if "$f" -seed=1 -runs="$runs" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
          -artifact_prefix="$work/" "$work" "fuzz/corpus/$name" >"$work/log" 2>&1; then
        passed=$((passed + 1)); echo "fuzz $name: ok ($(grep -o 'Done [0-9]* runs in [0-9]* second' "$work/log" | tail -1))"
      else
        failed=$((failed + 1)); failures+=("libFuzzer $name found a crash: see above")
        # The sanitizer's report with its stack, and the input that crashed.
        grep -A 40 -m 1 -E "^==[0-9]+==ERROR|deadly signal|^SUMMARY" "$work/log" || tail -40 "$work/log"
        for c in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
          [ -f "$c" ] && { echo "input ($c):"; head -c 2000 "$c" | od -c | head -40; }
        done
      fi
      rm -rf "$work"
    done
  else
    failed=$((failed + 1)); failures+=("libFuzzer build failed")
  fi
fi

for f in "${failures[@]}"; do echo "  $f"; done
[ "$skipped" -gt 0 ] && echo "$skipped skipped (listed above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
