#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ (clang, ASan + UBSan) and runs each of them, then the
# fast-check fuzzing of the TypeScript readers (test/fuzz-parsers.test.ts) for as long.
#   scripts/fuzz.sh [--minutes N | --seconds N] [--runs N] [--record FILE] [target...]
# Default: 1 minute per target, every target (the native ones and "ts"). --runs stops a native
# target after N executions instead (the time then only bounds it). New corpus entries go to
# build-fuzz/corpus/<target> (the checked-in seeds in fuzz/corpus stay as they are); a crash, leak
# or hang leaves its input in build-fuzz/artifacts/<target>/ and makes the script exit 1. --record
# writes a JSON summary (executions, seconds, findings per target) for bench/results.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
runs=-1
record=""
targets=()
while (($#)); do
  case "$1" in
    --minutes) seconds=$(($2 * 60)); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; seconds=$((7 * 24 * 3600)); shift 2 ;;
    --record) record=$2; shift 2 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(image file_list idx cifar safetensors soft_labels model_spec ts)
native=()
for target in "${targets[@]}"; do [[ $target == ts ]] || native+=("$target"); done

clangxx=$(command -v clang++-14 || command -v clang++ || true)
[[ -n "$clangxx" ]] || { echo "fuzz.sh: clang is needed: sudo apt-get install clang-14 libclang-rt-14-dev" >&2; exit 1; }
cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER="$clangxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
((${#native[@]} == 0)) || cmake --build build-fuzz --target "${native[@]/#/fuzz_}" >&2

# LibTorch allocates on first use and keeps it for the process: not a leak of one input.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0"
summary="["
failed=0
for target in "${native[@]}"; do
  corpus=build-fuzz/corpus/$target artifacts=build-fuzz/artifacts/$target
  mkdir -p "$corpus" "$artifacts"
  log=build-fuzz/$target.log
  status=0
  ./build-fuzz/fuzz_"$target" -max_total_time="$seconds" -runs="$runs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "fuzz/corpus/$target" >"$log" 2>&1 || status=$?
  done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  found=$(find "$artifacts" -type f | wc -l)
  echo "fuzz $target: ${done_runs:-0} executions in ${took:-?} s, exit $status, $found finding(s) in $artifacts" >&2
  if ((status != 0)); then
    failed=1
    grep -m 20 -E "ERROR|SUMMARY|runtime error|#0|#1 |#2 |#3 " "$log" >&2 || tail -20 "$log" >&2
  fi
  summary+="$([[ $summary == "[" ]] || echo ,){\"target\":\"$target\",\"executions\":${done_runs:-0},\"seconds\":${took:-0},\"exit\":$status,\"findings\":$found}"
done
if [[ " ${targets[*]} " == *" ts "* ]]; then
  status=0
  ts_seconds=$((seconds > 3600 ? 3600 : seconds))
  DISTILLERY_FUZZ_SECONDS=$ts_seconds DISTILLERY_FUZZ_COUNTS=build-fuzz/ts-counts.json npx vitest run test/fuzz-parsers.test.ts >build-fuzz/ts.log 2>&1 || status=$?
  count=$(node -e 'const c = require("./build-fuzz/ts-counts.json"); console.log(Object.values(c).reduce((a, b) => a + b, 0))' 2>/dev/null || echo 0)
  echo "fuzz ts: $count executions in about $((4 * ts_seconds)) s (4 readers), exit $status" >&2
  ((status == 0)) || { failed=1; grep -E "Counterexample|Caused by|FAIL" build-fuzz/ts.log >&2 || tail -20 build-fuzz/ts.log >&2; }
  summary+="$([[ $summary == "[" ]] || echo ,){\"target\":\"ts\",\"executions\":$count,\"seconds\":$((4 * ts_seconds)),\"exit\":$status,\"findings\":$status}"
fi
summary+="]"
if [[ -n "$record" ]]; then
  node -e 'const [file, json] = process.argv.slice(1); require("fs").writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), cpu: require("os").cpus()[0].model, targets: JSON.parse(json) }, null, 2) + "\n")' "$record" "$summary"
fi
exit $failed
