// Long runs must not grow resident memory: trains a small model for many epochs on a subset (with
// KD, so teachers, batches and steps all cycle) and records RSS after every epoch. Prints one JSON
// object; `growthMiB` is the change over the second half of the run (the start includes warm-up
// and the teacher's own run being freed).
// Usage: node bench/rss.mjs [--epochs 20] [--train-limit 2000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { buildConfig, createRun } from '../dist/index.js';

const { values } = parseArgs({
  options: { epochs: { type: 'string', default: '20' }, 'train-limit': { type: 'string', default: '2000' } },
});
const dir = mkdtempSync(join(tmpdir(), 'distillery-rss-'));
const common = {
  model: { arch: 'resnet8' },
  data: { trainLimit: Number(values['train-limit']) },
  batchSize: 64,
  evalEvery: 1000,
  checkpointEvery: 1000,
};
const teacher = await createRun(
  buildConfig(undefined, { ...common, method: 'supervised', epochs: 1, out: join(dir, 'teacher') }),
).execute();
const run = createRun(
  buildConfig(undefined, { ...common, method: 'kd', teachers: [teacher.checkpoint], epochs: Number(values.epochs), out: join(dir, 'kd') }),
);
const rssMiB = [];
run.on('epoch', () => rssMiB.push(process.memoryUsage().rss / 2 ** 20));
await run.execute();
rmSync(dir, { recursive: true, force: true });
const round = (x) => Math.round(x * 10) / 10;
console.log(
  JSON.stringify({
    bench: 'rss',
    epochs: rssMiB.length,
    rssMiB: rssMiB.map(round),
    growthMiB: round(rssMiB.at(-1) - rssMiB[Math.floor(rssMiB.length / 2)]),
    target: 'no growth beyond noise',
  }),
);
