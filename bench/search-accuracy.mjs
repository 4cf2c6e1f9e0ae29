// Student search against hand-designed students of the same parameter budget, on Fashion-MNIST:
// `distillery search` inside a trained teacher with the budget of the smallest hand-designed
// student, then every student retrained with the same KD recipe from that teacher (same epochs and
// schedule), several seeds. The searched student trains from its inherited weights (at the
// recipe's rate and at a tenth of it) and from scratch, to separate its architecture from its weights. Prints one JSON object on stdout (progress on stderr)
// and writes it to --json-out. Finished runs in --out are reused.
// Usage: node bench/search-accuracy.mjs [--teacher resnet20] [--budget-of resnet8] [--epochs 5]
//        [--search-epochs 3] [--l1 5e-2] [--train-limit 10000] [--seeds 1,2] [--out runs/bench-search]
//        [--teachers-from runs/bench-one]   (reuse alone-<teacher>-s<seed> runs as teachers)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Model, describeSpec, readArchSpec, torchInfo } from '../dist/index.js';
import { COMMON_OPTIONS, recipe, report, run } from './common.mjs';

const { values } = parseArgs({
  options: {
    teacher: { type: 'string', default: 'resnet20' },
    'budget-of': { type: 'string', default: 'resnet8' },
    thin: { type: 'string', default: 'resnet14' },
    epochs: { type: 'string', default: '5' },
    'search-epochs': { type: 'string', default: '3' },
    l1: { type: 'string', default: '5e-2' },
    seeds: { type: 'string', default: '1,2' },
    out: { type: 'string', default: 'runs/bench-search' },
    'teachers-from': { type: 'string', default: 'runs/bench-one' },
    ...COMMON_OPTIONS,
  },
});
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
const epochs = Number(values.epochs);
const seeds = values.seeds.split(',').map(Number);
const io = { inChannels: 1, numClasses: 10 };

const base = (seed, out, patch) => recipe(values, { epochs, seed, out, ...patch });

async function params(spec) {
  const model = await Model.create(spec);
  const count = model.parameterCount;
  model.dispose();
  return count;
}

// The budget: the smallest hand-designed student. The thin student: the deeper network's inner
// widths scaled down until it fits the same budget.
const budget = await params({ arch: values['budget-of'], ...io });
const thinBlocks = await (async () => {
  const depth = Number(values.thin.replace('resnet', ''));
  const perStage = (depth - 2) / 6;
  for (let m = 64; m >= 1; m--) {
    const blocks = [16, 32, 64].map((w) => Array.from({ length: perStage }, () => Math.max(1, Math.round((w * m) / 64))));
    if ((await params({ arch: values.thin, ...io, blocks })) <= budget) return blocks;
  }
  throw new Error(`no thin ${values.thin} fits ${budget} parameters`);
})();

const runs = [];
for (const seed of seeds) {
  const reused = join(values['teachers-from'], `alone-${values.teacher}-s${seed}`, 'checkpoint.ckpt');
  const teacher = existsSync(reused)
    ? reused
    : (
        await run(
          `teacher ${values.teacher} seed ${seed}`,
          base(seed, `teacher-${values.teacher}-s${seed}`, { method: 'supervised', model: { arch: values.teacher } }),
        )
      ).checkpoint;
  const searchOut = join(values.out, `search-s${seed}`);
  const foundPath = join(searchOut, 'found.json');
  if (!existsSync(foundPath)) {
    const args = [
      'search',
      '--teacher',
      teacher,
      '--budget-params',
      String(budget),
      '--epochs',
      values['search-epochs'],
      '--l1',
      values.l1,
      '--train-limit',
      values['train-limit'],
      '--seed',
      String(seed),
      '--threads',
      values.threads,
      '--data-dir',
      values['data-dir'],
      '--out',
      searchOut,
      '--json',
      '--quiet',
    ];
    execFileSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  }
  const found = await readArchSpec(foundPath);
  process.stderr.write(
    `search seed ${seed}: ${found.description}, ${found.student.params} params, top-1 before retraining ${(100 * found.student.top1).toFixed(2)}%\n`,
  );
  const kd = { method: 'kd', teachers: [teacher], kd: { temperature: 4, ceWeight: 0.5, kdWeight: 0.5 } };
  const students = {
    searched: await run(
      `searched seed ${seed}`,
      base(seed, `searched-s${seed}`, { ...kd, model: { archSpec: foundPath, init: found.weightsPath } }),
    ),
    // Inherited weights are a trained network: fine-tune them at a tenth of the rate.
    searchedFinetune: await run(
      `searched, fine-tuned seed ${seed}`,
      base(seed, `searched-finetune-s${seed}`, { ...kd, model: { archSpec: foundPath, init: found.weightsPath }, optimizer: { lr: 0.01 } }),
    ),
    searchedScratch: await run(
      `searched from scratch seed ${seed}`,
      base(seed, `searched-scratch-s${seed}`, { ...kd, model: { arch: found.model.arch, blocks: found.model.blocks } }),
    ),
    [values['budget-of']]: await run(
      `${values['budget-of']} seed ${seed}`,
      base(seed, `${values['budget-of']}-s${seed}`, { ...kd, model: { arch: values['budget-of'] } }),
    ),
    [`thin-${values.thin}`]: await run(
      `thin ${values.thin} seed ${seed}`,
      base(seed, `thin-${values.thin}-s${seed}`, { ...kd, model: { arch: values.thin, blocks: thinBlocks } }),
    ),
  };
  runs.push({
    seed,
    teacher: { path: teacher, top1: found.teacher.top1, params: found.teacher.params, flops: found.teacher.flops },
    found: {
      description: found.description,
      blocks: found.model.blocks,
      threshold: found.threshold,
      top1BeforeRetraining: found.student.top1,
    },
    students: Object.fromEntries(
      Object.entries(students).map(([name, r]) => [name, { spec: describeSpec(r.spec), top1: r.top1, params: r.params, flops: r.flops }]),
    ),
  });
}

const names = Object.keys(runs[0].students);
const mean = (pick) => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
report(
  {
    benchmark: 'search-accuracy',
    torch: torchInfo().runtimeVersion,
    threads: Number(values.threads),
    setup: {
      teacher: values.teacher,
      budgetParams: budget,
      budgetOf: values['budget-of'],
      thin: describeSpec({ arch: values.thin, ...io, blocks: thinBlocks }),
      searchEpochs: Number(values['search-epochs']),
      l1: Number(values.l1),
      epochs,
      trainLimit: Number(values['train-limit']),
      seeds,
      recipe:
        'KD T=4, CE and KD weights 0.5, SGD lr 0.1 (searchedFinetune: 0.01), momentum 0.9, wd 5e-4, cosine, batch 128; searched and searchedFinetune start from the inherited weights, the others from scratch',
    },
    teacher: { top1: mean((r) => r.teacher.top1), params: runs[0].teacher.params, flops: runs[0].teacher.flops },
    students: Object.fromEntries(
      names.map((n) => [
        n,
        {
          top1: mean((r) => r.students[n].top1),
          params: runs.map((r) => r.students[n].params),
          flops: runs.map((r) => r.students[n].flops),
        },
      ]),
    ),
    runs,
  },
  values['json-out'],
);
