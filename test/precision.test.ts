// Mixed precision on CPU: the dynamic loss scaler (skip on overflow, back off, grow, checkpointed)
// and bf16 autocast; fp16 autocast needs CUDA and is refused here with the reason.
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { Model, Trainer, buildConfig, createRun, setSeed } from '../src/index.js';
import { native } from '../src/native.js';
import type { Batch } from '../src/index.js';
import { FASHION_MNIST, firstTrainingBatch, tempDir, thrown, supervisedStep } from './helpers.js';

const dir = tempDir('distillery-amp-');
afterAll(() => dir.cleanup());

const SGD = {
  type: 'sgd',
  lr: 0.05,
  momentum: 0.9,
  nesterov: false,
  weightDecay: 5e-4,
  noDecayBnBias: false,
  betas: [0.9, 0.999],
  eps: 1e-8,
} as const;
const SCALE = { initScale: 65536, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000 };

async function student(): Promise<Model> {
  setSeed(3);
  return Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
}

/** The learned parameters' bytes (BatchNorm's running statistics move in every training forward, stepped or not). */
async function weights(model: Model, name: string): Promise<Buffer> {
  const path = join(dir.path, `${name}.safetensors`);
  await model.saveSafetensors(path);
  const { tensors } = await native().readSafetensors(path);
  const learned = Object.keys(tensors)
    .filter((n) => !/running_(mean|var)|num_batches_tracked/.test(n))
    .sort();
  return Buffer.concat(learned.map((n) => Buffer.from(tensors[n]!.data.buffer)));
}

async function steps(trainer: Trainer, batch: Batch, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await supervisedStep(trainer, batch, 0.05));
  return out;
}

describe('dynamic loss scaling', () => {
  it('skips a step whose gradients overflow, halves the scale, and keeps it across a checkpoint', async () => {
    const { batch, dispose } = await firstTrainingBatch();
    const model = await student();
    const trainer = new Trainer(model, SGD);
    try {
      // 2^140 is beyond float32: the scaled loss and its gradients are inf, as fp16's overflow at far smaller scales.
      await trainer.setPrecision('fp32', { ...SCALE, enabled: true, initScale: 2 ** 140 });
      const before = await weights(model, 'before');
      const [first] = await steps(trainer, batch, 1);
      expect(first!.skipped).toBe(true);
      expect(first!.lossScale).toBe(2 ** 139);
      expect(Number.isFinite(first!.loss)).toBe(true);
      expect((await weights(model, 'after-skip')).equals(before)).toBe(true);
      // It keeps backing off until the scaled gradients fit, then steps.
      const later = await steps(trainer, batch, 40);
      const firstTaken = later.findIndex((s) => !s.skipped);
      expect(firstTaken).toBeGreaterThan(0);
      expect(later.slice(firstTaken).every((s) => !s.skipped)).toBe(true);
      const scale = later.at(-1)!.lossScale;
      expect(scale).toBe(2 ** (139 - firstTaken));
      expect((await weights(model, 'after-steps')).equals(before)).toBe(false);

      const ckpt = join(dir.path, 'scaled.ckpt');
      await trainer.saveCheckpoint(ckpt, {});
      const resumedModel = await student();
      const resumed = new Trainer(resumedModel, SGD);
      await resumed.setPrecision('fp32', { ...SCALE, enabled: true, initScale: 2 ** 140 });
      await resumed.loadCheckpoint(ckpt);
      const [next] = await steps(resumed, batch, 1);
      expect(next!.skipped).toBe(false);
      expect(next!.lossScale).toBe(scale);
      resumed.dispose();
      resumedModel.dispose();
    } finally {
      trainer.dispose();
      model.dispose();
      dispose();
    }
  });

  it('changes nothing when nothing overflows (power-of-two scales are exact) and grows after a clean interval', async () => {
    const { batch, dispose } = await firstTrainingBatch();
    const plain = await student();
    const scaled = await student();
    const plainTrainer = new Trainer(plain, SGD);
    const scaledTrainer = new Trainer(scaled, SGD);
    try {
      await scaledTrainer.setPrecision('fp32', { ...SCALE, enabled: true, growthInterval: 2 });
      await steps(plainTrainer, batch, 3);
      const stats = await steps(scaledTrainer, batch, 3);
      expect(stats.map((s) => s.lossScale)).toEqual([65536, 131072, 131072]);
      expect(stats.every((s) => !s.skipped)).toBe(true);
      expect((await weights(scaled, 'scaled')).equals(await weights(plain, 'plain'))).toBe(true);
    } finally {
      plainTrainer.dispose();
      scaledTrainer.dispose();
      plain.dispose();
      scaled.dispose();
      dispose();
    }
  });
});

describe('autocast', () => {
  it('trains in bf16 on CPU to well above chance', async () => {
    const run = createRun(
      buildConfig(undefined, {
        method: 'supervised',
        model: { arch: 'resnet8' },
        data: { dataDir: FASHION_MNIST, trainLimit: 2000 },
        epochs: 2,
        batchSize: 64,
        precision: 'bf16',
        seed: 1,
        out: join(dir.path, 'bf16'),
      }),
    );
    const result = await run.execute();
    expect(result.top1).toBeGreaterThan(0.55);
  }, 120_000);

  it('refuses fp16 on CPU, naming the fix', async () => {
    const error = await thrown(async () =>
      buildConfig(undefined, { method: 'supervised', precision: 'fp16', out: join(dir.path, 'fp16') }),
    );
    expect(error.message).toContain('precision');
    expect(error.message).toContain('use bf16 on CPU');
    const model = await student();
    const trainer = new Trainer(model, SGD);
    const native = await thrown(() => trainer.setPrecision('fp16'));
    expect(native.message).toContain('fp16 autocast runs on CUDA devices only');
    trainer.dispose();
    model.dispose();
  });
});
