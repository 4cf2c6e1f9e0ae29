#!/usr/bin/env bash
# Builds the prebuild for pip's PyTorch 2.x (CPU) and runs the test suite on it: the documented job
# for the LibTorch 2.x flavour (docs/install.md). The suite loads it the way a user's install does
# (PREBUILDS_ONLY=1: the flavour chosen for the torch found, its libraries loaded by path, no
# RUNPATH). Needs a torch wheel pip can install (PyPI, or a local find-links directory) and what
# scripts/test.sh needs; other flavours' prebuilds and build trees are left alone.
# Usage: scripts/test-pytorch.sh [torch requirement, default "torch"] [vitest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
requirement="${1:-torch}"
shift || true
bin=$(scripts/pytorch-venv.sh "$requirement" ${DISTILLERY_PYTORCH_VENV:+"$DISTILLERY_PYTORCH_VENV"})
echo "testing against torch $("$bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null)" >&2
export LIBTORCH_USE_PYTORCH=1
export PATH="$bin:$PATH"
npm run --silent build:prebuilds >&2
PREBUILDS_ONLY=1 npx vitest run "$@"
