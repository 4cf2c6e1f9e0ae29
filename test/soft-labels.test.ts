import { readFileSync, truncateSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Dataset, Loader, Model, Objective, Trainer, buildConfig, cacheTeachers, createRun, loadModel, setSeed } from '../src/index.js';
import type { Batch, CacheTeachersOptions, RunResult, Settings } from '../src/index.js';
import { runPython, tempDir, thrown } from './helpers.js';

// A teacher trained on a small ImageFolder, its soft labels cached on two crops per image, and KD
// from the cache compared with KD from the live teacher on the very same crops.
const dir = tempDir();
const data = join(dir.path, 'stripes');
const cache = join(dir.path, 'teacher.softlabels');
let teacher: RunResult;

const image = { size: 32, scale: [0.35, 1] as [number, number], ratio: [3 / 4, 4 / 3] as [number, number], dctScaling: true };
const cacheOptions = (out: string): CacheTeachersOptions => ({
  teachers: [teacher.checkpoint],
  dataDir: data,
  out,
  crops: 2,
  topK: 2,
  temperature: 4,
  logits: false,
  perTeacher: false,
  seed: 5,
  image,
  flip: true,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  batchSize: 32,
  device: 'cpu',
  workers: 2,
});

beforeAll(async () => {
  runPython('image_reference.py', ['stripes', data, '96']);
  teacher = await createRun(
    buildConfig(undefined, {
      method: 'supervised',
      model: { arch: 'resnet8' },
      data: { dataset: 'imagefolder', dataDir: data, image: { size: 32, resize: 36, scale: [0.35, 1] } },
      epochs: 3,
      batchSize: 32,
      optimizer: { lr: 0.05 },
      seed: 1,
      out: join(dir.path, 'teacher'),
    }),
  ).execute();
  await cacheTeachers(cacheOptions(cache));
}, 120_000);
afterAll(() => dir.cleanup());

async function firstBatch(softLabels?: string): Promise<{ batch: Batch; dispose: () => void }> {
  const dataset = await Dataset.openImageFolder({
    root: join(data, 'train'),
    train: true,
    ...image,
    ...(softLabels ? { softLabels } : {}),
  });
  const loader = new Loader(dataset, {
    batchSize: 16,
    shuffle: true,
    dropLast: false,
    seed: 5,
    pad: 0,
    flip: false,
    workers: 2,
    prefetch: 2,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  });
  const batch = (await loader.epoch(0).next()).value!;
  return { batch, dispose: () => (batch.dispose(), loader.dispose(), dataset.dispose()) };
}

describe('teacher soft-label caches', () => {
  it('replays the crops a live run draws, and KD from the cache has the live-teacher loss', async () => {
    const live = await firstBatch();
    const cached = await firstBatch(cache);
    expect(Array.from(cached.batch.indices().data)).toEqual(Array.from(live.batch.indices().data));
    expect(Array.from(cached.batch.crops()!.data)).toEqual(Array.from(live.batch.crops()!.data));
    expect(Buffer.from(cached.batch.images().data as Uint8Array).equals(Buffer.from(live.batch.images().data as Uint8Array))).toBe(true);
    expect(live.batch.softLabels()).toBeNull();
    const soft = cached.batch.softLabels()!;
    expect(soft.classes.shape).toEqual([16, 2]);

    const kd = { temperature: 4, ceWeight: 0.5, kdWeight: 0.5 };
    const losses: number[] = [];
    const teacherModel = await loadModel(teacher.checkpoint, 'cpu');
    const steps: [Batch, Model[]][] = [
      [live.batch, [teacherModel]],
      [cached.batch, []],
    ];
    for (const [batch, teachers] of steps) {
      setSeed(2);
      using student = await Model.create({ arch: 'resnet8', inChannels: 3, numClasses: 2 });
      using trainer = new Trainer(student, {
        type: 'sgd',
        lr: 0.01,
        momentum: 0.9,
        nesterov: false,
        weightDecay: 5e-4,
        noDecayBnBias: false,
      });
      using objective = await Objective.create('kd', trainer, teachers, kd);
      losses.push((await trainer.step(batch, objective, 0.01)).loss);
    }
    // float16 probabilities are the only difference.
    expect(Math.abs(losses[0]! - losses[1]!)).toBeLessThan(2e-3);
    teacherModel.dispose();
    live.dispose();
    cached.dispose();
  });

  it('distills from the cache alone, and refuses a cache made for other crops or damaged', async () => {
    const config = (patch: Record<string, unknown>) =>
      buildConfig(undefined, {
        method: 'kd',
        model: { arch: 'resnet8' },
        data: { dataset: 'imagefolder', dataDir: data, image: { size: 32, resize: 36, scale: [0.35, 1] }, softLabels: cache },
        epochs: 4,
        batchSize: 32,
        optimizer: { lr: 0.05 },
        seed: 5,
        out: join(dir.path, 'student'),
        ...patch,
      });
    const result = await createRun(config({})).execute();
    expect(result.top1).toBeGreaterThan(0.7);
    expect(result.teachers).toBeUndefined();

    const other = await thrown(() =>
      createRun(
        config({ data: { dataset: 'imagefolder', dataDir: data, image: { size: 40, resize: 44, scale: [0.35, 1] }, softLabels: cache } }),
      ).execute(),
    );
    expect(other).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringMatching(/made with crops of size 32.*this run uses size 40/),
    });
    const strangers = await thrown(() => createRun(config({ teachers: [join(dir.path, 'other.ckpt')] })).execute());
    expect(strangers).toMatchObject({ code: 'E_ARGUMENT', message: expect.stringContaining('this run names') });
    expect(
      (await createRun(config({ teachers: [teacher.checkpoint], epochs: 1, out: join(dir.path, 'student-named') })).execute()).epochs,
    ).toBe(1);
    const hot = await thrown(() => createRun(config({ kd: { temperature: 1 } })).execute());
    expect(hot).toMatchObject({ code: 'E_ARGUMENT', message: expect.stringContaining('temperature 4; this run distills at 1') });
    const damaged = join(dir.path, 'damaged.softlabels');
    copyFileSync(cache, damaged);
    truncateSync(damaged, 1000);
    const truncated = await thrown(() =>
      createRun(
        config({ data: { dataset: 'imagefolder', dataDir: data, image: { size: 32, resize: 36, scale: [0.35, 1] }, softLabels: damaged } }),
      ).execute(),
    );
    expect(truncated).toMatchObject({ code: 'E_CORRUPT_FILE', message: expect.stringMatching(/damaged\.softlabels holds 1000 bytes/) });
    expect(() =>
      buildConfig(undefined, { method: 'meal', teachers: ['t.ckpt'], data: { dataset: 'imagefolder', dataDir: data, softLabels: cache } }),
    ).toThrowError(/data\.softLabels: a soft-label cache is replayed by methods 'kd' and 'mealv2'/);
  });

  it('replays MEAL V2 from a cache with logits: the live-teacher step loss, and a run with no teacher', async () => {
    const mealCache = join(dir.path, 'mealv2.softlabels');
    await cacheTeachers({ ...cacheOptions(mealCache), temperature: 1, logits: true });
    const live = await firstBatch();
    const cached = await firstBatch(mealCache);
    expect(cached.batch.softLabels()!.logits!.shape).toEqual([16, 2]);
    const config = buildConfig(undefined, { method: 'mealv2', teachers: ['unused.ckpt'] });
    if (config.method !== 'mealv2') throw new Error('expected a mealv2 config');
    const meal = config.mealv2;
    const options: Settings = {
      blocks: [{ name: 'logits', weight: 1, adversarialWeight: 1, discriminator: true }],
      pooling: 'avg',
      similarity: 'ce',
      temperature: 1,
      adversarial: true,
      discriminator: { ...meal.discriminator, divisors: [8, 64] },
      ceWeight: 0,
      teacherTrainMode: false,
      grlScale: 1,
      inputShape: [3, 32, 32],
    };
    const teacherModel = await loadModel(teacher.checkpoint, 'cpu');
    const losses: number[] = [];
    for (const [batch, teachers] of [
      [live.batch, [teacherModel]],
      [cached.batch, []],
    ] as [Batch, Model[]][]) {
      setSeed(2);
      using student = await Model.create({ arch: 'resnet8', inChannels: 3, numClasses: 2 });
      using trainer = new Trainer(student, { type: 'sgd', lr: 0.01, momentum: 0.9, nesterov: false, weightDecay: 0, noDecayBnBias: false });
      using distiller = await Objective.create('meal', trainer, teachers, options);
      losses.push(
        (await trainer.step(batch, distiller, 0.01, { phase: 'joint', teachers: teachers.length ? [0] : [], discriminatorLr: 1e-3 })).loss,
      );
    }
    expect(Math.abs(losses[0]! - losses[1]!)).toBeLessThan(2e-3);
    teacherModel.dispose();
    live.dispose();
    cached.dispose();

    const run = (softLabels: string) =>
      createRun(
        buildConfig(undefined, {
          method: 'mealv2',
          model: { arch: 'resnet8', init: teacher.checkpoint },
          data: { dataset: 'imagefolder', dataDir: data, image: { size: 32, resize: 36, scale: [0.35, 1] }, softLabels },
          epochs: 2,
          batchSize: 32,
          optimizer: { lr: 0.01 },
          seed: 5,
          out: join(dir.path, `mealv2-${softLabels === cache ? 'kd-cache' : 'cache'}`),
        }),
      ).execute();
    const result = await run(mealCache);
    expect(result.top1).toBeGreaterThan(teacher.top1 - 0.1);
    expect(await thrown(() => run(cache))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringContaining('temperature 4; this run distills at 1'),
    });
  });

  it("keeps each teacher's own top-k when asked, in records a run still replays", async () => {
    const both = join(dir.path, 'per-teacher.softlabels');
    // The same teacher twice: each teacher's top-k must then be the ensemble's, bit for bit.
    const header = await cacheTeachers({
      ...cacheOptions(both),
      teachers: [teacher.checkpoint, teacher.checkpoint],
      logits: true,
      perTeacher: true,
    });
    const bytes = readFileSync(both);
    const dataOffset = Math.ceil((16 + Number(bytes.readBigUInt64LE(8))) / 8) * 8;
    const k = header.topK;
    const recordBytes = 20 + 4 * k + 2 * header.numClasses + 2 * 4 * k;
    expect(bytes.length).toBe(dataOffset + header.samples * header.crops * recordBytes);
    for (const r of [0, 7, header.samples * header.crops - 1]) {
      const at = dataOffset + r * recordBytes;
      const ensemble = bytes.subarray(at + 20, at + 20 + 4 * k);
      const teachers = at + 20 + 4 * k + 2 * header.numClasses;
      expect(bytes.subarray(teachers, teachers + 4 * k).equals(ensemble)).toBe(true);
      expect(bytes.subarray(teachers + 4 * k, teachers + 8 * k).equals(ensemble)).toBe(true);
    }
    const replay = await firstBatch(both);
    const plain = await firstBatch(cache);
    expect(Array.from(replay.batch.softLabels()!.classes.data)).toEqual(Array.from(plain.batch.softLabels()!.classes.data));
    replay.dispose();
    plain.dispose();
  });

  it('resumes an interrupted cache to the same bytes as an uninterrupted one', async () => {
    const resumed = join(dir.path, 'resumed.softlabels');
    let passes = 0;
    // Stop after the first crop pass, as a crash between passes would.
    await expect(
      cacheTeachers(cacheOptions(resumed), (pass) => {
        if (pass === 1 && passes++ === 0) throw new Error('interrupted');
      }),
    ).rejects.toThrow('interrupted');
    await cacheTeachers(cacheOptions(resumed));
    expect(readFileSync(resumed).equals(readFileSync(cache))).toBe(true);
  });
});
