// Images per second of the native image loader against torchvision's ImageFolder + DataLoader and
// against a minimal C loop (bench/c/jpeg_loop.c: crop-region libjpeg-turbo decode, 2-tap bilinear
// resize, flip; no framework), on the same JPEG files and cores, measured in the same run. The files
// are an ImageNet-like set made from the photos Debian's python3-skimage ships (500x375, quality 90).
// Every tool does RandomResizedCrop(224) + flip to uint8; rounds interleave and the median counts.
// Usage: node bench/loader-throughput.mjs [--images 3000] [--set runs/jpeg-set] [--threads 1,2]
//        [--epochs 2] [--rounds 3] [--json-out FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { torchInfo } from '../dist/index.js';
import { report } from './common.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '3000' },
    set: { type: 'string', default: 'runs/jpeg-set' },
    threads: { type: 'string', default: '1,2' },
    epochs: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    'json-out': { type: 'string' },
  },
});
const epochs = Number(values.epochs);
const set = values.set;
const log = (message) => process.stderr.write(`${message}\n`);

if (!existsSync(set)) {
  log(`writing ${values.images} JPEGs to ${set}`);
  execFileSync(PYTHON, [join(ROOT, 'bench/python/make_jpeg_set.py'), set, values.images], { stdio: ['ignore', 'ignore', 'inherit'] });
}
const files = readdirSync(set, { recursive: true })
  .filter((f) => f.endsWith('.JPEG'))
  .map((f) => join(set, f))
  .sort();
const work = join(ROOT, 'runs', 'bench-loader');
mkdirSync(work, { recursive: true });
const list = join(work, 'files.txt');
writeFileSync(list, `${files.join('\n')}\n`);
const loop = join(work, 'jpeg_loop');
execFileSync('gcc', ['-O3', '-o', loop, join(ROOT, 'bench/c/jpeg_loop.c'), '-ljpeg', '-lm', '-lpthread']);
// One untimed pass so every tool reads from the page cache.
execFileSync(loop, [list, '1', '224', '1']);

const json = (command, args) => JSON.parse(execFileSync(command, args, { encoding: 'utf8' }).trim().split('\n').pop());
const TOOLS = {
  distillery: (t) =>
    json(process.execPath, [
      join(ROOT, 'dist/cli.js'),
      'bench-loader',
      '--data',
      set,
      '--threads',
      String(t),
      '--epochs',
      String(epochs),
      '--json',
    ]),
  torchvision: (t) => json(PYTHON, [join(ROOT, 'bench/python/torchvision_loader.py'), set, String(t), '256', '224', String(epochs)]),
  cLoop: (t) => json(loop, [list, String(t), '224', String(epochs)]),
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = [];
for (const threads of values.threads.split(',').map(Number)) {
  const rates = { distillery: [], torchvision: [], cLoop: [] };
  let meanScale;
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [tool, measure] of Object.entries(TOOLS)) {
      const r = measure(threads);
      rates[tool].push(r.imagesPerSecond);
      if (tool === 'distillery') meanScale = r.meanScale;
      log(`${threads} thread(s), round ${round + 1}: ${tool} ${r.imagesPerSecond.toFixed(0)} images/s`);
    }
  }
  const m = Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, median(v)]));
  results.push({
    threads,
    imagesPerSecond: m,
    imagesPerSecondPerThread: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v / threads])),
    rounds: rates,
    meanDecodeScale: meanScale,
    vsTorchvision: m.distillery / m.torchvision,
    vsCLoop: m.distillery / m.cLoop,
  });
}

report(
  {
    benchmark: 'loader-throughput',
    torch: torchInfo().runtimeVersion,
    setup: {
      images: files.length,
      set,
      epochsPerMeasurement: epochs,
      transform: 'RandomResizedCrop(224, scale 0.08-1, ratio 3/4-4/3) + horizontal flip, uint8 CHW',
      batch: 256,
    },
    targets: { vsTorchvision: 2, vsCLoop: 0.85 },
    results,
  },
  values['json-out'],
);
