// What the accuracy benchmarks share: the options they all take, the one training recipe every run
// uses, a logged run, and the report (one JSON object on stdout, also written to --json-out).
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';

import { buildConfig, createRun } from '../dist/index.js';

/** parseArgs options every accuracy benchmark takes (each adds `out` and its own). */
export const COMMON_OPTIONS = {
  'train-limit': { type: 'string', default: '10000' },
  threads: { type: 'string', default: String(availableParallelism()) },
  'json-out': { type: 'string' },
  'data-dir': { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
};

/**
 * A run config with the benchmarks' recipe (SGD 0.1, momentum 0.9, wd 5e-4, cosine, batch 128,
 * `--train-limit` images) in `<--out>/<out>`, resumed when it exists, so finished runs are reused.
 */
export function recipe(values, { epochs, seed, out, data = {}, ...patch }) {
  return {
    data: { dataDir: values['data-dir'], trainLimit: Number(values['train-limit']), ...data },
    epochs,
    batchSize: 128,
    optimizer: { lr: 0.1 },
    schedule: { type: 'cosine' },
    seed,
    threads: Number(values.threads),
    out: join(values.out, out),
    resume: true,
    ...patch,
  };
}

/** Runs `config` and logs its accuracy, size and training time on stderr. */
export async function run(label, config) {
  const result = await createRun(buildConfig(undefined, config)).execute();
  process.stderr.write(
    `${label}: top-1 ${(100 * result.top1).toFixed(2)}%, ${result.params} params, ${(result.flops / 1e6).toFixed(2)} MFLOPs, ${result.trainSeconds.toFixed(0)} s training\n`,
  );
  return result;
}

/** Prints the report as one JSON object and writes it to `jsonOut` when given. */
export function report(object, jsonOut) {
  const json = JSON.stringify(object, null, 2);
  if (jsonOut) {
    mkdirSync(dirname(jsonOut), { recursive: true });
    writeFileSync(jsonOut, `${json}\n`);
  }
  process.stdout.write(`${json}\n`);
}
