// Noisy-data refinement on Fashion-MNIST: symmetric label noise at each rate, teachers trained on
// the noisy labels, then (a) the student trained on the noisy labels directly, (b) MEAL from the
// noisy-trained teachers with CE on the noisy labels, (c) the teachers relabel the data
// (`distillery refine`) and the student learns with MEAL + CE on the refined labels. Prints one
// JSON object (progress on stderr) and writes it to --json-out; rerun it to reproduce every number.
// Usage: node bench/noisy-refine.mjs [--rates 0.2,0.4] [--teachers resnet20,resnet14,resnet8]
//        [--student resnet8] [--train-limit 10000] [--teacher-epochs 5] [--epochs 5] [--seed 1]
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { torchInfo } from '../dist/index.js';
import { refineLabels } from '../dist/methods/refine.js';
import { COMMON_OPTIONS, recipe, report, run } from './common.mjs';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '0.2,0.4' },
    teachers: { type: 'string', default: 'resnet20,resnet14,resnet8' },
    student: { type: 'string', default: 'resnet8' },
    'teacher-epochs': { type: 'string', default: '5' },
    epochs: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    threshold: { type: 'string', default: '0.5' },
    'ce-weight': { type: 'string', default: '1' },
    out: { type: 'string', default: 'runs/bench-noisy' },
    ...COMMON_OPTIONS,
  },
});
const dataDir = values['data-dir'];
const seed = Number(values.seed);
const ceWeight = Number(values['ce-weight']);

const base = (arch, epochs, runSeed, out, data) => recipe(values, { epochs, seed: runSeed, out, data, model: { arch } });

const rows = [];
for (const rate of values.rates.split(',').map(Number)) {
  const labelNoise = { type: 'symmetric', rate, seed: 0 };
  const noisy = { labelNoise };
  const tag = `noise${rate}`;
  const teachers = [];
  for (const [i, arch] of values.teachers.split(',').entries()) {
    teachers.push(
      await run(`${tag} teacher ${arch}`, {
        ...base(arch, Number(values['teacher-epochs']), 100 + i, `${tag}-teacher-${arch}`, noisy),
        method: 'supervised',
      }),
    );
  }
  const checkpoints = teachers.map((t) => t.checkpoint);
  const epochs = Number(values.epochs);
  const alone = await run(`${tag} student on noisy labels`, {
    ...base(values.student, epochs, seed, `${tag}-alone`, noisy),
    method: 'supervised',
  });
  const meal = { ceWeight, update: 'joint' };
  const mealNoisy = await run(`${tag} MEAL + CE on noisy labels`, {
    ...base(values.student, epochs, seed, `${tag}-meal-noisy`, noisy),
    method: 'meal',
    teachers: checkpoints,
    meal,
  });
  const refined = {};
  for (const mode of ['relabel', 'drop']) {
    const labels = join(values.out, `${tag}-${mode}.labels`);
    const refine = await refineLabels({
      teachers: checkpoints,
      dataDir,
      out: labels,
      threshold: Number(values.threshold),
      mode,
      labelNoise,
      device: 'cpu',
      batchSize: 1000,
      mean: [0.286],
      std: [0.353],
    });
    process.stderr.write(
      `${tag} refine ${mode}: correct labels ${(100 * refine.givenAccuracy).toFixed(2)}% -> ${(100 * refine.refinedAccuracy).toFixed(2)}% (${refine.kept} kept)\n`,
    );
    const student = await run(`${tag} MEAL + CE on ${mode} labels`, {
      ...base(values.student, epochs, seed, `${tag}-meal-${mode}`, { labels }),
      method: 'meal',
      teachers: checkpoints,
      meal,
    });
    refined[mode] = {
      top1: student.top1,
      labelAccuracy: refine.refinedAccuracy,
      kept: refine.kept,
      changed: refine.relabelled + refine.dropped,
    };
  }
  rows.push({
    rate,
    teachers: teachers.map((t) => ({ arch: t.arch, top1: t.top1 })),
    ensemble: mealNoisy.ensemble,
    givenLabelAccuracy: 1 - Math.round(rate * 60000) / 60000,
    studentOnNoisy: alone.top1,
    mealOnNoisy: mealNoisy.top1,
    mealOnRefined: refined,
  });
}

report(
  {
    benchmark: 'noisy-refine',
    torch: torchInfo().runtimeVersion,
    setup: {
      noise: 'symmetric, seed 0',
      trainLimit: Number(values['train-limit']),
      teacherEpochs: Number(values['teacher-epochs']),
      studentEpochs: Number(values.epochs),
      seed,
      threshold: Number(values.threshold),
      meal: `joint, logits, ceWeight ${ceWeight}`,
      student: values.student,
    },
    rows,
  },
  values['json-out'],
);
