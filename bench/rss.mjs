// Long runs must not grow resident memory. Each scenario trains a small student for many epochs
// on a subset, so teachers, batches, steps and (for image files) decoders all cycle, and records
// RSS after every epoch; `growthMiB` is the change over the second half of the run (the start
// includes warm-up and the teacher's own run being freed). Scenarios: KD and MEAL (block losses,
// discriminators, teacher selection) on Fashion-MNIST in memory, and KD on an ImageFolder of PNG
// files (Fashion-MNIST exported by bench/python/export_fashion_mnist.py), through the file loader.
// Prints one JSON object. Usage: node bench/rss.mjs [--epochs 20] [--train-limit 2000] [--scenarios kd,meal,kd-imagefolder]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { buildConfig, createRun } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '20' },
    'train-limit': { type: 'string', default: '2000' },
    scenarios: { type: 'string', default: 'kd,meal,kd-imagefolder' },
  },
});
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'distillery-rss-'));
const trainLimit = Number(values['train-limit']);
const folder = join(dir, 'fashion-mnist-png');
const imageData = () => {
  execFileSync('/usr/bin/python3', [join(ROOT, 'bench/python/export_fashion_mnist.py'), folder, String(trainLimit), '500'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const image = { size: 28, resize: 28, scale: [0.35, 1], ratio: [3 / 4, 4 / 3], dctScaling: true };
  return { dataset: 'imagefolder', dataDir: folder, image };
};
const SCENARIOS = {
  kd: () => ({ method: 'kd', data: { trainLimit } }),
  meal: () => ({ method: 'meal', data: { trainLimit } }),
  'kd-imagefolder': () => ({ method: 'kd', data: imageData() }),
};

const results = [];
for (const name of values.scenarios.split(',')) {
  const scenario = SCENARIOS[name]?.();
  if (!scenario) throw new Error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const common = { model: { arch: 'resnet8' }, data: scenario.data, batchSize: 64, evalEvery: 1000, checkpointEvery: 1000 };
  const teacher = await createRun(
    buildConfig(undefined, { ...common, method: 'supervised', epochs: 1, out: join(dir, `${name}-teacher`) }),
  ).execute();
  const run = createRun(
    buildConfig(undefined, {
      ...common,
      method: scenario.method,
      teachers: [teacher.checkpoint],
      epochs: Number(values.epochs),
      out: join(dir, name),
    }),
  );
  const rssMiB = [];
  run.on('epoch', () => rssMiB.push(process.memoryUsage().rss / 2 ** 20));
  await run.execute();
  const round = (x) => Math.round(x * 10) / 10;
  results.push({
    scenario: name,
    epochs: rssMiB.length,
    rssMiB: rssMiB.map(round),
    growthMiB: round(rssMiB.at(-1) - rssMiB[Math.floor(rssMiB.length / 2)]),
  });
}
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ bench: 'rss', trainLimit, results, target: 'no growth beyond noise' }));
