#!/bin/sh
# prebuildify drives node-gyp ("rebuild --target=... --arch=... --release") and takes the addon from
# build/Release; distillery builds with cmake-js in Node-API mode, which needs no Node headers and
# takes none of those arguments. Each flavour (scripts/prebuild.mjs sets DISTILLERY_FLAVOUR) has
# its own tree, build-<flavour>, so switching LibTorch never meets another's CMake cache; ccache
# shares what they have in common. A prebuild carries no RUNPATH (DISTILLERY_PORTABLE).
set -e
tree="build-${DISTILLERY_FLAVOUR:?scripts/prebuild.mjs sets DISTILLERY_FLAVOUR}"
npx --no-install cmake-js compile --out "$tree" --CDDISTILLERY_PORTABLE=ON
mkdir -p build/Release
cp "$tree/Release/distillery.node" build/Release/distillery.node
