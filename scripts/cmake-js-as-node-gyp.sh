#!/bin/sh
# prebuildify drives node-gyp ("rebuild --target=... --arch=... --release"); distillery builds with
# cmake-js in Node-API mode, which needs no Node headers and takes none of those arguments.
set -e
exec npx --no-install cmake-js compile
