#!/usr/bin/env bash
# The whole test suite from a clean clone: installs what it needs, builds the prebuilt addons the
# way a release does (Debian's LibTorch 1.13 and pip's torch 2.13 CPU), checks types and style (npm
# run lint), smoke-fuzzes the native parsers, builds through node-gyp too, and runs vitest against
# the addon.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh --tests
npm run --silent build:prebuilds >&2
# The PyTorch 2.x CPU flavour too, from pip's wheel (a venv in the user's cache, kept between runs
# like ccache): built, chosen for that torch and loaded as a user's install would, and one step
# trained on it. The package test below then packs both prebuilds.
torch_bin=$(scripts/pytorch-venv.sh "${DISTILLERY_CI_TORCH:-torch==2.13.0+cpu}")
LIBTORCH_USE_PYTORCH=1 PATH="$torch_bin:$PATH" npm run --silent build:prebuilds >&2
LIBTORCH_USE_PYTORCH=1 PATH="$torch_bin:$PATH" PREBUILDS_ONLY=1 node scripts/smoke-step.mjs ./dist/index.js >&2
export PREBUILDS_ONLY=1
npm run --silent typecheck
npm run --silent lint
# Every native parser under libFuzzer + ASan + UBSan for a few seconds: a smoke, not the campaign
# (npm run fuzz -- --minutes N); the TypeScript readers' fuzzing runs in the suite below.
scripts/fuzz.sh --seconds 5 image file_list idx cifar safetensors soft_labels model_spec
# binding.gyp builds the same addon with node-gyp, and it trains.
scripts/node-gyp-check.sh
exec npx vitest run "$@"
