// The TypeScript readers of outside input, fuzzed with fast-check: config files (YAML and JSON),
// architecture files, labels files, checkpoint records and soft-label cache headers. The oracle: a
// reader may refuse input only with a DistilleryError (a ConfigError is one); a TypeError, a
// RangeError or a SyntaxError escaping is a finding. The native parsers have libFuzzer harnesses
// (fuzz/, scripts/fuzz.sh). Runs per reader: 300 in the test suite; `npm run fuzz` sets
// DISTILLERY_FUZZ_SECONDS (time per reader) and DISTILLERY_FUZZ_COUNTS (a JSON file of executions).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { stringify } from 'yaml';

import { buildConfig, loadConfigFile } from '../src/config/load.js';
import { DistilleryError } from '../src/errors.js';
import { readArchSpec } from '../src/io/arch-spec.js';
import { readRecord } from '../src/io/checkpoint.js';
import { readLabelsFile } from '../src/io/labels-file.js';
import { checkSoftLabelHeader } from '../src/io/soft-label-cache.js';
import type { HostTensor } from '../src/native.js';
import { native } from '../src/native.js';
import { tempDir } from './helpers.js';

const SECONDS = Number(process.env.DISTILLERY_FUZZ_SECONDS ?? 0);
const SEED = Number(process.env.DISTILLERY_FUZZ_SEED ?? (SECONDS > 0 ? Date.now() % 1e9 : 1));
const budget = SECONDS > 0 ? { numRuns: 1e9, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false } : { numRuns: 300 };
const options = { ...budget, seed: SEED };
const TIMEOUT = (SECONDS + 120) * 1000;
const counts: Record<string, number> = {};
const dir = tempDir();
afterAll(() => {
  dir.cleanup();
  if (process.env.DISTILLERY_FUZZ_COUNTS) writeFileSync(process.env.DISTILLERY_FUZZ_COUNTS, `${JSON.stringify(counts)}\n`);
});

/** Counts the executions of reader `name`. */
function counted(name: string): void {
  counts[name] = (counts[name] ?? 0) + 1;
}

/** Runs `read`; a DistilleryError is a clean refusal, anything else is rethrown as a finding. */
async function refusesCleanly(read: () => unknown): Promise<void> {
  try {
    await read();
  } catch (error) {
    if (!(error instanceof DistilleryError)) throw error;
  }
}

/** Values of every JSON kind, biased towards the edges readers get wrong. */
const edgy = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0, 0.5, '', '0', 'NaN', [], {}, [[]], { format: null }),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.jsonValue({ maxDepth: 2 }),
);

/** An object over `keys` (the reader's own vocabulary, so the fuzzer gets past the first check) with edgy values. */
function objectOver(keys: readonly string[], values: fc.Arbitrary<unknown> = edgy): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 6 })), values, { maxKeys: keys.length + 2 });
}

/** A seed text with random edits: the bytes-level mutations a damaged or hand-edited file has. */
function mutated(seed: string): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.string({ maxLength: 8 }));
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) =>
    edits.reduce((text, [at, cut, insert]) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(i + cut);
    }, seed),
  );
}

const CONFIG_SEED = stringify({
  method: 'kd',
  model: { arch: 'resnet8' },
  data: { dataset: 'fashion-mnist', augment: { pad: 2, flip: true }, image: { size: 32, scale: [0.08, 1] } },
  optimizer: { type: 'sgd', lr: 0.1 },
  schedule: { type: 'multistep', milestones: [1, 2] },
  epochs: 3,
  teachers: ['a.ckpt'],
  kd: { temperature: 4, alpha: 0.9 },
  limits: { maxClasses: 10 },
});
const CONFIG_KEYS = [
  'method',
  'model',
  'data',
  'optimizer',
  'schedule',
  'epochs',
  'teachers',
  'kd',
  'meal',
  'one',
  'limits',
  'distributed',
  'lossScale',
];
const SECTION_KEYS = ['arch', 'dataset', 'augment', 'image', 'type', 'lr', 'milestones', 'temperature', 'pad', 'size', 'maxClasses'];

describe('fuzzed readers refuse bad input only with DistilleryError', () => {
  it(
    'config files: YAML and JSON, random, structured and mutated',
    async () => {
      const structured = objectOver(CONFIG_KEYS, fc.oneof(edgy, objectOver(SECTION_KEYS))).map((o) => stringify(o));
      const text = fc.oneof(
        structured,
        mutated(CONFIG_SEED),
        fc.string(),
        fc.jsonValue().map((v) => JSON.stringify(v)),
      );
      let n = 0;
      await fc.assert(
        fc.asyncProperty(text, fc.boolean(), async (body, json) => {
          const path = join(dir.path, `config-${n++ % 4}.${json ? 'json' : 'yaml'}`);
          writeFileSync(path, body);
          counted('config');
          await refusesCleanly(async () => buildConfig(await loadConfigFile(path), {}));
        }),
        options,
      );
    },
    TIMEOUT,
  );

  it(
    'architecture files (found.json)',
    async () => {
      const spec = objectOver(['arch', 'inChannels', 'numClasses', 'blocks']);
      const file = objectOver(
        ['format', 'version', 'description', 'model', 'inputShape', 'student', 'teacher', 'budget', 'threshold', 'weights'],
        fc.oneof(edgy, spec),
      );
      const valid = JSON.stringify({
        format: 'distillery.arch',
        version: 1,
        description: 'd',
        model: { arch: 'resnet20', inChannels: 1, numClasses: 10, blocks: [[16], [32], [64]] },
        inputShape: [1, 28, 28],
        student: { params: 1, flops: 1 },
        teacher: { params: 2, flops: 2, path: 't.ckpt', arch: 'resnet20' },
        budget: {},
        threshold: 0.1,
        weights: 'w.safetensors',
      });
      const text = fc.oneof(
        file.map((o) => JSON.stringify(o)),
        mutated(valid),
        fc.string(),
      );
      await fc.assert(
        fc.asyncProperty(text, async (body) => {
          const path = join(dir.path, 'found.json');
          writeFileSync(path, body);
          counted('archSpec');
          await refusesCleanly(() => readArchSpec(path));
        }),
        options,
      );
    },
    TIMEOUT,
  );

  it(
    'checkpoint records and labels files: safetensors whose metadata and tensors are anything',
    async () => {
      const tensor = fc
        .tuple(
          fc.constantFrom(Float32Array, Float64Array, Int32Array, Uint8Array),
          fc.array(fc.nat({ max: 3 }), { maxLength: 2 }),
          fc.integer(),
        )
        .map(([Type, shape, fill]): HostTensor => ({ data: new Type(shape.reduce((a, b) => a * b, 1)).fill(fill % 256), shape }));
      const record = objectOver(['format', 'samples', 'numClasses', 'config', 'spec', 'epoch', 'version']).map((o) => JSON.stringify(o));
      const validLabels = JSON.stringify({ format: 'distillery.labels', samples: 2, numClasses: 3 });
      const metadata = fc.oneof(record, mutated(validLabels), fc.string());
      const tensors = fc.dictionary(fc.constantFrom('probs', 'given', 'labels', 'keep', 'x'), tensor, { minKeys: 1 });
      await fc.assert(
        fc.asyncProperty(metadata, tensors, async (meta, named) => {
          const path = join(dir.path, 'fuzzed.safetensors');
          await native().writeSafetensors(path, named, { distillery: meta });
          counted('records');
          await refusesCleanly(() => readRecord(path));
          await refusesCleanly(() => readLabelsFile(path));
        }),
        options,
      );
    },
    TIMEOUT,
  );

  it(
    'soft-label cache headers against the run that replays them',
    async () => {
      const header = objectOver([
        'format',
        'version',
        'samples',
        'crops',
        'topK',
        'numClasses',
        'temperature',
        'logits',
        'perTeacher',
        'teachers',
        'dataset',
        'transform',
      ]).map((o) => JSON.stringify(o));
      const use = {
        path: 'soft.cache',
        fingerprint: 'f',
        numClasses: 10,
        temperature: 1,
        needsLogits: true,
        teachers: ['a'],
        transform: { size: 32, scale: [0.08, 1] as [number, number], ratio: [0.75, 4 / 3] as [number, number], flip: true },
      };
      await fc.assert(
        fc.asyncProperty(fc.oneof(header, fc.string()), async (json) => {
          counted('softLabelHeader');
          await refusesCleanly(() => checkSoftLabelHeader(json, use));
        }),
        options,
      );
    },
    TIMEOUT,
  );
});
