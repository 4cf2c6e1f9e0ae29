// One training step through the package's public API, for checks of a build or an install:
//   node scripts/smoke-step.mjs [module]   (default 'distillery'; a path such as ./dist/index.js works)
// Prints {version, loss, count, addon} as JSON (addon: the prebuild's flavour, or local/env); exits 1 when the step does not run or its result is wrong.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const specifier = process.argv[2] ?? 'distillery';
const { Dataset, Loader, Model, Objective, Trainer, VERSION, addonChoice, setSeed } = await import(
  specifier.startsWith('.') || specifier.startsWith('/') ? pathToFileURL(resolve(specifier)).href : specifier
);
setSeed(0);
const data = await Dataset.loadIdx('/usr/share/datasets/fashion-mnist', 'test');
const loader = new Loader(data, {
  batchSize: 32,
  shuffle: false,
  dropLast: false,
  seed: 0,
  pad: 0,
  flip: false,
  workers: 1,
  prefetch: 1,
  mean: [0.286],
  std: [0.353],
});
const batch = (await loader.epoch(0).next()).value;
const model = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
const trainer = new Trainer(model, { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0, noDecayBnBias: false });
const objective = await Objective.create('supervised', trainer, []);
const stats = await trainer.step(batch, objective, 0.1);
for (const handle of [objective, batch, trainer, model, loader, data]) handle.dispose();
if (!(stats.count === 32 && Number.isFinite(stats.loss))) {
  console.error(`smoke-step: unexpected step result ${JSON.stringify(stats)}`);
  process.exit(1);
}
const { kind, flavour } = addonChoice() ?? {};
console.log(JSON.stringify({ version: VERSION, loss: stats.loss, count: stats.count, addon: flavour ?? kind }));
