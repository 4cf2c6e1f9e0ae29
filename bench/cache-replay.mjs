// MEAL V2 with three live teachers against MEAL V2 replaying a teacher soft-label cache: epoch time
// and accuracy, same student, seed, crops and schedule. The data is Fashion-MNIST written as an
// ImageFolder of PNG files (bench/python/export_fashion_mnist.py), so the loader decodes files as it
// would ImageNet's and the accuracy means something. The cache holds one crop per epoch, drawn with
// the run's seed, so both runs train on exactly the same crops. Prints one JSON object.
// Usage: node bench/cache-replay.mjs [--train 10000] [--val 2000] [--teacher-epochs 4] [--epochs 3]
//        [--teachers resnet20,resnet32,wrn-16-2] [--student resnet8] [--out runs/bench-cache] [--json-out FILE]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { cacheTeachers, torchInfo } from '../dist/index.js';
import { report, run } from './common.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    train: { type: 'string', default: '10000' },
    val: { type: 'string', default: '2000' },
    'teacher-epochs': { type: 'string', default: '4' },
    epochs: { type: 'string', default: '3' },
    teachers: { type: 'string', default: 'resnet20,resnet32,wrn-16-2' },
    student: { type: 'string', default: 'resnet8' },
    threads: { type: 'string', default: String(availableParallelism()) },
    out: { type: 'string', default: 'runs/bench-cache' },
    'json-out': { type: 'string' },
  },
});
const threads = Number(values.threads);
const epochs = Number(values.epochs);
const seed = 1;
const folder = join(values.out, 'fashion-mnist-png');
if (!existsSync(folder)) {
  execFileSync('/usr/bin/python3', [join(ROOT, 'bench/python/export_fashion_mnist.py'), folder, values.train, values.val], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
const image = { size: 28, resize: 28, scale: [0.35, 1], ratio: [3 / 4, 4 / 3], dctScaling: true };
const data = { dataset: 'imagefolder', dataDir: folder, image };
const config = (out, patch) => ({
  method: 'supervised',
  data,
  epochs,
  batchSize: 128,
  optimizer: { lr: 0.1 },
  schedule: { type: 'cosine' },
  seed,
  threads,
  out: join(values.out, out),
  resume: true,
  ...patch,
});

const teachers = [];
for (const [i, arch] of values.teachers.split(',').entries()) {
  teachers.push(
    await run(`teacher ${arch}`, config(`teacher-${arch}`, { model: { arch }, epochs: Number(values['teacher-epochs']), seed: 100 + i })),
  );
}
const checkpoints = teachers.map((t) => t.checkpoint);
const alone = await run(`${values.student} alone`, config(`alone-${values.student}`, { model: { arch: values.student } }));
const mealv2 = (out, patch) =>
  config(out, {
    method: 'mealv2',
    teachers: checkpoints,
    model: { arch: values.student, init: alone.checkpoint },
    optimizer: { lr: 0.01 },
    ...patch,
  });

const live = await run('MEAL V2, live teachers', mealv2('mealv2-live', {}));
const cachePath = join(values.out, 'teachers.softlabels');
const cacheStart = performance.now();
if (!existsSync(cachePath)) {
  await cacheTeachers({
    teachers: checkpoints,
    dataDir: folder,
    out: cachePath,
    crops: epochs,
    topK: 10,
    temperature: 1,
    logits: true,
    perTeacher: false,
    seed,
    image: { size: image.size, scale: image.scale, ratio: image.ratio, dctScaling: image.dctScaling },
    flip: true,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    batchSize: 256,
    device: 'cpu',
    workers: 0,
  });
}
const cacheSeconds = (performance.now() - cacheStart) / 1000;
const cached = await run(
  'MEAL V2, cached soft labels',
  mealv2('mealv2-cached', { teachers: [], data: { ...data, softLabels: cachePath } }),
);

const epochSeconds = (r) => r.trainSeconds / r.epochs;
report(
  {
    benchmark: 'cache-replay',
    torch: torchInfo().runtimeVersion,
    threads,
    setup: {
      data: `Fashion-MNIST as PNG files, ${values.train} train / ${values.val} val`,
      teachers: teachers.map((t) => ({ arch: t.arch, top1: t.top1 })),
      student: values.student,
      epochs,
      crops: epochs,
      topK: 10,
    },
    alone: { top1: alone.top1 },
    live: { top1: live.top1, epochSeconds: epochSeconds(live) },
    cached: { top1: cached.top1, epochSeconds: epochSeconds(cached), cacheSeconds },
    speedup: epochSeconds(live) / epochSeconds(cached),
    target: { speedup: 3, top1: 'equal within noise' },
  },
  values['json-out'],
);
