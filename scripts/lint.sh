#!/usr/bin/env bash
# Style and lint checks, as CI runs them: typescript-eslint, prettier (TypeScript, JavaScript, JSON)
# and clang-format (C++ and the C bench). `scripts/lint.sh --fix` rewrites files instead of checking.
set -euo pipefail
cd "$(dirname "$0")/.."
native_files() { find native bench/c fuzz/targets -name '*.cpp' -o -name '*.h' -o -name '*.c'; }
command -v clang-format >/dev/null || { echo "distillery: clang-format is needed: apt-get install clang-format (scripts/ensure-deps.sh --tests installs it)" >&2; exit 1; }
if [[ "${1:-}" == "--fix" ]]; then
  npx eslint --fix .
  npx prettier --log-level warn --write '**/*.{ts,mjs,js,json}'
  native_files | xargs clang-format -i
else
  npx eslint .
  npx prettier --log-level warn --check '**/*.{ts,mjs,js,json}'
  native_files | xargs clang-format --dry-run --Werror
fi
