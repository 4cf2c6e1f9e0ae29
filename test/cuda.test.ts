// The CUDA paths. They run where LibTorch sees a GPU and skip, with a warning naming what stays
// unverified, everywhere else; the CPU-only behaviour (clear errors) is checked on every machine.
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { Model, Trainer, buildConfig, createRun, cudaMemoryStats, emptyCache, setSeed, torchInfo } from '../src/index.js';
import { FASHION_MNIST, firstTrainingBatch, runCli, tempDir, thrown, supervisedStep } from './helpers.js';

const info = torchInfo();
const dir = tempDir('distillery-cuda-');
afterAll(() => dir.cleanup());
if (!info.cudaAvailable) {
  console.warn(
    'test/cuda.test.ts: SKIPPING the CUDA tests: this LibTorch sees no GPU ' +
      `(built with CUDA: ${info.builtWithCuda}). Steps, autocast, loss scaling, pinned batches and NCCL stay unverified here.`,
  );
}

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

function run(out: string, patch: Record<string, unknown>) {
  return createRun(
    buildConfig(undefined, {
      method: 'supervised',
      model: { arch: 'resnet8' },
      data: { dataDir: FASHION_MNIST, trainLimit: 3000 },
      epochs: 2,
      batchSize: 64,
      seed: 2,
      device: 'cuda',
      out: join(dir.path, out),
      ...patch,
    }),
  ).execute();
}

describe.skipIf(!info.cudaAvailable)('on a CUDA device', () => {
  it('steps a student on the GPU to the loss the CPU computes', async () => {
    const { batch, dispose } = await firstTrainingBatch();
    const losses: number[] = [];
    for (const device of ['cpu', 'cuda']) {
      setSeed(4);
      const model = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 }, device);
      const trainer = new Trainer(model, SGD);
      losses.push((await supervisedStep(trainer, batch, 0.05)).loss);
      trainer.dispose();
      model.dispose();
    }
    dispose();
    expect(Math.abs(losses[0]! - losses[1]!)).toBeLessThan(1e-3);
  });

  it('trains with pinned channels-last batches, cuDNN autotuning, and bf16 and fp16 autocast', async () => {
    for (const [name, patch] of [
      ['fp32-nhwc', { data: { dataDir: FASHION_MNIST, trainLimit: 3000, channelsLast: true }, cudnnBenchmark: true }],
      ['bf16', { precision: 'bf16' }],
      ['fp16', { precision: 'fp16' }],
    ] as const) {
      const result = await run(name, patch);
      expect(result.top1, name).toBeGreaterThan(0.55);
    }
  }, 300_000);

  it('reports the caching allocator and empties it', async () => {
    const model = await Model.create({ arch: 'resnet50', inChannels: 3, numClasses: 1000 }, 'cuda');
    const held = cudaMemoryStats(0);
    expect(held.allocated).toBeGreaterThan(90e6); // 25.6M float32 parameters
    expect(held.peakAllocated).toBeGreaterThanOrEqual(held.allocated);
    model.dispose();
    emptyCache();
    expect(cudaMemoryStats(0).reserved).toBeLessThan(held.reserved);
  });

  it.skipIf(info.cudaDeviceCount < 2)(
    'trains data-parallel on two GPUs over NCCL',
    async () => {
      const out = join(dir.path, 'nccl');
      const launched = await runCli([
        'launch',
        '--nproc-per-node',
        '2',
        '--master-port',
        '29950',
        '--',
        'train',
        '--arch',
        'resnet8',
        '--epochs',
        '2',
        '--train-limit',
        '3000',
        '--batch-size',
        '32',
        '--device',
        'cuda',
        '--out',
        out,
        '--json',
      ]);
      expect(launched.status, launched.stderr).toBe(0);
      const result = JSON.parse(launched.stdout) as { worldSize: number; top1: number };
      expect(result.worldSize).toBe(2);
      expect(result.top1).toBeGreaterThan(0.55);
    },
    300_000,
  );
});

describe.skipIf(info.cudaAvailable)('without a CUDA device', () => {
  it('refuses --device cuda and the CUDA memory counters, saying why', async () => {
    const device = await thrown(() => Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 }, 'cuda'));
    expect(device.code).toBe('E_DEVICE');
    const memory = await thrown(() => cudaMemoryStats(0));
    expect(memory.code).toBe('E_DEVICE');
    expect(memory.message).toContain('CUDA');
    emptyCache(); // nothing to free, and no error
  });
});
