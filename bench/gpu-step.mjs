// Training-step throughput on a device (a GPU when lent one), against the same step in Python
// PyTorch on the same machine: ResNet-50 supervised at batch 256 in fp32, bf16 autocast and
// channels_last, and MEAL's joint step with three ResNet teachers. One JSON object on stdout.
// Rounds alternate between the two sides; medians are reported.
// Usage: node bench/gpu-step.mjs [--device cuda] [--python python3] [--batch 256] [--size 224]
//        [--variants fp32,bf16,nhwc,bf16-nhwc] [--meal-teachers resnet34,resnet50,resnet101] [--json-out FILE]
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Dataset, Loader, Model, Objective, Trainer, setCudnnBenchmark, setSeed, torchInfo } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'cuda' },
    python: { type: 'string', default: 'python3' },
    arch: { type: 'string', default: 'resnet50' },
    batch: { type: 'string', default: '256' },
    size: { type: 'string', default: '224' },
    variants: { type: 'string', default: 'fp32,bf16,nhwc,bf16-nhwc' },
    'meal-student': { type: 'string', default: 'resnet18' },
    'meal-teachers': { type: 'string', default: 'resnet34,resnet50,resnet101' },
    'meal-batch': { type: 'string', default: '128' },
    warmup: { type: 'string', default: '5' },
    steps: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    images: { type: 'string', default: join(tmpdir(), 'distillery-gpu-bench-images') },
    'json-out': { type: 'string' },
  },
});
const device = values.device;
const size = Number(values.size);
const warmup = Number(values.warmup);
const steps = Number(values.steps);

if (!existsSync(values.images)) {
  const made = spawnSync(values.python, [join(here, 'python', 'make_noise_images.py'), values.images, '512', String(size + 32)], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`writing the bench images failed: ${made.stderr}`);
}

/** The first batch of the image folder (Resize + CenterCrop to `size`), as the step takes it. */
async function firstBatch(batchSize, channelsLast) {
  const dataset = await Dataset.openImageFolder({ root: values.images, train: false, size, resize: size });
  const loader = new Loader(dataset, {
    batchSize,
    shuffle: false,
    dropLast: true,
    seed: 0,
    pad: 0,
    flip: false,
    workers: 0,
    prefetch: 1,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    pinMemory: device !== 'cpu',
    channelsLast,
  });
  const iterator = loader.epoch(0);
  const batch = (await iterator.next()).value;
  await iterator.return(undefined);
  loader.dispose();
  dataset.dispose();
  return batch;
}

async function distillery(mode, variant) {
  setSeed(0);
  setCudnnBenchmark(true);
  const nhwc = variant.includes('nhwc');
  const batchSize = Number(mode === 'meal' ? values['meal-batch'] : values.batch);
  const batch = await firstBatch(batchSize, nhwc);
  const spec = (arch) => ({ arch, inChannels: 3, numClasses: 1000 });
  const student = await Model.create(spec(mode === 'meal' ? values['meal-student'] : values.arch), device);
  const teachers = mode === 'meal' ? values['meal-teachers'].split(',').map((a) => Model.create(spec(a), device)) : [];
  for (const m of nhwc ? [student, ...teachers] : []) await m.toChannelsLast();
  const trainer = new Trainer(student, { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 5e-4, noDecayBnBias: false });
  await trainer.setPrecision(variant.startsWith('bf16') ? 'bf16' : 'fp32');
  const meal =
    mode === 'meal'
      ? await Objective.create('meal', trainer, teachers, {
          blocks: [{ name: 'logits', weight: 1, adversarialWeight: 1, discriminator: true }],
          pooling: 'max',
          similarity: 'ce',
          temperature: 1,
          adversarial: true,
          discriminator: { divisors: [2, 4], minWidth: 2, outputRelu: false },
          ceWeight: 0,
          teacherTrainMode: false,
          grlScale: 1,
          inputShape: [3, size, size],
        })
      : await Objective.create('supervised', trainer, []);
  let index = 0;
  const step = async () => {
    if (mode === 'meal')
      await trainer.step(batch, meal, 0.05, { phase: 'joint', teachers: [index++ % teachers.length], discriminatorLr: 0.05 });
    else await trainer.step(batch, meal, 0.05);
  };
  for (let i = 0; i < warmup; i++) await step();
  const start = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const seconds = (performance.now() - start) / 1000;
  meal.dispose();
  trainer.dispose();
  for (const m of [student, ...teachers]) m.dispose();
  batch.dispose();
  return (batchSize * steps) / seconds;
}

function python(mode, variant) {
  const batchSize = mode === 'meal' ? values['meal-batch'] : values.batch;
  const student = mode === 'meal' ? values['meal-student'] : values.arch;
  const teachers = mode === 'meal' ? values['meal-teachers'] : '';
  const run = spawnSync(
    values.python,
    [join(here, 'python', 'gpu_step.py'), mode, device, batchSize, String(size), variant, String(warmup), String(steps), student, teachers],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`python peer failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)).imagesPerSecond;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cases = [...values.variants.split(',').map((v) => ['supervised', v]), ['meal', 'bf16']];
const results = [];
for (const [mode, variant] of cases) {
  const ours = [];
  const theirs = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    ours.push(await distillery(mode, variant));
    theirs.push(python(mode, variant));
  }
  results.push({
    mode,
    variant,
    distilleryImagesPerSecond: median(ours),
    pythonImagesPerSecond: median(theirs),
    ratio: median(ours) / median(theirs),
    rounds: { distillery: ours, python: theirs },
  });
  console.error(
    `${mode} ${variant}: ${median(ours).toFixed(0)} vs ${median(theirs).toFixed(0)} img/s (${(median(ours) / median(theirs)).toFixed(2)}x)`,
  );
}
const info = torchInfo();
const report = {
  bench: 'gpu-step',
  device,
  gpu: info.devices[0]?.name ?? 'none',
  libtorch: info.runtimeVersion || info.compiledVersion,
  setup: {
    arch: values.arch,
    batch: Number(values.batch),
    size,
    mealStudent: values['meal-student'],
    mealTeachers: values['meal-teachers'],
    mealBatch: Number(values['meal-batch']),
  },
  target: 'ratio >= 1.0',
  results,
};
const text = JSON.stringify(report, null, 2);
if (values['json-out']) writeFileSync(values['json-out'], `${text}\n`);
console.log(text);
