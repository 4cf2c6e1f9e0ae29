import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  Model,
  Objective,
  Trainer,
  chooseSubnet,
  describeSpec,
  extractSubnet,
  loadWeightsInto,
  readArchSpec,
  setSeed,
} from '../src/index.js';
import type { Batch, HostTensor } from '../src/index.js';
import { native } from '../src/native.js';
import { firstTrainingBatch, randomFloats, runCli, runPython, tempDir, thrown } from './helpers.js';

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

const input: HostTensor = { data: randomFloats(4 * 28 * 28, 5), shape: [4, 1, 28, 28] };
const dir = tempDir();
afterAll(() => dir.cleanup());

describe('FLOP counter', () => {
  it("counts what forward hooks on torchvision count, which are torchvision's published GFLOPS", async () => {
    const cases = ['resnet18:3:224:224:1000', 'resnet50:3:224:224:1000', 'resnet18:1:28:28:10'];
    const reference = JSON.parse(runPython('flops_reference.py', cases)) as Record<string, number>;
    for (const c of cases) {
      const [arch, ch, h, w, classes] = c.split(':');
      using model = await Model.create({ arch: arch!, inChannels: Number(ch), numClasses: Number(classes) });
      expect(await model.countFlops([Number(ch), Number(h), Number(w)]), c).toBe(reference[c]);
    }
    expect((reference['resnet18:3:224:224:1000']! / 1e9).toFixed(2)).toBe('1.81');
    expect((reference['resnet50:3:224:224:1000']! / 1e9).toFixed(2)).toBe('4.09');
  });

  it("counts every branch of a ONE network, and leaves the model's mode alone", async () => {
    using plain = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
    using one = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10, branches: 3 });
    const p = await plain.countFlops([1, 28, 28]);
    const o = await one.countFlops([1, 28, 28]);
    // resnet8's layer3 + fc at 7x7: conv 32->64 stride 2 + conv 64->64 at 7x7, fc 64x10.
    const branch = 7 * 7 * 64 * 32 * 9 + 7 * 7 * 64 * 64 * 9 + 64 * 10;
    const gate = 32 * 3;
    expect(o - p).toBe(2 * branch + gate);
    expect(await thrown(() => plain.countFlops([1, 28] as unknown as [number, number, number]))).toMatchObject({ code: 'E_ARGUMENT' });
  });
});

describe('searched architectures', () => {
  it('builds a CIFAR ResNet from per-block inner widths, and refuses them elsewhere', async () => {
    using found = await Model.create({ arch: 'resnet20', inChannels: 1, numClasses: 10, blocks: [[16, 4], [32], [9, 64, 1]] });
    expect(found.spec.blocks).toEqual([[16, 4], [32], [9, 64, 1]]);
    expect(describeSpec(found.spec)).toBe('resnet20 with blocks [[16, 4], [32], [9, 64, 1]] (1ch, 10 classes)');
    const shapes = found.stateShapes();
    expect(shapes['layer1.1.conv1.weight']).toEqual([4, 16, 3, 3]);
    expect(shapes['layer1.1.conv2.weight']).toEqual([16, 4, 3, 3]);
    expect(shapes['layer3.2.conv1.weight']).toEqual([1, 64, 3, 3]);
    expect(shapes['layer2.1.conv1.weight']).toBeUndefined();
    // The full widths give resnet20 itself.
    using full = await Model.create({
      arch: 'resnet20',
      inChannels: 1,
      numClasses: 10,
      blocks: [
        [16, 16, 16],
        [32, 32, 32],
        [64, 64, 64],
      ],
    });
    expect(full.parameterCount).toBe(269434);
    expect(await thrown(() => Model.create({ arch: 'wrn-16-2', inChannels: 1, numClasses: 10, blocks: [[1], [1], [1]] }))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringContaining('CIFAR ResNets'),
    });
    expect(await thrown(() => Model.create({ arch: 'resnet20', inChannels: 1, numClasses: 10, blocks: [[1], [], [1]] }))).toMatchObject({
      message: expect.stringContaining('stage 2 needs at least one block'),
    });
  });
});

describe('student search', () => {
  let batch: Batch;
  let release: () => void;

  beforeAll(async () => {
    ({ batch, dispose: release } = await firstTrainingBatch());
  });
  afterAll(() => {
    release();
  });

  async function gatedCopy(teacher: Model): Promise<Model> {
    const gated = await Model.create({ ...teacher.spec, gated: true });
    const path = join(dir.path, `teacher-${Math.random()}.safetensors`);
    await teacher.saveSafetensors(path);
    await loadWeightsInto(gated, path, { ignoreGates: true });
    return gated;
  }

  async function setGates(model: Model, gates: Record<string, number[]>): Promise<void> {
    const path = join(dir.path, `gates-${Math.random()}.safetensors`);
    await model.saveSafetensors(path);
    const { tensors } = await native().readSafetensors(path);
    for (const [name, values] of Object.entries(gates)) tensors[name] = { data: Float32Array.from(values), shape: [values.length] };
    await native().writeSafetensors(path, tensors);
    await model.loadSafetensors(path);
  }

  it("gates every block's inner channels and every identity block, computes the teacher's function at 1, and trains only the gates", async () => {
    setSeed(4);
    using teacher = await Model.create({ arch: 'resnet14', inChannels: 1, numClasses: 10 });
    using gated = await gatedCopy(teacher);
    const gates = Object.keys(gated.stateShapes()).filter((n) => n.endsWith('_gate'));
    expect(gates.filter((n) => n.endsWith('block_gate')).sort()).toEqual([
      'layer1.0.block_gate',
      'layer1.1.block_gate',
      'layer2.1.block_gate',
      'layer3.1.block_gate',
    ]);
    expect(gated.stateShapes()['layer2.0.channel_gate']).toEqual([32]);
    expect(gated.parameterCount).toBe(teacher.parameterCount + 2 * (16 + 32 + 64) + 4);
    expect(maxDiff((await gated.forward(input)).data, (await teacher.forward(input)).data)).toBe(0);
    // Only the gates may be missing from the teacher's file: any other tensor is still required.
    const partial = join(dir.path, 'teacher-without-fc-bias.safetensors');
    await teacher.saveSafetensors(partial);
    const { tensors } = await native().readSafetensors(partial);
    delete tensors['fc.bias'];
    await native().writeSafetensors(partial, tensors);
    using other = await Model.create({ ...teacher.spec, gated: true });
    expect(await thrown(() => loadWeightsInto(other, partial, { ignoreGates: true }))).toMatchObject({
      code: 'E_WEIGHTS',
      message: expect.stringMatching(/1 missing key \(fc\.bias\)/),
    });

    using trainer = new Trainer(gated, { type: 'sgd', lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0, noDecayBnBias: false });
    const before = join(dir.path, 'search-before.safetensors');
    const after = join(dir.path, 'search-after.safetensors');
    await gated.saveSafetensors(before);
    using objective = await Objective.create('search', trainer, [teacher], { temperature: 4, l1: 0.01 });
    const stats = await trainer.step(batch, objective, 0.1);
    expect(stats.terms.gates).toBeCloseTo(2 * (16 + 32 + 64) + 4, 3);
    await gated.saveSafetensors(after);
    const [a, b] = await Promise.all([native().readSafetensors(before), native().readSafetensors(after)]);
    for (const name of Object.keys(a.tensors)) {
      const moved = maxDiff(a.tensors[name]!.data, b.tensors[name]!.data) > 0;
      expect(moved, name).toBe(name.endsWith('_gate'));
    }
  });

  it('extracts a plain network that computes what the gated one computes once pruned gates are zero, with the gates folded in', async () => {
    setSeed(6);
    using teacher = await Model.create({ arch: 'resnet14', inChannels: 1, numClasses: 10 });
    using gated = await gatedCopy(teacher);
    const ramp = (n: number, zeroed: number[]) => Array.from({ length: n }, (_, i) => (zeroed.includes(i) ? 0 : 0.5 + (i % 7) / 7));
    await setGates(gated, {
      'layer1.0.channel_gate': ramp(16, [0, 3, 4, 15]),
      'layer1.1.block_gate': [0],
      'layer2.0.channel_gate': ramp(32, [1, 2, 30]),
      'layer2.1.block_gate': [-0.7],
      'layer3.0.channel_gate': ramp(64, []),
      'layer3.1.channel_gate': ramp(
        64,
        Array.from({ length: 60 }, (_, i) => i),
      ),
    });
    const choice = { threshold: 1e-9, spec: { ...teacher.spec, blocks: gated.handle.planSubnet(1e-9).blocks }, params: 0, flops: 0 };
    expect(choice.spec.blocks).toEqual([[12], [29, 32], [64, 4]]);
    using student = await extractSubnet(gated, choice);
    expect(student.spec).toEqual({ arch: 'resnet14', inChannels: 1, numClasses: 10, blocks: [[12], [29, 32], [64, 4]] });
    expect(maxDiff((await student.forward(input)).data, (await gated.forward(input)).data)).toBeLessThan(1e-4);
    // In training mode too: the folded gates act on BatchNorm's batch statistics the same way.
    expect(maxDiff((await student.forward(input, true)).data, (await gated.forward(input, true)).data)).toBeLessThan(1e-3);
  });

  it('picks the largest subnetwork within a parameter or FLOP budget, and says when none fits', async () => {
    setSeed(8);
    using teacher = await Model.create({ arch: 'resnet20', inChannels: 1, numClasses: 10 });
    using gated = await gatedCopy(teacher);
    const values = (n: number, seed: number) => Array.from(randomFloats(n, seed), (v) => Math.abs(v));
    const gates: Record<string, number[]> = {};
    for (const [name, shape] of Object.entries(gated.stateShapes())) {
      if (name.endsWith('_gate')) gates[name] = values(shape[0]!, name.length * 31 + shape[0]!);
    }
    await setGates(gated, gates);
    for (const budget of [{ params: 150_000 }, { params: 75_002 }, { flops: 5_000_000 }]) {
      const choice = await chooseSubnet(gated, budget, [1, 28, 28]);
      if (budget.params !== undefined) expect(choice.params).toBeLessThanOrEqual(budget.params);
      if (budget.flops !== undefined) expect(choice.flops).toBeLessThanOrEqual(budget.flops);
      using student = await extractSubnet(gated, choice);
      expect(student.parameterCount).toBe(choice.params);
      expect(await student.countFlops([1, 28, 28])).toBe(choice.flops);
      // The largest that fits: keeping the next channel (the next lower threshold) would not.
      // Every budget here is below the whole network's size, so a lower threshold always exists.
      const lower = [...new Set(gated.handle.gateValues())].filter((v) => v < choice.threshold).at(-1);
      expect(lower, JSON.stringify(budget)).toBeDefined();
      using larger = await Model.create({ ...teacher.spec, blocks: gated.handle.planSubnet(lower!).blocks });
      const over =
        budget.params !== undefined ? larger.parameterCount > budget.params : (await larger.countFlops([1, 28, 28])) > budget.flops!;
      expect(over).toBe(true);
    }
    expect(await thrown(() => chooseSubnet(gated, { params: 1000 }, [1, 28, 28]))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringMatching(/no subnetwork of resnet20 fits .* the smallest has \d+ parameters/),
    });
  });

  it('searches, writes found.json, and retrains the found student with KD from the command line', async () => {
    const teacherRun = await runCli([
      'train',
      '--arch',
      'resnet14',
      '--epochs',
      '1',
      '--train-limit',
      '1000',
      '--out',
      join(dir.path, 't'),
      '--json',
      '--quiet',
    ]);
    expect(teacherRun.status, teacherRun.stderr).toBe(0);
    const teacher = (JSON.parse(teacherRun.stdout) as { checkpoint: string }).checkpoint;
    const out = join(dir.path, 'search');
    const run = await runCli([
      'search',
      '--teacher',
      teacher,
      '--budget-params',
      '0.08M',
      '--epochs',
      '1',
      '--train-limit',
      '500',
      '--out',
      out,
      '--json',
      '--quiet',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const found = await readArchSpec(join(out, 'found.json'));
    expect(found.student.params).toBeLessThanOrEqual(80_000);
    expect(found.teacher).toMatchObject({ arch: 'resnet14', params: 172_218 });
    expect(found.description).toMatch(/^resnet14 with blocks \[\[/);
    expect(JSON.parse(readFileSync(join(out, 'found.json'), 'utf8'))).toMatchObject({
      format: 'distillery.arch',
      budget: { params: 80_000 },
    });
    const distill = await runCli([
      'distill',
      '--method',
      'kd',
      '--teachers',
      teacher,
      '--arch-spec',
      join(out, 'found.json'),
      '--epochs',
      '1',
      '--train-limit',
      '500',
      '--out',
      join(dir.path, 'kd'),
      '--json',
      '--quiet',
    ]);
    expect(distill.status, distill.stderr).toBe(0);
    const result = JSON.parse(distill.stdout) as { params: number; spec: { blocks: number[][] }; top1: number };
    expect(result.spec.blocks).toEqual(found.model.blocks);
    expect(result.params).toBe(found.student.params);
    const noBudget = await runCli(['search', '--teacher', teacher, '--epochs', '1', '--out', join(dir.path, 'nb'), '--json']);
    expect(noBudget.status).toBe(2);
    expect(JSON.parse(noBudget.stdout)).toMatchObject({ error: { code: 'E_CONFIG', message: expect.stringContaining('--budget-params') } });
  });
});

describe('architecture files', () => {
  it('names a missing, unreadable or incomplete found.json', async () => {
    expect(await thrown(() => readArchSpec(join(dir.path, 'nowhere.json')))).toMatchObject({ code: 'E_FILE_NOT_FOUND' });
    const notJson = join(dir.path, 'not.json');
    writeFileSync(notJson, 'resnet20 with blocks');
    expect(await thrown(() => readArchSpec(notJson))).toMatchObject({
      code: 'E_CORRUPT_FILE',
      message: expect.stringContaining('is not JSON'),
    });
    const incomplete = join(dir.path, 'incomplete.json');
    writeFileSync(
      incomplete,
      JSON.stringify({
        format: 'distillery.arch',
        version: 1,
        description: 'x',
        model: { arch: 'resnet20', inChannels: 1, numClasses: 10, blocks: [[1], [1]] },
      }),
    );
    expect(await thrown(() => readArchSpec(incomplete))).toMatchObject({
      code: 'E_CORRUPT_FILE',
      message: expect.stringMatching(/is not a distillery architecture file \(model\.blocks: .*inputShape/),
    });
  });
});
