#!/usr/bin/env bash
# The whole test suite from a clean clone: installs what it needs, builds the prebuilt addon the
# way a release does, and runs vitest against it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh --tests
npm run --silent prebuild >&2
export PREBUILDS_ONLY=1
npm run --silent typecheck
exec npx vitest run "$@"
