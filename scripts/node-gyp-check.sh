#!/usr/bin/env bash
# Builds the addon with node-gyp from binding.gyp (the same sources and LibTorch discovery as the
# CMake build: scripts/native-build.mjs) in build-gyp/, away from CMake's build/, and trains one
# step on Fashion-MNIST with it. CI runs this on every change, so binding.gyp cannot rot.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=build-gyp/tree
rm -rf "$tree"
mkdir -p "$tree"
cp -r binding.gyp package.json native scripts "$tree/"
ln -s "$PWD/node_modules" "$tree/node_modules"
gyp=$(node -p "require.resolve('node-gyp/bin/node-gyp.js', { paths: [require('path').dirname(process.execPath) + '/../lib/node_modules/npm'] })")
# Debian's nodejs ships Node's headers in /usr/include/node; elsewhere node-gyp fetches them.
nodedir=()
[[ -f /usr/include/node/node_api.h ]] && nodedir=(--nodedir=/usr)
if command -v ccache >/dev/null; then
  export CXX="ccache g++" CC="ccache gcc" CCACHE_BASEDIR="$PWD/$tree"
fi
(cd "$tree" && node "$gyp" rebuild "${nodedir[@]}" -j "$(nproc)" >&2)
addon="$PWD/$tree/build/Release/distillery.node"
step=$(DISTILLERY_ADDON="$addon" node scripts/smoke-step.mjs ./dist/index.js)
echo "node-gyp build: $addon trains a step: $step" >&2
