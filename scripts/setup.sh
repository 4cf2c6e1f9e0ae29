#!/usr/bin/env bash
# One command on a fresh Debian/Ubuntu machine: install everything, build, and run the quickstart
# (teachers, distillation, evaluation table on Fashion-MNIST).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
exec node dist/cli.js quickstart "$@"
