// Accuracy and training cost of ONE against the same network trained alone and against Hinton KD
// from a separately trained (larger) teacher, on Fashion-MNIST: the same epochs and schedule for
// every run, several seeds. ONE's cost is its one run; KD's is the teacher's run plus the student's.
// Prints one JSON object on stdout (progress on stderr) and writes it to --json-out. Finished runs
// in --out are reused (their checkpoints record accuracy and training time).
// Usage: node bench/one-accuracy.mjs [--arch resnet20] [--teacher resnet32] [--branches 3]
//        [--train-limit 10000] [--epochs 5] [--ramp-up 1] [--seeds 1,2] [--out runs/bench-one]
import { parseArgs } from 'node:util';

import { torchInfo } from '../dist/index.js';
import { COMMON_OPTIONS, recipe, report, run } from './common.mjs';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'resnet20' },
    teacher: { type: 'string', default: 'resnet32' },
    branches: { type: 'string', default: '3' },
    epochs: { type: 'string', default: '5' },
    // The official 80 of 300 epochs, scaled to the run.
    'ramp-up': { type: 'string' },
    seeds: { type: 'string', default: '1,2' },
    out: { type: 'string', default: 'runs/bench-one' },
    ...COMMON_OPTIONS,
  },
});
const epochs = Number(values.epochs);
const rampUp = values['ramp-up'] === undefined ? Math.round((80 / 300) * epochs) : Number(values['ramp-up']);
const seeds = values.seeds.split(',').map(Number);

const student = (seed, out, arch, patch) => recipe(values, { epochs, seed, out, model: { arch }, ...patch });

const runs = [];
for (const seed of seeds) {
  const alone = await run(
    `alone ${values.arch} seed ${seed}`,
    student(seed, `alone-${values.arch}-s${seed}`, values.arch, { method: 'supervised' }),
  );
  const one = await run(
    `one ${values.arch} seed ${seed}`,
    student(seed, `one-${values.arch}-s${seed}`, values.arch, { method: 'one', one: { branches: Number(values.branches), rampUp } }),
  );
  const teacher = await run(
    `teacher ${values.teacher} seed ${seed}`,
    student(seed, `teacher-${values.teacher}-s${seed}`, values.teacher, { method: 'supervised' }),
  );
  const kd = await run(
    `kd ${values.arch} seed ${seed}`,
    student(seed, `kd-${values.arch}-s${seed}`, values.arch, {
      method: 'kd',
      teachers: [teacher.checkpoint],
      kd: { temperature: 4, ceWeight: 0.5, kdWeight: 0.5 },
    }),
  );
  const ensemble = one.outputs.at(-1);
  runs.push({
    seed,
    alone: { top1: alone.top1, trainSeconds: alone.trainSeconds, params: alone.params },
    one: {
      top1: one.top1,
      ensembleTop1: ensemble.top1,
      branches: one.outputs.slice(0, -1).map((o) => o.top1),
      trainSeconds: one.trainSeconds,
      params: one.params,
    },
    teacher: { arch: values.teacher, top1: teacher.top1, trainSeconds: teacher.trainSeconds, params: teacher.params },
    kd: { top1: kd.top1, trainSeconds: kd.trainSeconds, totalSeconds: teacher.trainSeconds + kd.trainSeconds },
  });
}

const mean = (pick) => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
const summary = {
  alone: { top1: mean((r) => r.alone.top1), trainSeconds: mean((r) => r.alone.trainSeconds) },
  one: { top1: mean((r) => r.one.top1), trainSeconds: mean((r) => r.one.trainSeconds) },
  oneEnsemble: { top1: mean((r) => r.one.ensembleTop1), trainSeconds: mean((r) => r.one.trainSeconds) },
  teacher: { top1: mean((r) => r.teacher.top1), trainSeconds: mean((r) => r.teacher.trainSeconds) },
  kd: { top1: mean((r) => r.kd.top1), trainSeconds: mean((r) => r.kd.trainSeconds), totalSeconds: mean((r) => r.kd.totalSeconds) },
};
report(
  {
    benchmark: 'one-accuracy',
    torch: torchInfo().runtimeVersion,
    threads: Number(values.threads),
    setup: {
      arch: values.arch,
      teacher: values.teacher,
      branches: Number(values.branches),
      rampUp,
      trainLimit: Number(values['train-limit']),
      epochs,
      seeds,
      schedule: 'SGD lr 0.1, momentum 0.9, wd 5e-4, cosine, batch 128; KD T=4, CE and KD weights 0.5',
    },
    summary,
    oneGainOverAlone: summary.one.top1 - summary.alone.top1,
    oneGainOverKd: summary.one.top1 - summary.kd.top1,
    oneCostOverTeacherPlusKd: summary.one.trainSeconds / summary.kd.totalSeconds,
    runs,
  },
  values['json-out'],
);
