// Data-parallel throughput on CPU, 1 -> 2 ranks (c10d Gloo on localhost), against PyTorch's
// DistributedDataParallel on the same LibTorch in the same run. Each rank steps its own first batch
// (weak scaling: the per-rank batch stays the same); the ranks split the cores. One JSON object on
// stdout. Rounds alternate between the two so drift in machine speed hits both; medians reported.
// Usage: node bench/ddp-scaling.mjs [--arch resnet20] [--batch 128] [--steps 20] [--rounds 3] [--json-out FILE]
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'resnet20' },
    batch: { type: 'string', default: '128' },
    warmup: { type: 'string', default: '3' },
    steps: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    ranks: { type: 'string', default: '1,2' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'data-dir': { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    'json-out': { type: 'string' },
    worker: { type: 'boolean', default: false },
  },
});
const batchSize = Number(values.batch);
const warmup = Number(values.warmup);
const steps = Number(values.steps);

/** One distillery rank: join, broadcast, then time `steps` averaged-gradient steps on this rank's first batch. */
async function worker() {
  const { Dataset, Loader, Model, Objective, ProcessGroup, Trainer, rankEnvironment, setSeed, setThreads } =
    await import('../dist/index.js');
  const place = rankEnvironment();
  const world = place?.worldSize ?? 1;
  setThreads(Math.max(1, Math.floor(availableParallelism() / world)));
  setSeed(0);
  const group = place
    ? await ProcessGroup.join(place, { backend: 'gloo', syncBatchNorm: false, bucketCapMb: 25, timeoutSeconds: 300 }, 'cpu')
    : undefined;
  const dataset = await Dataset.loadIdx(values['data-dir'], 'train');
  const rank = group?.rank ?? 0;
  const subset = Int32Array.from({ length: batchSize }, (_, i) => rank * batchSize + i);
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
    subset,
  });
  const iterator = loader.epoch(0);
  const batch = (await iterator.next()).value;
  await iterator.return(undefined);
  const model = await Model.create({ arch: values.arch, inChannels: 1, numClasses: 10 });
  const trainer = new Trainer(model, { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 5e-4, noDecayBnBias: false });
  if (group) await trainer.distribute(group, { syncBatchNorm: false, bucketCapMb: 25 });
  const objective = await Objective.create('supervised', trainer, []);
  for (let i = 0; i < warmup; i++) await trainer.step(batch, objective, 0.05);
  await group?.barrier();
  const start = performance.now();
  for (let i = 0; i < steps; i++) await trainer.step(batch, objective, 0.05);
  await group?.barrier();
  const seconds = (performance.now() - start) / 1000;
  if (rank === 0) console.log(JSON.stringify({ ranks: world, seconds, imagesPerSecond: (world * batchSize * steps) / seconds }));
  trainer.dispose();
  model.dispose();
  batch.dispose();
  loader.dispose();
  dataset.dispose();
  group?.dispose();
}

let port = 29800;
/** Runs `argv` as `ranks` processes with torchrun's variables; resolves with rank 0's JSON line. */
async function ranked(command, argv, ranks) {
  port += 1;
  const runs = Array.from(
    { length: ranks },
    (_, rank) =>
      new Promise((resolve, reject) => {
        const env = {
          ...process.env,
          RANK: String(rank),
          WORLD_SIZE: String(ranks),
          LOCAL_RANK: String(rank),
          LOCAL_WORLD_SIZE: String(ranks),
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(port),
        };
        const child = spawn(command, argv, { env });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} rank ${rank} failed (${code}): ${err}`))));
      }),
  );
  const outputs = await Promise.all(runs);
  return JSON.parse(outputs[0].trim().split('\n').at(-1));
}

if (values.worker) {
  await worker();
} else {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const common = [String(batchSize), String(warmup), String(steps)];
  const results = [];
  for (const ranks of values.ranks.split(',').map(Number)) {
    const threads = String(Math.max(1, Math.floor(availableParallelism() / ranks)));
    const ours = [];
    const python = [];
    for (let round = 0; round < Number(values.rounds); round++) {
      ours.push(
        (
          await ranked(
            process.execPath,
            [
              fileURLToPath(import.meta.url),
              '--worker',
              '--arch',
              values.arch,
              '--batch',
              common[0],
              '--warmup',
              common[1],
              '--steps',
              common[2],
              '--data-dir',
              values['data-dir'],
            ],
            ranks,
          )
        ).imagesPerSecond,
      );
      python.push(
        (
          await ranked(
            values.python,
            [join(here, 'python', 'ddp_step.py'), values.arch, common[0], threads, common[1], common[2], values['data-dir']],
            ranks,
          )
        ).imagesPerSecond,
      );
    }
    results.push({
      ranks,
      threadsPerRank: Number(threads),
      distilleryImagesPerSecond: median(ours),
      pythonImagesPerSecond: median(python),
      ratio: median(ours) / median(python),
      rounds: { distillery: ours, python },
    });
  }
  const base = results.find((r) => r.ranks === 1);
  for (const r of results) {
    if (base) {
      r.distilleryScaling = r.distilleryImagesPerSecond / base.distilleryImagesPerSecond;
      r.pythonScaling = r.pythonImagesPerSecond / base.pythonImagesPerSecond;
    }
  }
  const report = {
    bench: 'ddp-scaling',
    arch: values.arch,
    batchPerRank: batchSize,
    cores: availableParallelism(),
    target: 'ratio >= 1.0 against torch DDP (Gloo) at every rank count',
    results,
  };
  const text = JSON.stringify(report, null, 2);
  if (values['json-out']) writeFileSync(values['json-out'], `${text}\n`);
  console.log(text);
}
