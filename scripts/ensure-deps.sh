#!/usr/bin/env bash
# Installs what distillery needs on Debian/Ubuntu, skipping what is already there:
#   build:  cmake, g++, ninja, LibTorch (libtorch-dev), gloo headers (libgloo-dev), nlohmann-json, zlib, libjpeg-turbo, libpng
#   data:   Fashion-MNIST (dataset-fashion-mnist, the embedded default dataset)
#   tests:  python3-torch, python3-torchvision and python3-pil (the independent reference for golden values),
#           clang-format (the C++ style check of `npm run lint`), clang-14 and libclang-rt-14-dev (libFuzzer
#           with the sanitizers, for the fuzzing smoke of scripts/fuzz.sh)
# then the npm dependencies, the TypeScript and the native addon (scripts/prebuild.mjs).
# Usage: scripts/ensure-deps.sh [--tests]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ ninja-build libtorch-dev libgloo-dev nlohmann-json3-dev zlib1g-dev libjpeg62-turbo-dev libpng-dev dataset-fashion-mnist)
if [[ "${1:-}" == "--tests" ]]; then packages+=(python3-torch python3-torchvision python3-pil clang-format clang-14 libclang-rt-14-dev); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "distillery: need root to install: apt-get install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "distillery: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

command -v node >/dev/null || { echo "distillery: Node.js 20 or newer is needed (https://nodejs.org or apt-get install nodejs npm)" >&2; exit 1; }
# `npm install` rather than `npm ci`: npm 11 writes lock files without other platforms' optional
# packages (rollup's), which `npm ci` then rejects as out of sync.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm install --no-audit --no-fund >&2
fi
npm run --silent build:ts >&2
# The addon for the LibTorch found here, unless one that loads is there already.
node scripts/prebuild.mjs --if-needed >&2
