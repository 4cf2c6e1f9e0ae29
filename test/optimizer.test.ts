// The optimizers against torch.optim: SGD with Nesterov momentum and AdamW, each with the no-decay
// group for 1-d tensors, replayed step by step in PyTorch; the decay grouping itself; and AdamW's
// state surviving a checkpoint round trip bit for bit.
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Dataset, Loader, Model, Objective, Trainer, setSeed } from '../src/index.js';
import type { Batch, OptimizerConfig } from '../src/index.js';
import { native } from '../src/native.js';
import { FASHION_MNIST, runPython, tempDir } from './helpers.js';

const dir = tempDir();
let train: Dataset;
let loader: Loader;
const batches: Batch[] = [];

beforeAll(async () => {
  train = await Dataset.loadIdx(FASHION_MNIST, 'train');
  loader = new Loader(train, {
    batchSize: 32,
    shuffle: true,
    dropLast: false,
    seed: 3,
    pad: 2,
    flip: true,
    workers: 1,
    prefetch: 1,
    mean: [0.286],
    std: [0.353],
  });
  for await (const batch of loader.epoch(0)) {
    batches.push(batch);
    if (batches.length === 4) break;
  }
});
afterAll(() => {
  for (const b of batches) b.dispose();
  loader.dispose();
  train.dispose();
  dir.cleanup();
});

/** Trains a fresh seeded resnet8 with `optimizer` for `steps` steps at `lr`, checkpointing before and after each; returns the paths. */
async function trajectory(name: string, optimizer: OptimizerConfig, lr: number, steps: number): Promise<string[]> {
  setSeed(9);
  using student = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
  using trainer = new Trainer(student, optimizer);
  using objective = await Objective.create('supervised', trainer, []);
  const paths = [join(dir.path, `${name}-0.ckpt`)];
  await trainer.saveCheckpoint(paths[0]!, {});
  for (let k = 1; k <= steps; k++) {
    await trainer.step(batches[k - 1]!, objective, lr);
    paths.push(join(dir.path, `${name}-${k}.ckpt`));
    await trainer.saveCheckpoint(paths.at(-1)!, {});
  }
  return paths;
}

describe('optimizers against torch.optim', () => {
  const cases: [string, OptimizerConfig][] = [
    ['sgd-nesterov', { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4, noDecayBnBias: true }],
    ['sgd-plain', { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 1e-3, noDecayBnBias: false }],
    ['adamw', { type: 'adamw', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05, noDecayBnBias: true }],
    ['adamw-all-decay', { type: 'adamw', lr: 1e-3, betas: [0.8, 0.99], eps: 1e-8, weightDecay: 0.05, noDecayBnBias: false }],
  ];
  for (const [name, optimizer] of cases) {
    it(`${name}: every step matches torch.optim replaying the same gradients`, async () => {
      const paths = await trajectory(name, optimizer, optimizer.lr, 3);
      const worst = JSON.parse(runPython('optimizer_replay.py', [JSON.stringify(optimizer), ...paths])) as {
        params: number;
        state: number;
      };
      expect(worst.params).toBeLessThan(1e-5);
      // The state is rebuilt from gradients recovered out of float32 moments (a difference of two
      // moments divided by 1 - beta1), so it carries float32 rounding amplified ~10x; a wrong rule
      // (betas, bias correction, decay group) is off by far more.
      expect(worst.state).toBeLessThan(1e-4);
    });
  }

  it('noDecayBnBias exempts exactly the 1-d tensors (BatchNorm and biases) from weight decay', async () => {
    const base = { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, noDecayBnBias: true } as const;
    const plain = await trajectory('no-decay', { ...base, weightDecay: 0 }, 0.1, 1);
    const decayed = await trajectory('grouped', { ...base, weightDecay: 0.01 }, 0.1, 1);
    // Same start and gradient: the first momentum buffers differ by weightDecay * p, or not at all.
    const [a, b, start] = await Promise.all([
      native().readSafetensors(plain[1]!),
      native().readSafetensors(decayed[1]!),
      native().readSafetensors(plain[0]!),
    ]);
    let matrices = 0;
    let vectors = 0;
    for (const [key, buffer] of Object.entries(b.tensors)) {
      if (!key.endsWith('.momentum_buffer')) continue;
      const param = key.slice('optim.'.length, -'.momentum_buffer'.length);
      const p = start.tensors[`model.${param}`]!;
      const reference = a.tensors[key]!;
      let worst = 0;
      for (let i = 0; i < p.data.length; i++) {
        const expected = reference.data[i]! + (p.shape.length > 1 ? 0.01 * p.data[i]! : 0);
        worst = Math.max(worst, Math.abs(buffer.data[i]! - expected));
      }
      expect(worst, param).toBeLessThan(1e-6);
      if (p.shape.length > 1) matrices += 1;
      else vectors += 1;
    }
    expect(matrices).toBeGreaterThan(5);
    expect(vectors).toBeGreaterThan(5);
  });

  it("AdamW's state survives a checkpoint: resuming gives the uninterrupted run's weights and state bit for bit", async () => {
    const optimizer: OptimizerConfig = { type: 'adamw', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05, noDecayBnBias: true };
    const straight = await trajectory('adamw-straight', optimizer, 1e-3, 3);
    setSeed(1);
    using student = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
    using trainer = new Trainer(student, optimizer);
    using objective = await Objective.create('supervised', trainer, []);
    await trainer.loadCheckpoint(straight[2]!);
    await trainer.step(batches[2]!, objective, 1e-3);
    const resumed = join(dir.path, 'adamw-resumed.ckpt');
    await trainer.saveCheckpoint(resumed, {});
    const [a, b] = await Promise.all([native().readSafetensors(straight[3]!), native().readSafetensors(resumed)]);
    expect(Object.keys(b.tensors).sort()).toEqual(Object.keys(a.tensors).sort());
    expect(Object.keys(a.tensors).filter((n) => n.endsWith('.exp_avg_sq')).length).toBeGreaterThan(10);
    for (const name of Object.keys(a.tensors)) {
      const bytes = (t: { data: ArrayBufferView }) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      expect(bytes(b.tensors[name]!).equals(bytes(a.tensors[name]!)), name).toBe(true);
    }
  });
});
