#!/usr/bin/env bash
# Builds the addon against pip's PyTorch 2.x (CPU) and runs the test suite with it: the documented
# job for the LibTorch 2.x flavour (docs/install.md). Needs a torch wheel pip can install (PyPI, or
# a local find-links directory) and what scripts/test.sh needs; the Debian build is left untouched.
# Usage: scripts/test-pytorch.sh [torch requirement, default "torch"] [vitest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
requirement="${1:-torch}"
shift || true
venv="${DISTILLERY_PYTORCH_VENV:-.venv-pytorch}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import torch" 2>/dev/null || "$venv/bin/pip" install --quiet "$requirement"
echo "testing against torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null)" >&2
export LIBTORCH_USE_PYTORCH=1
export PATH="$PWD/$venv/bin:$PATH"
npx --no-install cmake-js configure -O build-pytorch >&2
cmake --build build-pytorch >&2
npm run --silent build:ts
DISTILLERY_ADDON="$PWD/build-pytorch/Release/distillery.node" npx vitest run "$@"
