#!/usr/bin/env bash
# The whole test suite from a clean clone: installs what it needs, builds the prebuilt addon the
# way a release does, checks types and style (npm run lint), smoke-fuzzes the native parsers, builds
# through node-gyp too, and runs vitest against the addon.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh --tests
npm run --silent build:prebuilds >&2
export PREBUILDS_ONLY=1
npm run --silent typecheck
npm run --silent lint
# Every native parser under libFuzzer + ASan + UBSan for a few seconds: a smoke, not the campaign
# (npm run fuzz -- --minutes N); the TypeScript readers' fuzzing runs in the suite below.
scripts/fuzz.sh --seconds 5 image file_list idx cifar safetensors soft_labels model_spec
# binding.gyp builds the same addon with node-gyp, and it trains.
scripts/node-gyp-check.sh
exec npx vitest run "$@"
