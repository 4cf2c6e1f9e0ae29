import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildConfig, createRun } from '../src/index.js';
import { injectLabelNoise } from '../src/data/label-noise.js';
import { readLabelsFile } from '../src/io/labels-file.js';
import { refineLabels } from '../src/pipelines/refine.js';
import { FASHION_MNIST, runPython, tempDir, thrown } from './helpers.js';

describe('label noise', () => {
  const labels = Int32Array.from({ length: 10000 }, (_, i) => i % 10);

  it('flips exactly the asked fraction, symmetric to another class, pair-flip to the next', () => {
    for (const rate of [0.2, 0.4]) {
      const symmetric = injectLabelNoise(labels, 10, { type: 'symmetric', rate, seed: 1 });
      const changed = symmetric.labels.filter((l, i) => l !== labels[i]).length;
      expect(changed).toBe(Math.round(rate * labels.length));
      expect(symmetric.flipped.reduce((a, b) => a + b, 0)).toBe(changed);
      // Flipped labels spread over the other nine classes.
      const targets = new Set(Array.from(symmetric.labels).filter((l, i) => l !== labels[i] && labels[i] === 3));
      expect(targets.size).toBe(9);
      const pair = injectLabelNoise(labels, 10, { type: 'pairflip', rate, seed: 1 });
      for (let i = 0; i < labels.length; i++) {
        if (pair.flipped[i]) expect(pair.labels[i]).toBe((labels[i]! + 1) % 10);
        else expect(pair.labels[i]).toBe(labels[i]);
      }
    }
  });

  it('is fixed by its seed', () => {
    const a = injectLabelNoise(labels, 10, { type: 'symmetric', rate: 0.3, seed: 5 });
    expect(injectLabelNoise(labels, 10, { type: 'symmetric', rate: 0.3, seed: 5 }).labels).toEqual(a.labels);
    expect(injectLabelNoise(labels, 10, { type: 'symmetric', rate: 0.3, seed: 6 }).labels).not.toEqual(a.labels);
  });
});

describe('refinement', () => {
  const dir = tempDir();
  let teacher: string;
  const config = (out: string, patch: Record<string, unknown>) =>
    buildConfig(undefined, {
      method: 'supervised',
      model: { arch: 'resnet8' },
      data: { dataDir: FASHION_MNIST, trainLimit: 2000 },
      epochs: 1,
      batchSize: 64,
      seed: 3,
      out: join(dir.path, out),
      ...patch,
    });

  beforeAll(async () => {
    teacher = (await createRun(config('teacher', {})).execute()).checkpoint;
  });
  afterAll(() => dir.cleanup());

  it('writes soft labels and the labels to train on; dropping removes confidently contradicted samples', async () => {
    const labelNoise = { type: 'symmetric' as const, rate: 0.4, seed: 0 };
    const base = {
      teachers: [teacher],
      dataDir: FASHION_MNIST,
      threshold: 0.6,
      labelNoise,
      device: 'cpu',
      batchSize: 1000,
      mean: [0.286],
      std: [0.353],
    };
    const drop = await refineLabels({ ...base, out: join(dir.path, 'drop.labels'), mode: 'drop' });
    expect(drop.samples).toBe(60000);
    expect(drop.givenAccuracy).toBeCloseTo(0.6, 6);
    expect(drop.dropped).toBeGreaterThan(0);
    expect(drop.kept).toBe(60000 - drop.dropped);
    // The ensemble's confident disagreements are mostly the injected flips, so dropping them cleans the data.
    expect(drop.refinedAccuracy!).toBeGreaterThan(drop.givenAccuracy! + 0.02);
    const file = await readLabelsFile(drop.path);
    expect(file.record).toMatchObject({ format: 'distillery.labels', mode: 'drop', threshold: 0.6, labelNoise, teachers: [teacher] });
    expect(file.keep.reduce((a, b) => a + b, 0)).toBe(drop.kept);
    // PyTorch reads it too: probabilities are rows of a distribution.
    const summary = runPython('safetensors_io.py', [drop.path]);
    const probsSum = Number(/^probs F32 \[60000, 10\] (\S+)$/m.exec(summary)?.[1]);
    expect(Math.abs(probsSum - 60000)).toBeLessThan(0.1);

    const relabel = await refineLabels({ ...base, out: join(dir.path, 'relabel.labels'), mode: 'relabel' });
    expect(relabel.relabelled).toBe(drop.dropped);
    expect(relabel.kept).toBe(60000);
    expect(relabel.refinedAccuracy!).toBeGreaterThan(relabel.givenAccuracy!);
  });

  it('trains only on the kept samples of a labels file, and refuses one that does not fit', async () => {
    const steps: number[] = [];
    const run = createRun(config('student', { data: { dataDir: FASHION_MNIST, trainLimit: 2000, labels: join(dir.path, 'drop.labels') } }));
    run.on('step', (e) => steps.push(e.batches));
    await run.execute();
    const kept = (await readLabelsFile(join(dir.path, 'drop.labels'))).keep;
    let keptInSubset = 0;
    const { seededSubset } = await import('../src/index.js');
    for (const i of seededSubset(60000, 2000, 3)) keptInSubset += kept[i]!;
    expect(steps[0]).toBe(Math.ceil(keptInSubset / 64));
    const error = await thrown(() =>
      createRun(config('bad', { data: { dataDir: FASHION_MNIST, trainLimit: 2000, labels: teacher } })).execute(),
    );
    expect(error).toMatchObject({ code: 'E_CORRUPT_FILE', message: expect.stringContaining('not a distillery labels file') });
  });
});
