import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Model, Objective, Trainer, buildConfig, createRun, oneLoss, oneRampUp, setSeed } from '../src/index.js';
import type { Batch, HostTensor } from '../src/index.js';
import { native } from '../src/native.js';
import { FASHION_MNIST, firstTrainingBatch, randomFloats, runPython, tempDir, thrown } from './helpers.js';

function tensor(shape: number[], seed: number, scale = 1): HostTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return { data: randomFloats(size, seed).map((v) => v * scale), shape };
}

function rows(t: HostTensor): number[][] {
  const [n, d] = t.shape as [number, number];
  return Array.from({ length: n }, (_, r) => Array.from(t.data.subarray(r * d, (r + 1) * d)));
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('ONE loss against PyTorch', async () => {
  const branches = [tensor([6, 10], 1, 3), tensor([6, 10], 2, 3), tensor([6, 10], 3, 3)];
  const ensemble = tensor([6, 10], 4, 3);
  const labels: HostTensor = { data: Float32Array.from([0, 3, 9, 1, 1, 7]), shape: [6] };
  const rampEpochs = [0, 1, 20, 40, 79, 80, 120];
  const reference = (klWeight: number) =>
    JSON.parse(
      runPython(
        'one_reference.py',
        [],
        JSON.stringify({
          branches: branches.map(rows),
          ensemble: rows(ensemble),
          labels: Array.from(labels.data),
          temperature: 3,
          klWeight,
          rampUp: { length: 80, epochs: rampEpochs },
        }),
      ),
    ) as { total: number; ce: number; kl: number; gradBranches: number[][][]; gradEnsemble: number[][]; rampUp: number[] };

  it('matches the loss and its gradients, and the ensemble target passes no gradient', async () => {
    const ref = reference(0.7);
    const ours = await oneLoss(branches, ensemble, labels, { temperature: 3, klWeight: 0.7 });
    expect(ours.total).toBeCloseTo(ref.total, 5);
    expect(ours.ce).toBeCloseTo(ref.ce, 5);
    expect(ours.kl).toBeCloseTo(ref.kl, 5);
    ours.gradBranches.forEach((g, i) => expect(maxDiff(g.data, ref.gradBranches[i]!.flat())).toBeLessThan(1e-6));
    expect(maxDiff(ours.gradEnsemble.data, ref.gradEnsemble.flat())).toBeLessThan(1e-6);
    // The ensemble's gradient is its CE's alone, whatever the KL weight.
    const noKl = await oneLoss(branches, ensemble, labels, { temperature: 3, klWeight: 0 });
    expect(maxDiff(noKl.gradEnsemble.data, ours.gradEnsemble.data)).toBe(0);
    expect(maxDiff(noKl.gradBranches[0]!.data, ours.gradBranches[0]!.data)).toBeGreaterThan(1e-4);
  });

  it('ramps the KL weight up as the official code does, and not at all with R = 0', () => {
    const ref = reference(1).rampUp;
    rampEpochs.forEach((e, i) => expect(oneRampUp(e, 80)).toBeCloseTo(ref[i]!, 12));
    expect(oneRampUp(0, 0)).toBe(1);
    expect(oneRampUp(80, 80)).toBe(1);
  });

  it('names mis-shaped inputs', async () => {
    const error = await thrown(() => oneLoss([tensor([6, 9], 5)], ensemble, labels, { temperature: 3, klWeight: 1 }));
    expect(error).toMatchObject({ code: 'E_SHAPE', message: expect.stringContaining('branch logits must be [batch, classes] = [6, 10]') });
  });
});

describe('ONE networks', () => {
  const input = tensor([3, 1, 28, 28], 7);
  const cases = [
    { arch: 'resnet8', branch: ['layer3.', 'fc.'] },
    { arch: 'wrn-10-2', branch: ['block3.', 'bn1.', 'fc.'] },
    { arch: 'resnet18', branch: ['layer4.', 'fc.'] },
  ];

  for (const { arch, branch } of cases) {
    it(`${arch}: m branches on one trunk, a gate whose weighted sum is the ensemble, exported branches that compute the same logits`, async () => {
      setSeed(11);
      const spec = { arch, inChannels: 1, numClasses: 10 };
      using one = await Model.create({ ...spec, branches: 3 });
      using plainModel = await Model.create(spec);
      expect(one.outputNames).toEqual(['branch1', 'branch2', 'branch3', 'ensemble']);
      expect(one.spec).toEqual({ ...spec, branches: 3 });

      // Parameters: the trunk once, the last stage and classifier three times, the gate (Linear C->3, BN1d(3)).
      const shapes = plainModel.stateShapes();
      const count = (names: string[]) => names.reduce((sum, n) => sum + shapes[n]!.reduce((a, b) => a * b, 1), 0);
      const inBranch = (n: string) => branch.some((p) => n.startsWith(p));
      const oneShapes = one.stateShapes();
      const trunkChannels = oneShapes['gate.fc.weight']![1]!;
      const paramNames = (s: Record<string, number[]>) => Object.keys(s).filter((n) => !/running_|num_batches/.test(n));
      expect(one.parameterCount).toBe(
        plainModel.parameterCount + 2 * count(paramNames(shapes).filter(inBranch)) + (trunkChannels * 3 + 3) + 2 * 3,
      );
      for (const name of Object.keys(shapes).filter(inBranch)) expect(oneShapes[`branches.2.${name}`]).toEqual(shapes[name]);
      for (const name of Object.keys(shapes).filter((n) => !inBranch(n))) expect(oneShapes[name]).toEqual(shapes[name]);

      const out = await one.oneOutputs(input);
      expect(out.branches.map((b) => b.shape)).toEqual([
        [3, 10],
        [3, 10],
        [3, 10],
      ]);
      expect(out.gate.shape).toEqual([3, 3]);
      for (let r = 0; r < 3; r++) {
        const g = Array.from(out.gate.data.subarray(3 * r, 3 * r + 3));
        expect(g.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
        for (let c = 0; c < 10; c++) {
          const weighted = g.reduce((sum, w, i) => sum + w * out.branches[i]!.data[10 * r + c]!, 0);
          expect(out.ensemble.data[10 * r + c]).toBeCloseTo(weighted, 5);
        }
      }
      expect(maxDiff(out.branches[0]!.data, out.branches[1]!.data)).toBeGreaterThan(1e-4);
      // "ONE" is branch 1: the network's plain forward.
      expect(maxDiff((await one.forward(input)).data, out.branches[0]!.data)).toBe(0);

      for (const b of [1, 3]) {
        using exported = await one.exportBranch(b);
        expect(exported.spec).toEqual(spec);
        expect(Object.keys(exported.stateShapes())).toEqual(Object.keys(shapes));
        expect(maxDiff((await exported.forward(input)).data, out.branches[b - 1]!.data)).toBe(0);
      }
    });
  }

  it('exports a branch of a ONE network built on a searched architecture as that architecture', async () => {
    const blocks = [[16, 4], [9], [64, 3]];
    using one = await Model.create({ arch: 'resnet14', inChannels: 1, numClasses: 10, branches: 2, blocks });
    using exported = await one.exportBranch(2);
    expect(exported.spec).toEqual({ arch: 'resnet14', inChannels: 1, numClasses: 10, blocks });
    expect(maxDiff((await exported.forward(input)).data, (await one.oneOutputs(input)).branches[1]!.data)).toBe(0);
  });

  it('refuses a branch out of range, an export of a plain network, and fewer than two branches', async () => {
    using one = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10, branches: 3 });
    expect(await thrown(() => one.exportBranch(4))).toMatchObject({ code: 'E_ARGUMENT', message: expect.stringContaining('branches 1-3') });
    using plainModel = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
    expect(await thrown(() => plainModel.exportBranch(1))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringContaining('not a ONE'),
    });
    expect(await thrown(() => Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10, branches: 1 }))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringContaining('at least 2 branches'),
    });
  });
});

describe('ONE training', () => {
  const dir = tempDir();
  let batch: Batch;
  let release: () => void;

  beforeAll(async () => {
    ({ batch, dispose: release } = await firstTrainingBatch());
  });
  afterAll(() => {
    release();
    dir.cleanup();
  });

  it('one step trains the trunk, every branch and the gate', async () => {
    setSeed(2);
    using one = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10, branches: 3 });
    using trainer = new Trainer(one, { type: 'sgd', lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0, noDecayBnBias: false });
    const before = join(dir.path, 'before.safetensors');
    const after = join(dir.path, 'after.safetensors');
    await one.saveSafetensors(before);
    using objective = await Objective.create('one', trainer, [], { temperature: 3 });
    const stats = await trainer.step(batch, objective, 0.1, { klWeight: 1 });
    expect(stats.count).toBe(32);
    expect(Object.keys(stats.terms)).toEqual(['ce', 'kl']);
    expect(stats.terms.kl).toBeGreaterThan(0);
    await one.saveSafetensors(after);
    const [a, b] = await Promise.all([native().readSafetensors(before), native().readSafetensors(after)]);
    for (const name of [
      'conv1.weight',
      'layer1.0.conv1.weight',
      'branches.0.fc.weight',
      'branches.1.layer3.0.conv2.weight',
      'branches.2.fc.bias',
      'gate.fc.weight',
      'gate.bn.weight',
    ]) {
      expect(maxDiff(a.tensors[name]!.data, b.tensors[name]!.data), name).toBeGreaterThan(0);
    }
  });

  it('refuses a ONE step on a plain student, saying how to build one', async () => {
    using student = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
    using trainer = new Trainer(student, { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0, noDecayBnBias: false });
    const error = await thrown(() => Objective.create('one', trainer, [], { temperature: 3 }));
    expect(error).toMatchObject({ code: 'E_ARGUMENT', message: expect.stringContaining('--branches') });
  });

  it('a short ONE run learns, reports every branch and the ensemble, and resumes with its branches', async () => {
    const config = (patch: Record<string, unknown>, method: Record<string, unknown> = { method: 'one', one: { rampUp: 1 } }) =>
      buildConfig(undefined, {
        ...method,
        model: { arch: 'resnet8' },
        data: { dataDir: FASHION_MNIST, trainLimit: 3000 },
        epochs: 2,
        batchSize: 64,
        optimizer: { lr: 0.05 },
        seed: 3,
        out: join(dir.path, 'one'),
        ...patch,
      });
    const result = await createRun(config({})).execute();
    expect(result.outputs?.map((o) => o.name)).toEqual(['branch1', 'branch2', 'branch3', 'ensemble']);
    expect(result.top1).toBe(result.outputs![0]!.top1);
    for (const o of result.outputs!) expect(o.top1).toBeGreaterThan(0.5);
    const resumed = await createRun(config({ epochs: 3, resume: true })).execute();
    expect(resumed.epochs).toBe(3);
    const plainResume = await thrown(() => createRun(config({ epochs: 4, resume: true }, { method: 'supervised' })).execute());
    expect(plainResume).toMatchObject({ code: 'E_CHECKPOINT', message: expect.stringContaining('with 3 ONE branches') });
    // Another optimizer or method setting than the checkpoint's is refused unless the run says so.
    const changed = { epochs: 4, resume: true, optimizer: { type: 'adamw', lr: 0.01 } };
    expect(await thrown(() => createRun(config(changed)).execute())).toMatchObject({
      code: 'E_CHECKPOINT',
      message: expect.stringMatching(/optimizer\.type: "sgd" -> "adamw".*optimizer\.lr: 0\.05 -> 0\.01.*--resume-with-changes/),
    });
    expect((await createRun(config({ ...changed, resumeWithChanges: true })).execute()).epochs).toBe(4);
  });
});
