import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  Dataset,
  Loader,
  Model,
  Objective,
  Trainer,
  alignBlock,
  discriminatorLoss,
  selectTeachers,
  setSeed,
  similarityLoss,
} from '../src/index.js';
import type { Batch, HostTensor, Settings, SimilarityName, StepStats } from '../src/index.js';
import { FASHION_MNIST, randomFloats, runPython, tempDir, thrown } from './helpers.js';

function tensor(shape: number[], seed: number, scale = 1): HostTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return { data: randomFloats(size, seed).map((v) => v * scale), shape };
}

function plain(t: HostTensor): { data: number[]; shape: number[] } {
  return { data: Array.from(t.data), shape: t.shape };
}

function rows(t: HostTensor): number[][] {
  const [n, d] = t.shape as [number, number];
  return Array.from({ length: n }, (_, r) => Array.from(t.data.subarray(r * d, (r + 1) * d)));
}

// float32 against a float64 reference.
function close(ours: number, reference: number, relative = 2e-6): void {
  expect(Math.abs(ours - reference)).toBeLessThanOrEqual(relative * Math.max(1, Math.abs(reference)));
}

describe('MEAL losses against PyTorch', () => {
  const block = tensor([3, 5, 6, 7], 1);
  const student = tensor([8, 12], 2, 2);
  const teachers = [tensor([8, 12], 3, 2), tensor([8, 12], 4, 2), tensor([8, 12], 5, 2)];
  const lengths = [10, 42, 100];
  const temperature = 3;
  // A discriminator for 12 features: 12 -> 6 -> 3 -> 2, as MEAL's d -> d/2 -> d/4 -> 2.
  const weights: Record<string, HostTensor> = {
    'fc1.weight': tensor([6, 12], 10, 0.5),
    'fc1.bias': tensor([6], 11, 0.5),
    'fc2.weight': tensor([3, 6], 12, 0.5),
    'fc2.bias': tensor([3], 13, 0.5),
    'fc3.weight': tensor([2, 3], 14, 0.5),
    'fc3.bias': tensor([2], 15, 0.5),
  };
  const reference = (outputRelu: boolean) =>
    JSON.parse(
      runPython(
        'meal_reference.py',
        [],
        JSON.stringify({
          blocks: { b: plain(block) },
          lengths,
          student: rows(student),
          teachers: teachers.map(rows),
          temperature,
          disc: {
            student: plain(student),
            teacher: plain(teachers[0]!),
            weights: Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, plain(v)])),
            outputRelu,
          },
        }),
      ),
    ) as {
      aligned: Record<string, { data: number[]; shape: number[] }>;
      similarity: Record<SimilarityName, number>;
      similarityOne: Record<SimilarityName, number>;
      discriminator: number;
      generator: number;
    };
  let ref: ReturnType<typeof reference>;
  beforeAll(() => {
    ref = reference(false);
  });

  it('aligns a block by adaptive pooling then a channel reduction, at any length', async () => {
    for (const pooling of ['avg', 'max'] as const) {
      for (const length of lengths) {
        const ours = await alignBlock(block, { length, pooling });
        const expected = ref.aligned[`b/${pooling}/${length}`]!;
        expect(ours.shape).toEqual(expected.shape);
        for (let i = 0; i < expected.data.length; i++) close(ours.data[i]!, expected.data[i]!);
      }
    }
    expect((await alignBlock(student, { length: 3, pooling: 'avg' })).shape).toEqual([8, 12]);
  });

  it('computes every similarity loss, for one teacher and for an averaged ensemble', async () => {
    for (const similarity of ['ce', 'kl', 'l1', 'l2', 'l1_soft', 'l2_soft', 'cosine'] as const) {
      close(await similarityLoss(student, teachers.slice(0, 1), { similarity, temperature }), ref.similarityOne[similarity]);
      close(await similarityLoss(student, teachers, { similarity, temperature }), ref.similarity[similarity]);
    }
    expect(await similarityLoss(student, [student], { similarity: 'l2' })).toBe(0);
  });

  it('scores the discriminator with BCE on student [1,0] and teacher [0,1] rows, with and without the output ReLU', async () => {
    const ours = await discriminatorLoss(student, teachers[0]!, weights, { divisors: [2, 4] });
    close(ours.discriminator, ref.discriminator);
    close(ours.generator, ref.generator);
    const relu = reference(true);
    const oursRelu = await discriminatorLoss(student, teachers[0]!, weights, { divisors: [2, 4], outputRelu: true });
    close(oursRelu.discriminator, relu.discriminator);
    close(oursRelu.generator, relu.generator);
  });

  it('names bad inputs', async () => {
    expect(await thrown(() => similarityLoss(student, [tensor([8, 5], 1)], { similarity: 'ce' }))).toMatchObject({ code: 'E_SHAPE' });
    expect(await thrown(() => similarityLoss(student, [student], { similarity: 'hinge' as SimilarityName }))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringContaining("'hinge'"),
    });
    expect(await thrown(() => discriminatorLoss(student, student, { 'fc1.weight': weights['fc1.weight']! }))).toMatchObject({
      code: 'E_WEIGHTS',
    });
  });
});

describe('teacher selection', () => {
  it('is a pure function of seed and step: random is uniform, round-robin cycles, average takes all', () => {
    const counts = [0, 0, 0];
    for (let step = 0; step < 3000; step++) counts[selectTeachers('random', 3, 7, step)[0]!]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(900);
    expect(selectTeachers('random', 3, 7, 123)).toEqual(selectTeachers('random', 3, 7, 123));
    expect([0, 1, 2, 3].map((s) => selectTeachers('round-robin', 3, 0, s)[0])).toEqual([0, 1, 2, 0]);
    expect(selectTeachers('average', 3, 0, 5)).toEqual([0, 1, 2]);
  });
});

describe('MEAL update modes', () => {
  const dir = tempDir();
  let batch: Batch;
  let loader: Loader;
  let train: Dataset;
  const teachers: Model[] = [];
  const probe = tensor([4, 1, 28, 28], 99);

  beforeAll(async () => {
    setSeed(3);
    train = await Dataset.loadIdx(FASHION_MNIST, 'train');
    loader = new Loader(train, {
      batchSize: 32,
      shuffle: false,
      dropLast: false,
      seed: 0,
      pad: 0,
      flip: false,
      workers: 1,
      prefetch: 1,
      mean: [0.286],
      std: [0.353],
    });
    batch = (await loader.epoch(0).next()).value!;
    teachers.push(
      await Model.create({ arch: 'resnet14', inChannels: 1, numClasses: 10 }),
      await Model.create({ arch: 'wrn-10-1', inChannels: 1, numClasses: 10 }),
    );
  });
  afterAll(() => {
    batch.dispose();
    loader.dispose();
    train.dispose();
    for (const t of teachers) t.dispose();
    dir.cleanup();
  });

  interface Setup {
    student: Model;
    trainer: Trainer;
    meal: Objective;
    /** One step of the MEAL objective with these step arguments. */
    step: (args: { phase: string; teachers: number[]; lr: number; discriminatorLr: number }) => Promise<StepStats>;
    dispose: () => void;
  }

  async function setup(options: Settings = {}): Promise<Setup> {
    setSeed(5);
    const student = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
    // Plain SGD, no momentum or decay: a parameter's change is exactly -lr * its gradient.
    const trainer = new Trainer(student, { type: 'sgd', lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0, noDecayBnBias: false });
    const meal = await Objective.create('meal', trainer, teachers, {
      blocks: [
        { name: 'stage3', length: 16, weight: 1, adversarialWeight: 1, discriminator: true },
        { name: 'logits', weight: 1, adversarialWeight: 1, discriminator: true },
      ],
      pooling: 'avg',
      similarity: 'ce',
      temperature: 1,
      adversarial: true,
      discriminator: { divisors: [2, 4], minWidth: 2, outputRelu: false },
      ceWeight: 0,
      teacherTrainMode: false,
      grlScale: 1,
      inputShape: [1, 28, 28],
      ...options,
    });
    return {
      student,
      trainer,
      meal,
      step: ({ lr, ...args }) => trainer.step(batch, meal, lr, args),
      dispose: () => {
        meal.dispose();
        trainer.dispose();
        student.dispose();
      },
    };
  }

  const deltas = (...files: string[]) =>
    JSON.parse(runPython('checkpoint_deltas.py', files)) as Record<
      'student' | 'studentBuffers' | 'discriminators',
      { changedA: number; maxDeltaA: number; maxSum: number }
    >;

  it('reports the aligned length of each block', async () => {
    const { meal, dispose } = await setup();
    expect(meal.info()).toEqual({ teachers: 2, blockLengths: [16, 10] });
    dispose();
  });

  it('discriminator phase: trains the discriminators and leaves the student (weights and BatchNorm statistics) untouched', async () => {
    const { student, trainer, step, dispose } = await setup();
    const before = await student.forward(probe);
    const origin = join(dir.path, 'd0.ckpt');
    const after = join(dir.path, 'd1.ckpt');
    await trainer.saveCheckpoint(origin, {});
    const losses: number[] = [];
    for (let i = 0; i < 5; i++)
      losses.push((await step({ phase: 'discriminator', teachers: [0], lr: 0.1, discriminatorLr: 0.05 })).terms.adversarial!);
    await trainer.saveCheckpoint(after, {});
    expect(Array.from((await student.forward(probe)).data)).toEqual(Array.from(before.data));
    const d = deltas(origin, after);
    expect(d.student.maxDeltaA).toBe(0);
    expect(d.studentBuffers.maxDeltaA).toBe(0);
    expect(d.discriminators.changedA).toBeGreaterThan(0);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    dispose();
  });

  it('student phase: trains the student on similarity + generator loss and leaves the discriminators untouched', async () => {
    const { trainer, step, dispose } = await setup();
    const origin = join(dir.path, 's0.ckpt');
    const after = join(dir.path, 's1.ckpt');
    await trainer.saveCheckpoint(origin, {});
    const stats = await step({ phase: 'student', teachers: [1], lr: 0.1, discriminatorLr: 0.05 });
    await trainer.saveCheckpoint(after, {});
    const d = deltas(origin, after);
    expect(d.student.changedA).toBeGreaterThan(0);
    expect(d.discriminators.maxDeltaA).toBe(0);
    expect(stats.terms.similarity).toBeGreaterThan(0);
    expect(stats.terms.adversarial).toBeGreaterThan(0);
    expect(stats.loss).toBeCloseTo(stats.terms.similarity! + stats.terms.adversarial!, 5);
    dispose();
  });

  it('grl: the student moves exactly opposite to joint under the discriminator loss alone, the discriminators alike', async () => {
    // Similarity weights 0: the only student gradient is the one through the discriminators.
    const zeroSimilarity = {
      blocks: [
        { name: 'stage3', length: 16, weight: 0, adversarialWeight: 1, discriminator: true },
        { name: 'logits', weight: 0, adversarialWeight: 1, discriminator: true },
      ],
    };
    const { trainer, step, dispose } = await setup(zeroSimilarity);
    const origin = join(dir.path, 'g0.ckpt');
    const joint = join(dir.path, 'g-joint.ckpt');
    const grl = join(dir.path, 'g-grl.ckpt');
    await trainer.saveCheckpoint(origin, {});
    const options = { teachers: [0, 1], lr: 0.05, discriminatorLr: 0.05 };
    await step({ ...options, phase: 'joint' });
    await trainer.saveCheckpoint(joint, {});
    await trainer.loadCheckpoint(origin);
    await step({ ...options, phase: 'grl' });
    await trainer.saveCheckpoint(grl, {});
    const d = deltas(origin, joint, grl);
    expect(d.student.maxDeltaA).toBeGreaterThan(1e-6);
    expect(d.student.maxSum).toBeLessThan(1e-6 + d.student.maxDeltaA * 1e-3);
    // The discriminators minimise their loss in both modes: the same update, not an opposite one.
    const same = deltas(joint, grl);
    expect(same.discriminators.maxDeltaA).toBeLessThan(1e-6);
    dispose();
  });

  it('names a block the models do not have, listing the blocks they do', async () => {
    const error = await thrown(() => setup({ blocks: [{ name: 'layer4', weight: 1, adversarialWeight: 1, discriminator: true }] }));
    expect(error).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringMatching(/'layer4' is not a block of the student \(resnet8\); its blocks are layer1, layer2, layer3, logits/),
    });
    // A ResNet's layer3 is a WRN's block3: feature names are per family, stages are not.
    const wrn = await thrown(() => setup({ blocks: [{ name: 'layer3', weight: 1, adversarialWeight: 1, discriminator: true }] }));
    expect(wrn).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringContaining(
        "'layer3' is not a block of the teacher 2 (wrn-10-1); its blocks are block1, block2, block3, logits (or stage1..stage3",
      ),
    });
  });

  it('refuses two names for one block', async () => {
    const error = await thrown(() =>
      setup({ blocks: ['stage3', 'layer3'].map((name) => ({ name, weight: 1, adversarialWeight: 1, discriminator: true })) }),
    );
    expect(error).toMatchObject({ code: 'E_ARGUMENT', message: expect.stringContaining("'layer3' and 'stage3' name the same block") });
  });

  it('finds blocks by stage and by position as well as by name', async () => {
    for (const blocks of [
      ['stage2', '-1'],
      ['1', 'logits'],
    ]) {
      const { meal, dispose } = await setup({
        blocks: blocks.map((name) => ({ name, weight: 1, adversarialWeight: 1, discriminator: true })),
      });
      expect(meal.info().blockLengths).toEqual([14 * 14, 10]);
      dispose();
    }
  });

  it('refuses a teacher index out of range and a discriminator phase without discriminators', async () => {
    const { step, dispose } = await setup({ adversarial: false });
    expect(await thrown(() => step({ phase: 'joint', teachers: [2], lr: 0.1, discriminatorLr: 0.1 }))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringContaining('teacher index 2'),
    });
    expect(await thrown(() => step({ phase: 'discriminator', teachers: [0], lr: 0.1, discriminatorLr: 0.1 }))).toMatchObject({
      code: 'E_ARGUMENT',
    });
    const stats = await step({ phase: 'joint', teachers: [0], lr: 0.1, discriminatorLr: 0.1 });
    expect(Object.keys(stats.terms)).toEqual(['similarity']);
    dispose();
  });
});
