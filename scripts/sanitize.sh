#!/usr/bin/env bash
# The native core and addon built with AddressSanitizer and UndefinedBehaviorSanitizer (g++), then
# exercised through Node: a short supervised run, a short MEAL run and a short run on an ImageFolder
# of PNG and JPEG files, then the test files that drive the native parsers, loaders and writers.
# Any sanitizer report ends the script with exit 1. Usage: scripts/sanitize.sh [vitest files...]
# (default: the addon, data, image, limits, inputs, outputs, weights and soft-label tests).
set -euo pipefail
cd "$(dirname "$0")/.."
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
npx --no-install cmake-js configure -O build-asan --CDCMAKE_BUILD_TYPE=RelWithDebInfo \
  "--CDCMAKE_CXX_FLAGS=$flags" "--CDCMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined" >&2
cmake --build build-asan >&2
npm run --silent build:ts

# Node itself is not instrumented, so the runtime is preloaded; Node's own allocations at exit are
# not ours to report, so leak checking is off (the fuzzers check leaks, parser by parser).
export LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export DISTILLERY_ADDON="$PWD/build-asan/Release/distillery.node"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Python (the tests' reference) must not run with the sanitizer runtime preloaded.
python() { LD_PRELOAD= /usr/bin/python3 "$@"; }
python test/python/image_reference.py stripes "$out/images" 40 >/dev/null
common=(--arch resnet8 --epochs 1 --train-limit 512 --batch-size 64 --threads 2 --quiet)
node dist/cli.js train "${common[@]}" --out "$out/teacher"
node dist/cli.js distill --method meal "${common[@]}" --teachers "$out/teacher/checkpoint.ckpt" --out "$out/meal"
node dist/cli.js train --dataset imagefolder --data-dir "$out/images" --image-size 32 --arch resnet8 --epochs 1 \
  --batch-size 16 --threads 2 --quiet --out "$out/images-run"
echo "sanitize: training runs clean" >&2
files=("$@")
((${#files[@]})) || files=(test/addon.test.ts test/data.test.ts test/image-data.test.ts test/limits.test.ts test/inputs.test.ts test/outputs.test.ts test/weights.test.ts test/soft-labels.test.ts)
npx vitest run "${files[@]}"
