// DKD, added as one method file and one objective file: its loss terms against a PyTorch float64
// reference on real network outputs, its weights and warm-up, and a short run that learns.
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Model, Objective, Trainer, buildConfig, createRun, setSeed } from '../src/index.js';
import { dkdWarmup } from '../src/methods/dkd.js';
import type { Batch, HostTensor, RunResult } from '../src/index.js';
import { FASHION_MNIST, firstTrainingBatch, runPython, tempDir, thrown } from './helpers.js';

const SGD = { type: 'sgd', lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0, noDecayBnBias: false } as const;

function rows(t: HostTensor): number[][] {
  const [n, d] = t.shape as [number, number];
  return Array.from({ length: n }, (_, r) => Array.from(t.data.subarray(r * d, (r + 1) * d)));
}

/** The batch's images as the trainer feeds them: (x / 255 - mean) / std, float32. */
function normalised(batch: Batch): HostTensor {
  const images = batch.images();
  return { data: Float32Array.from(images.data, (v) => (v / 255 - 0.286) / 0.353), shape: images.shape };
}

describe('DKD', () => {
  let batch: Batch;
  let release: () => void;
  const dir = tempDir();

  beforeAll(async () => {
    ({ batch, dispose: release } = await firstTrainingBatch());
  });
  afterAll(() => {
    release();
    dir.cleanup();
  });

  for (const teacherCount of [1, 2]) {
    it(`reports CE, TCKD and NCKD equal to PyTorch's, weighted as configured (${teacherCount} teacher${teacherCount > 1 ? 's' : ''})`, async () => {
      setSeed(7);
      using student = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
      const teachers = await Promise.all(
        ['resnet14', 'wrn-10-1'].slice(0, teacherCount).map((arch) => Model.create({ arch, inChannels: 1, numClasses: 10 })),
      );
      using trainer = new Trainer(student, SGD);
      const x = normalised(batch);
      const studentLogits = await student.forward(x, true);
      const teacherLogits = await Promise.all(teachers.map((t) => t.forward(x)));
      using objective = await Objective.create('dkd', trainer, teachers, { temperature: 4, ceWeight: 0.7, alpha: 1.5, beta: 8 });
      const stats = await trainer.step(batch, objective, 0.1, { warmup: 0.5 });
      const reference = JSON.parse(
        runPython(
          'dkd_reference.py',
          [],
          JSON.stringify({
            student: rows(studentLogits),
            teachers: teacherLogits.map(rows),
            labels: Array.from(batch.labels().data),
            temperature: 4,
          }),
        ),
      ) as { ce: number; tckd: number; nckd: number };
      expect(Object.keys(stats.terms)).toEqual(['ce', 'tckd', 'nckd']);
      for (const name of ['ce', 'tckd', 'nckd'] as const) {
        expect(Math.abs(stats.terms[name]! - reference[name]), name).toBeLessThanOrEqual(1e-4 * Math.max(1, reference[name]));
      }
      expect(reference.tckd).toBeGreaterThan(0);
      expect(reference.nckd).toBeGreaterThan(0);
      expect(stats.loss).toBeCloseTo(0.7 * reference.ce + 0.5 * (1.5 * reference.tckd + 8 * reference.nckd), 4);
      for (const t of teachers) t.dispose();
    });
  }

  it('needs a teacher, and names a student that is one', async () => {
    using student = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
    using trainer = new Trainer(student, SGD);
    expect(await thrown(() => Objective.create('dkd', trainer, []))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringContaining('dkd objective needs at least 1 teacher'),
    });
    expect(await thrown(() => Objective.create('dkd', trainer, [student]))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringContaining('cannot also be one of its teachers'),
    });
    expect(await thrown(() => Objective.create('dkd', trainer, [], { temperature: 'hot' }))).toMatchObject({ code: 'E_ARGUMENT' });
  });

  it('ramps the KD terms in linearly over the warm-up epochs, counting from 1 as the official code', () => {
    expect([0, 1, 2, 3, 4].map((e) => dkdWarmup(e, 4))).toEqual([0.25, 0.5, 0.75, 1, 1]);
    expect(dkdWarmup(0, 1)).toBe(1);
  });

  it('a short DKD run from a trained teacher learns and reports the teacher', async () => {
    const base = { model: { arch: 'resnet8' }, data: { dataDir: FASHION_MNIST, trainLimit: 2000 }, batchSize: 64, seed: 4 };
    const teacher: RunResult = await createRun(
      buildConfig(undefined, { ...base, method: 'supervised', epochs: 2, out: join(dir.path, 'teacher') }),
    ).execute();
    const config = buildConfig(undefined, {
      ...base,
      method: 'dkd',
      teachers: [teacher.checkpoint],
      epochs: 2,
      out: join(dir.path, 'dkd'),
    });
    expect(config.method === 'dkd' && config.dkd).toEqual({ temperature: 1, ceWeight: 1, alpha: 0.5, beta: 0.5, warmup: 1 });
    const run = createRun(config);
    const result = await run.execute();
    expect(result.method).toBe('dkd');
    expect(result.top1).toBeGreaterThan(0.5);
    expect(result.teachers?.map((t) => t.arch)).toEqual(['resnet8']);
  });
});
