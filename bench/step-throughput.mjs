// Training-step throughput of distillery against the same model and step in Python PyTorch on the
// same LibTorch and thread count, measured in one run. Prints one JSON object on stdout.
// Usage: node bench/step-throughput.mjs [--archs resnet20,resnet56] [--batch 128] [--threads N] [--steps 20]
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Dataset, Loader, Model, Trainer, setSeed, setThreads, torchInfo } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    archs: { type: 'string', default: 'resnet20,resnet56' },
    batch: { type: 'string', default: '128' },
    threads: { type: 'string', default: String(availableParallelism()) },
    warmup: { type: 'string', default: '3' },
    steps: { type: 'string', default: '20' },
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
    batchSize, shuffle: true, dropLast: true, seed: 0, pad: 0, flip: false, workers: 1, prefetch: 1, mean: [0.286], std: [0.353],
  });
  // One batch, stepped repeatedly: this measures the step, not the loader (bench/loader covers that).
  const iterator = loader.epoch(0);
  const batch = (await iterator.next()).value;
  const model = Model.create({ arch, inChannels: 1, numClasses: 10 });
  const trainer = new Trainer(model, { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 5e-4, noDecayBnBias: false });
  await iterator.return(undefined);
  loader.dispose();
  for (let i = 0; i < warmup; i++) await trainer.step(batch, { method: 'supervised', lr: 0.05 });
  const start = performance.now();
  for (let i = 0; i < steps; i++) await trainer.step(batch, { method: 'supervised', lr: 0.05 });
  const seconds = (performance.now() - start) / 1000;
  trainer.dispose();
  model.dispose();
  batch.dispose();
  return { seconds, imagesPerSecond: (batchSize * steps) / seconds };
}

function pythonStep(arch) {
  const run = spawnSync(values.python, [join(here, 'python', 'step_throughput.py'), arch, String(batchSize), String(threads), String(warmup), String(steps)], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`python peer failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1));
}

const results = [];
for (const arch of values.archs.split(',')) {
  const ours = await distilleryStep(arch);
  const python = pythonStep(arch);
  results.push({
    arch,
    batch: batchSize,
    threads,
    distilleryImagesPerSecond: ours.imagesPerSecond,
    pythonImagesPerSecond: python.imagesPerSecond,
    ratio: ours.imagesPerSecond / python.imagesPerSecond,
  });
}
const info = torchInfo();
console.log(JSON.stringify({ bench: 'step-throughput', libtorch: info.runtimeVersion || info.compiledVersion, target: 'ratio >= 1.0', results }, null, 2));
