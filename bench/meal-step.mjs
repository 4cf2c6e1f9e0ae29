// MEAL step throughput of distillery against the same step in Python PyTorch (bench/python/meal_step.py)
// on the same LibTorch and thread count, measured in one run: the official joint update, one
// teacher per step in turn, with and without intermediate blocks. Prints one JSON object.
// Rounds alternate between the two so drift in machine speed hits both; medians are reported.
// Usage: node bench/meal-step.mjs [--student resnet8] [--teachers resnet20,resnet32,resnet56]
//        [--variants none,2,3] [--batch 128] [--threads N] [--steps 20] [--rounds 3]
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Dataset, Loader, Model, Objective, Trainer, setSeed, setThreads, torchInfo } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    student: { type: 'string', default: 'resnet8' },
    teachers: { type: 'string', default: 'resnet20,resnet32,resnet56' },
    // Each variant: the stages matched besides the logits ("none": logits only, the official default).
    variants: { type: 'string', default: 'none;2,3' },
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
const teacherArchs = values.teachers.split(',');

async function distilleryStep(blocks) {
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
  // One batch object per step, loaded before timing: the distiller keeps the teachers' outputs for
  // the batch it last saw (for the several phases of alternating updates), and a repeated batch
  // object would skip the teacher forwards this benchmark means to count.
  const batches = [];
  for await (const b of loader.epoch(0)) {
    batches.push(b);
    if (batches.length === warmup + steps) break;
  }
  loader.dispose();
  const spec = (arch) => ({ arch, inChannels: 1, numClasses: 10 });
  const student = await Model.create(spec(values.student));
  const teachers = teacherArchs.map((a) => Model.create(spec(a)));
  const trainer = new Trainer(student, { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 5e-4, noDecayBnBias: false });
  const block = (name) => ({ name, weight: 1, adversarialWeight: 1, discriminator: true });
  const meal = await Objective.create('meal', trainer, teachers, {
    blocks: [...(blocks === 'none' ? [] : blocks.split(',').map((s) => block(`stage${s}`))), block('logits')],
    pooling: 'max',
    similarity: 'ce',
    temperature: 1,
    adversarial: true,
    discriminator: { divisors: [2, 4], minWidth: 2, outputRelu: false },
    ceWeight: 0,
    teacherTrainMode: false,
    grlScale: 1,
    inputShape: [1, 28, 28],
  });
  const step = async (i) => trainer.step(batches[i], meal, 0.1, { phase: 'joint', teachers: [i % teachers.length], discriminatorLr: 1e-3 });
  for (let i = 0; i < warmup; i++) await step(i);
  const start = performance.now();
  for (let i = 0; i < steps; i++) await step(warmup + i);
  const seconds = (performance.now() - start) / 1000;
  meal.dispose();
  trainer.dispose();
  student.dispose();
  for (const t of teachers) t.dispose();
  for (const b of batches) b.dispose();
  dataset.dispose();
  return { seconds, imagesPerSecond: (batchSize * steps) / seconds };
}

function pythonStep(blocks) {
  const args = [
    join(here, 'python', 'meal_step.py'),
    values.student,
    values.teachers,
    blocks,
    String(batchSize),
    String(threads),
    String(warmup),
    String(steps),
    values['data-dir'],
  ];
  const run = spawnSync(values.python, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python peer failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (const blocks of values.variants.split(';')) {
  const ours = [];
  const python = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    ours.push((await distilleryStep(blocks)).imagesPerSecond);
    python.push(pythonStep(blocks).imagesPerSecond);
  }
  results.push({
    student: values.student,
    teachers: teacherArchs,
    blocks: blocks === 'none' ? ['logits'] : [...blocks.split(',').map((s) => `stage${s}`), 'logits'],
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
  JSON.stringify({ bench: 'meal-step', libtorch: info.runtimeVersion || info.compiledVersion, target: 'ratio >= 1.0', results }, null, 2),
);
