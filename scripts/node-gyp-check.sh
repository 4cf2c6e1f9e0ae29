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
DISTILLERY_ADDON="$addon" node --input-type=module -e "
import { Dataset, Loader, Model, Objective, Trainer, torchInfo } from './dist/index.js';
const data = await Dataset.loadIdx('/usr/share/datasets/fashion-mnist', 'test');
const loader = new Loader(data, { batchSize: 16, shuffle: false, dropLast: false, seed: 0, pad: 0, flip: false, workers: 1, prefetch: 1, mean: [0.286], std: [0.353] });
const batch = (await loader.epoch(0).next()).value;
const model = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
const trainer = new Trainer(model, { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0, noDecayBnBias: false });
const objective = await Objective.create('supervised', trainer, []);
const stats = await trainer.step(batch, objective, 0.1);
if (!(stats.count === 16 && Number.isFinite(stats.loss))) throw new Error('unexpected step ' + JSON.stringify(stats));
console.error('node-gyp build: $addon trains (LibTorch ' + torchInfo().compiledVersion + ', loss ' + stats.loss.toFixed(3) + ')');
for (const h of [objective, batch, trainer, model, loader, data]) h.dispose();
"
