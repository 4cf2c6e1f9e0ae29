#!/usr/bin/env bash
# The whole test suite from a clean clone: installs what it needs, builds the prebuilt addon the
# way a release does, checks types and style (npm run lint), and runs vitest against it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh --tests
npm run --silent build:prebuilds >&2
export PREBUILDS_ONLY=1
npm run --silent typecheck
npm run --silent lint
exec npx vitest run "$@"
