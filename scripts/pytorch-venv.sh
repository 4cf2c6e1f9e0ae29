#!/usr/bin/env bash
# Makes (once) a virtual environment with pip's torch for the LibTorch 2.x flavour, and prints its
# bin directory: put it first on PATH with LIBTORCH_USE_PYTORCH=1 to build or run that flavour.
#   scripts/pytorch-venv.sh [torch requirement (default torch)] [venv directory]
# The default directory is in the user's cache (kept between clones and CI runs, like ccache), one
# per requirement.
set -euo pipefail
requirement="${1:-torch}"
venv="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/distillery/venv-$(echo "$requirement" | tr -c 'A-Za-z0-9.+=\n' '_')}"
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  python3 -m venv "$venv"
  echo "pytorch-venv: installing $requirement into $venv" >&2
  "$venv/bin/pip" install --quiet "$requirement" >&2
fi
echo "$venv/bin"
