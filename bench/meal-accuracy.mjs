// Accuracy of MEAL against the same student trained alone and with Hinton KD, on Fashion-MNIST:
// three different teachers, one student architecture, the same epochs and schedule for every
// student, several seeds. Prints one JSON object on stdout (progress on stderr) and writes it to
// --json-out. Every number comes from runs this script makes; rerun it to reproduce them. Finished
// runs in --out are reused (their checkpoints record accuracy and training speed), so adding a
// method to --methods trains only that method.
// Usage: node bench/meal-accuracy.mjs [--teachers resnet20,resnet32,wrn-16-2] [--student resnet8]
//        [--train-limit 10000] [--teacher-epochs 6] [--epochs 5] [--seeds 1,2] [--out runs/bench-meal]
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { torchInfo } from '../dist/index.js';
import { COMMON_OPTIONS, recipe, report, run } from './common.mjs';

const { values } = parseArgs({
  options: {
    teachers: { type: 'string', default: 'resnet20,resnet32,wrn-16-2' },
    student: { type: 'string', default: 'resnet8' },
    'teacher-epochs': { type: 'string', default: '6' },
    epochs: { type: 'string', default: '5' },
    seeds: { type: 'string', default: '1,2' },
    methods: { type: 'string', default: 'alone,kd,meal-joint,meal-grl,meal-alternating,mealv2' },
    out: { type: 'string', default: 'runs/bench-meal' },
    ...COMMON_OPTIONS,
  },
});
const trainLimit = Number(values['train-limit']);
const epochs = Number(values.epochs);
const seeds = values.seeds.split(',').map(Number);

// One schedule for every run: SGD 0.1, momentum 0.9, wd 5e-4, cosine to 0.
const base = (arch, runEpochs, seed, out) => recipe(values, { epochs: runEpochs, seed, out, model: { arch } });

// The student recipes compared; each gets the same epochs and schedule.
const RECIPES = {
  alone: () => ({ method: 'supervised' }),
  kd: (teachers) => ({ method: 'kd', teachers, kd: { temperature: 4, ceWeight: 0.5, kdWeight: 0.5 } }),
  'meal-joint': (teachers) => ({ method: 'meal', teachers, meal: { update: 'joint' } }),
  'meal-grl': (teachers) => ({ method: 'meal', teachers, meal: { update: 'grl' } }),
  'meal-alternating': (teachers) => ({ method: 'meal', teachers, meal: { update: 'alternating' } }),
  'meal-blocks': (teachers) => ({ method: 'meal', teachers, meal: { blocks: ['stage2', 'stage3', 'logits'] } }),
  'meal-average': (teachers) => ({ method: 'meal', teachers, meal: { teacherSelection: 'average' } }),
  // The same with the labels too, at KD's weight (the official MEAL uses none).
  'meal-average-ce': (teachers) => ({ method: 'meal', teachers, meal: { teacherSelection: 'average', ceWeight: 0.5 } }),
  // MEAL V2 starts from a trained student (as its authors require): the same seed's student alone.
  mealv2: (teachers, seed) => ({
    method: 'mealv2',
    teachers,
    model: { arch: values.student, init: join(values.out, `alone-${values.student}-s${seed}`, 'checkpoint.ckpt') },
    optimizer: { lr: 0.01 },
  }),
};

const methods = values.methods.split(',');
for (const m of methods) if (!(m in RECIPES)) throw new Error(`unknown method ${m}; known: ${Object.keys(RECIPES).join(', ')}`);
if (methods.includes('mealv2') && !methods.includes('alone')) throw new Error('mealv2 starts from the student alone: include alone');

const teacherArchs = values.teachers.split(',');
const teachers = [];
for (const [i, arch] of teacherArchs.entries()) {
  teachers.push(
    await run(`teacher ${arch}`, { ...base(arch, Number(values['teacher-epochs']), 100 + i, `teacher-${arch}`), method: 'supervised' }),
  );
}
const checkpoints = teachers.map((t) => t.checkpoint);

const students = {};
for (const seed of seeds) {
  for (const name of methods) {
    const patch = RECIPES[name](checkpoints, seed);
    const config = { ...base(values.student, epochs, seed, `${name}-${values.student}-s${seed}`), ...patch };
    if (patch.model) config.model = patch.model;
    if (patch.optimizer) config.optimizer = { ...config.optimizer, ...patch.optimizer };
    const result = await run(`${name} seed ${seed}`, config);
    (students[name] ??= []).push({
      seed,
      top1: result.top1,
      top5: result.top5,
      imagesPerSecond: result.imagesPerSecond,
      ensemble: result.ensemble,
    });
  }
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const summary = Object.fromEntries(
  Object.entries(students).map(([name, runs]) => [
    name,
    {
      top1: mean(runs.map((r) => r.top1)),
      runs: runs.map(({ seed, top1, top5, imagesPerSecond }) => ({ seed, top1, top5, imagesPerSecond })),
    },
  ]),
);
const ensemble = Object.values(students)
  .flat()
  .find((r) => r.ensemble)?.ensemble;
const gain = (name) => (summary[name] && summary.alone ? summary[name].top1 - summary.alone.top1 : undefined);
report(
  {
    benchmark: 'meal-accuracy',
    torch: torchInfo().runtimeVersion,
    threads: Number(values.threads),
    setup: {
      trainLimit,
      teacherEpochs: Number(values['teacher-epochs']),
      studentEpochs: epochs,
      seeds,
      student: values.student,
      schedule: 'SGD lr 0.1 (MEAL V2: 0.01 from the student alone), momentum 0.9, wd 5e-4, cosine, batch 128',
    },
    teachers: teachers.map((t) => ({ arch: t.arch, top1: t.top1, params: t.params })),
    ensemble,
    students: summary,
    gainsOverAlone: Object.fromEntries(
      Object.keys(summary)
        .filter((n) => n !== 'alone')
        .map((n) => [n, gain(n)]),
    ),
  },
  values['json-out'],
);
