import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Model, Trainer, buildConfig, createRun, evaluateCheckpoints, liveHandles, setSeed } from '../src/index.js';
import type { RunResult } from '../src/index.js';
import { native } from '../src/native.js';
import { FASHION_MNIST, firstTrainingBatch, tempDir, thrown, supervisedStep } from './helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

function config(out: string, patch: Record<string, unknown>) {
  return buildConfig(undefined, {
    method: 'supervised',
    model: { arch: 'resnet8' },
    data: { dataDir: FASHION_MNIST, trainLimit: 3000 },
    epochs: 2,
    batchSize: 64,
    optimizer: { lr: 0.05 },
    seed: 7,
    out: join(dir.path, out),
    ...patch,
  });
}

/** The learned parameters' bytes (BatchNorm's running statistics move in every training forward). */
async function learned(model: Model): Promise<Buffer> {
  const path = join(dir.path, 'weights.safetensors');
  await model.saveSafetensors(path);
  const { tensors } = await native().readSafetensors(path);
  const names = Object.keys(tensors)
    .filter((n) => !/running_(mean|var)|num_batches_tracked/.test(n))
    .sort();
  return Buffer.concat(names.map((n) => Buffer.from(tensors[n]!.data.buffer)));
}

describe('training on Fashion-MNIST', () => {
  // Every test that needs them gets the same teacher and plain student, whatever order tests run in.
  let teacher: RunResult;
  let straight: RunResult;
  const steps: number[] = [];

  beforeAll(async () => {
    const run = createRun(config('teacher', { model: { arch: 'resnet14' }, epochs: 3 }));
    run.on('step', (e) => steps.push(e.step));
    teacher = await run.execute();
    straight = await createRun(config('straight', {})).execute();
  });

  it('raises test accuracy well above chance in a short run, with events and a checkpoint', () => {
    expect(steps.length).toBe(3 * Math.ceil(3000 / 64));
    expect(teacher.top1).toBeGreaterThan(0.6);
    expect(teacher.top5).toBeGreaterThan(teacher.top1);
    expect(teacher.history.map((h) => h.epoch)).toEqual([0, 1, 2]);
    expect(teacher.imagesPerSecond).toBeGreaterThan(0);
    expect(teacher.checkpoint).toBe(join(dir.path, 'teacher', 'checkpoint.ckpt'));
  });

  it('resumes from a checkpoint to the same result as an uninterrupted run', async () => {
    const interrupted = createRun(config('resumed', {}));
    interrupted.on('checkpoint', () => interrupted.requestStop());
    expect((await interrupted.execute()).epochs).toBe(1);
    const resumed = await createRun(config('resumed', { resume: true })).execute();
    expect(resumed.epochs).toBe(2);
    expect(resumed.loss).toBeCloseTo(straight.loss, 6);
    expect(resumed.top1).toBe(straight.top1);
  });

  it('refuses to resume with a different batch size, naming the checkpoint', async () => {
    const error = await thrown(() => createRun(config('resumed', { resume: true, epochs: 3, batchSize: 32 })).execute());
    expect(error).toMatchObject({ code: 'E_CHECKPOINT', message: expect.stringContaining(join(dir.path, 'resumed', 'checkpoint.ckpt')) });
  });

  it("fills in a named dataset's directory and normalisation", () => {
    const mnist = buildConfig(undefined, { method: 'supervised', data: { dataset: 'mnist' } });
    expect(mnist.data).toMatchObject({ dataDir: '/usr/share/datasets/mnist', mean: [0.1307], std: [0.3081] });
    const own = buildConfig(undefined, { method: 'supervised', data: { dataset: 'mnist', dataDir: '/data/m', mean: [0.5], std: [0.5] } });
    expect(own.data).toMatchObject({ dataDir: '/data/m', mean: [0.5], std: [0.5] });
    expect(() => buildConfig(undefined, { method: 'supervised', data: { dataset: 'idx' } })).toThrowError(/data\.dataDir: required/);
  });

  it('distills the teacher into a student with KD', async () => {
    const result = await createRun(config('kd', { method: 'kd', teachers: [teacher.checkpoint], epochs: 1 })).execute();
    expect(result.method).toBe('kd');
    expect(result.top1).toBeGreaterThan(0.4);
  });

  it('distills two teachers with MEAL to well above chance, reporting the teachers and their ensemble', async () => {
    const result = await createRun(
      config('meal', {
        method: 'meal',
        teachers: [teacher.checkpoint, straight.checkpoint],
        epochs: 2,
        meal: { blocks: ['layer3', 'logits'], update: 'alternating' },
      }),
    ).execute();
    expect(result.method).toBe('meal');
    expect(result.top1).toBeGreaterThan(0.4);
    expect(result.teachers?.map((t) => t.arch)).toEqual(['resnet14', 'resnet8']);
    expect(result.teachers?.[0]?.top1).toBeCloseTo(teacher.top1, 6);
    expect(result.ensemble?.top1).toBeGreaterThan(0.5);
    // The report scores members and ensemble in one pass; the plain evaluation path agrees.
    const scored = { dataDir: FASHION_MNIST, device: 'cpu', batchSize: 256, mean: [0], std: [1] };
    expect(result.teachers?.[1]?.top1).toBeCloseTo((await evaluateCheckpoints([straight.checkpoint], scored)).top1, 6);
    expect(result.ensemble?.top1).toBeCloseTo((await evaluateCheckpoints([teacher.checkpoint, straight.checkpoint], scored)).top1, 6);
  });

  it('starts MEAL V2 from a pretrained student and keeps it accurate', async () => {
    const result = await createRun(
      config('mealv2', {
        method: 'mealv2',
        teachers: [teacher.checkpoint],
        epochs: 1,
        optimizer: { lr: 0.01 },
        model: { arch: 'resnet8', init: straight.checkpoint },
      }),
    ).execute();
    expect(result.top1).toBeGreaterThan(straight.top1 - 0.05);
    const error = await thrown(() =>
      createRun(
        config('mealv2-bad', { method: 'mealv2', teachers: [teacher.checkpoint], model: { arch: 'resnet14', init: straight.checkpoint } }),
      ).execute(),
    );
    expect(error).toMatchObject({ code: 'E_WEIGHTS', message: expect.stringMatching(/model\.init .*holds resnet8/) });
  });

  it('names a missing teacher file', async () => {
    const missing = join(dir.path, 'nope.ckpt');
    const error = await thrown(() => createRun(config('kd2', { method: 'kd', teachers: [missing] })).execute());
    expect(error).toMatchObject({ code: 'E_FILE_NOT_FOUND', message: expect.stringContaining(missing) });
  });

  it('stops on a non-finite loss without updating the weights', async () => {
    setSeed(0);
    const { batch, dispose } = await firstTrainingBatch();
    const model = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
    const trainer = new Trainer(model, { type: 'sgd', lr: 1, momentum: 0, nesterov: false, weightDecay: 0, noDecayBnBias: false });
    let before = await learned(model);
    let steps = 0;
    const error = await thrown(async () => {
      for (; steps < 20; steps++) {
        before = await learned(model);
        await supervisedStep(trainer, batch, 1e30);
      }
    });
    expect(error).toMatchObject({ code: 'E_NAN_LOSS', message: expect.stringContaining('not updated') });
    // A finite step came first (it moved the weights); the step that met the NaN left them as they were.
    expect(steps).toBeGreaterThan(0);
    expect((await learned(model)).equals(before)).toBe(true);
    trainer.dispose();
    model.dispose();
    dispose();
  });

  it('names a model whose input channels do not fit the data', async () => {
    const error = await thrown(() => createRun(config('rgb', { model: { arch: 'resnet8', inChannels: 3 }, epochs: 1 })).execute());
    expect(error).toMatchObject({ code: 'E_SHAPE', message: expect.stringMatching(/3 input channel.*have 1/) });
  });

  it('aborts between two steps when its signal fires, freeing everything; once() and off() listeners', async () => {
    const baseline = liveHandles();
    const controller = new AbortController();
    const run = createRun(config('aborted', { epochs: 1 }));
    let steps = 0;
    let firstOnly = 0;
    let removed = 0;
    const never = () => (removed += 1);
    run.on('step', never).off('step', never);
    run.once('step', () => (firstOnly += 1));
    run.on('step', (e) => {
      steps += 1;
      if (e.step === 3) controller.abort(new Error('enough'));
    });
    expect(await thrown(() => run.execute({ signal: controller.signal }))).toMatchObject({
      code: 'E_INTERRUPTED',
      message: expect.stringMatching(/aborted at step 3 \(epoch 1, batch 3 of 47\) \(enough\)/),
    });
    expect({ steps, firstOnly, removed }).toEqual({ steps: 3, firstOnly: 1, removed: 0 });
    const now = liveHandles();
    for (const kind of Object.keys(baseline) as (keyof typeof baseline)[]) expect(now[kind], kind).toBeLessThanOrEqual(baseline[kind]);
  });

  it('frees every native handle it made, whether the run fails half-way or succeeds', async () => {
    // Handles an earlier test left to the garbage collector may be collected meanwhile: no kind may grow.
    const baseline = liveHandles();
    const noGrowth = () => {
      const now = liveHandles();
      for (const kind of Object.keys(baseline) as (keyof typeof baseline)[]) expect(now[kind], kind).toBeLessThanOrEqual(baseline[kind]);
    };
    const failed = createRun(config('diverges', { optimizer: { lr: 1e30 }, epochs: 1 }));
    let stepsDone = 0;
    failed.on('step', () => (stepsDone += 1));
    expect(await thrown(() => failed.execute())).toMatchObject({ code: 'E_NAN_LOSS' });
    expect(stepsDone).toBeGreaterThan(0);
    noGrowth();
    const kd = await createRun(
      config('kd-handles', { method: 'kd', teachers: [teacher.checkpoint], epochs: 1, data: { dataDir: FASHION_MNIST, trainLimit: 500 } }),
    ).execute();
    expect(kd.epochs).toBe(1);
    noGrowth();
    expect(
      await thrown(() => createRun(config('bad-teacher', { method: 'kd', teachers: [join(dir.path, 'nope.ckpt')] })).execute()),
    ).toMatchObject({ code: 'E_FILE_NOT_FOUND' });
    noGrowth();
  });
});
