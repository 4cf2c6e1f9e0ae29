// Training-step throughput of distillery against the same model and step in Python PyTorch on the
// same LibTorch and thread count, measured in one run. Prints one JSON object on stdout.
// Rounds alternate between the two so drift in machine speed hits both; medians are reported.
// Usage: node bench/step-throughput.mjs [--archs resnet20,resnet56] [--batch 128] [--threads N] [--steps 20] [--rounds 3]
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Dataset, Loader, Model, Objective, Trainer, setSeed, setThreads, torchInfo } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    archs: { type: 'string', default: 'resnet20,resnet56' },
    batch: { type: 'string', default: '128' },
    threads: { type: 'string', default: String(availableParallelism()) },
    warmup: { type: 'string', default: '3' },
    steps: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'data-dir': { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
  },
});
const batchSize = Number(values.batch);
const threads = Number(values.threads);
const warmup = Number(values.warmup);
const steps = Number(values.steps);

async function distilleryStep(arch) {
  setThreads(threads);
  setSeed(0);
  const dataset = await Dataset.loadIdx(values['data-dir'], 'train');
  const loader = new Loader(dataset, {
    batchSize,
    shuffle: false,
    dropLast: true,
    seed: 0,
    pad: 0,
    flip: false,
    workers: 1,
    prefetch: 1,
    mean: [0.286],
    std: [0.353],
  });
  // The first batch in file order (as the Python peer), stepped repeatedly: this measures the step, not the loader.
  const iterator = loader.epoch(0);
  const batch = (await iterator.next()).value;
  const model = await Model.create({ arch, inChannels: 1, numClasses: 10 });
  const trainer = new Trainer(model, { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 5e-4, noDecayBnBias: false });
  await iterator.return(undefined);
  loader.dispose();
  const objective = await Objective.create('supervised', trainer, []);
  for (let i = 0; i < warmup; i++) await trainer.step(batch, objective, 0.05);
  const start = performance.now();
  for (let i = 0; i < steps; i++) await trainer.step(batch, objective, 0.05);
  const seconds = (performance.now() - start) / 1000;
  objective.dispose();
  trainer.dispose();
  model.dispose();
  batch.dispose();
  return { seconds, imagesPerSecond: (batchSize * steps) / seconds };
}

function pythonStep(arch) {
  const args = [
    join(here, 'python', 'step_throughput.py'),
    arch,
    String(batchSize),
    String(threads),
    String(warmup),
    String(steps),
    values['data-dir'],
  ];
  const run = spawnSync(values.python, args, {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`python peer failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (const arch of values.archs.split(',')) {
  const ours = [];
  const python = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    ours.push((await distilleryStep(arch)).imagesPerSecond);
    python.push(pythonStep(arch).imagesPerSecond);
  }
  results.push({
    arch,
    batch: batchSize,
    threads,
    distilleryImagesPerSecond: median(ours),
    pythonImagesPerSecond: median(python),
    ratio: median(ours) / median(python),
    rounds: { distillery: ours, python },
  });
}
const info = torchInfo();
console.log(
  JSON.stringify(
    { bench: 'step-throughput', libtorch: info.runtimeVersion || info.compiledVersion, target: 'ratio >= 1.0', results },
    null,
    2,
  ),
);
