#!/usr/bin/env bash
# The CUDA flavour without a GPU: builds the prebuild against pip's CUDA torch and NVIDIA's wheels
# (scripts/cuda-wheels.sh), which compiles and links every CUDA and NCCL code path for real, then
# loads it on this machine (the CUDA libraries load without a driver; no GPU is seen) and trains a
# step on the CPU through it. On a GPU machine the same prebuild runs the CUDA tests (bench/gpu).
#   scripts/build-cuda.sh [VENV (default .venv-cuda)] [torch requirement (default torch==2.14.1)]
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/cuda-wheels.sh "$@")"
npm run --silent build:prebuilds >&2
# doctor names the prebuild it loaded ("prebuild torch-2.14-cu13, compiled for LibTorch 2.14.1 CUDA"),
# the c10d backends compiled in (nccl among them) and that no GPU is seen here.
PREBUILDS_ONLY=1 node dist/cli.js doctor >&2 || true
PREBUILDS_ONLY=1 node dist/cli.js doctor --json | node -e '
const { checks } = JSON.parse(require("fs").readFileSync(0, "utf8"));
const addon = checks.find((c) => c.name === "addon");
if (!addon?.ok || !/prebuild torch-\S+-cu\d+, compiled for LibTorch \S+ CUDA/.test(addon.detail)) {
  console.error("build-cuda: the CUDA prebuild did not load: " + JSON.stringify(addon));
  process.exit(1);
}'
PREBUILDS_ONLY=1 node scripts/smoke-step.mjs ./dist/index.js
