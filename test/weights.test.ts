import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Model, loadModel, loadWeightsInto, readRecord, setSeed } from '../src/index.js';
import type { HostTensor } from '../src/index.js';
import { randomFloats, runCli, runPython, tempDir, thrown } from './helpers.js';

function maxAbsDiff(a: HostTensor, b: HostTensor): number {
  expect(a.shape).toEqual(b.shape);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return max;
}

describe('weights I/O', () => {
  const dir = tempDir();
  let fixture: { input: HostTensor; logits: HostTensor };
  afterAll(() => dir.cleanup());

  beforeAll(() => {
    // torchvision writes the weights and the expected logits; nothing of ours is involved.
    runPython('torchvision_fixture.py', [dir.path, 'resnet18']);
    const json = JSON.parse(readFileSync(join(dir.path, 'resnet18.io.json'), 'utf8')) as Record<
      string,
      { shape: number[]; data: number[] }
    >;
    const tensor = (name: string): HostTensor => ({ data: Float32Array.from(json[name]!.data), shape: json[name]!.shape });
    fixture = { input: tensor('input'), logits: tensor('logits') };
  });

  it('loads a torchvision resnet18 state_dict unchanged and gives the same logits within 1e-4', async () => {
    const model = await loadModel(join(dir.path, 'resnet18.safetensors'), 'cpu', { arch: 'resnet18', inChannels: 3, numClasses: 1000 });
    const logits = await model.forward(fixture.input);
    expect(maxAbsDiff(logits, fixture.logits)).toBeLessThan(1e-4);
    model.dispose();
  });

  it("initialises a student from torchvision weights (MEAL V2's pretrained start) and refuses another network's", async () => {
    const student = await Model.create({ arch: 'resnet18', inChannels: 3, numClasses: 1000 });
    await loadWeightsInto(student, join(dir.path, 'resnet18.safetensors'));
    expect(maxAbsDiff(await student.forward(fixture.input), fixture.logits)).toBeLessThan(1e-4);
    student.dispose();
    const other = await Model.create({ arch: 'resnet34', inChannels: 3, numClasses: 1000 });
    expect(await thrown(() => loadWeightsInto(other, join(dir.path, 'resnet18.safetensors')))).toMatchObject({ code: 'E_WEIGHTS' });
    other.dispose();
  });

  it('round-trips through convert, and torchvision loads the result with strict=True', async () => {
    const ckpt = join(dir.path, 'resnet18.ckpt');
    const back = join(dir.path, 'resnet18.back.safetensors');
    const toCkpt = await runCli(['convert', join(dir.path, 'resnet18.safetensors'), ckpt, '--arch', 'resnet18', '--json']);
    expect(toCkpt.status, toCkpt.stderr).toBe(0);
    expect(JSON.parse(toCkpt.stdout)).toMatchObject({ kind: 'checkpoint' });
    expect(readRecord(ckpt)).toMatchObject({ format: 'distillery.checkpoint', model: { arch: 'resnet18', numClasses: 1000 } });
    const toWeights = await runCli(['convert', ckpt, back, '--json']);
    expect(toWeights.status, toWeights.stderr).toBe(0);
    const check = JSON.parse(runPython('torchvision_load.py', ['resnet18', back, join(dir.path, 'resnet18.io.json')])) as {
      maxAbsDiff: number;
    };
    expect(check.maxAbsDiff).toBeLessThan(1e-4);
  });

  it('saves and reloads a model with identical logits', async () => {
    setSeed(3);
    const a = await Model.create({ arch: 'wrn-16-1', inChannels: 1, numClasses: 10 });
    setSeed(4);
    const b = await Model.create({ arch: 'wrn-16-1', inChannels: 1, numClasses: 10 });
    const input = { data: randomFloats(3 * 784, 7), shape: [3, 1, 28, 28] };
    const path = join(dir.path, 'wrn.safetensors');
    await a.saveSafetensors(path, { note: 'x' });
    expect(maxAbsDiff(await a.forward(input), await b.forward(input))).toBeGreaterThan(1e-3);
    expect(await b.loadSafetensors(path)).toEqual({ note: 'x' });
    expect(maxAbsDiff(await a.forward(input), await b.forward(input))).toBe(0);
    a.dispose();
    b.dispose();
  });

  it('names every mismatched parameter when weights do not fit', async () => {
    const path = join(dir.path, 'r14.safetensors');
    const small = await Model.create({ arch: 'resnet14', inChannels: 1, numClasses: 10 });
    await small.saveSafetensors(path);
    small.dispose();
    const big = await Model.create({ arch: 'resnet20', inChannels: 1, numClasses: 10 });
    const error = await thrown(() => big.loadSafetensors(path));
    expect(error).toMatchObject({ code: 'E_WEIGHTS', message: expect.stringContaining('layer1.2.conv1.weight') });
    big.dispose();
  });

  it('reports a truncated or corrupt file by name', async () => {
    const path = join(dir.path, 'resnet18.safetensors');
    const truncated = join(dir.path, 'truncated.safetensors');
    writeFileSync(truncated, readFileSync(path).subarray(0, 100_000));
    const corrupt = join(dir.path, 'corrupt.safetensors');
    copyFileSync(path, corrupt);
    const bytes = readFileSync(corrupt);
    bytes.write('[[[[', 8);
    writeFileSync(corrupt, bytes);
    const spec = { arch: 'resnet18', inChannels: 3, numClasses: 1000 };
    expect(await thrown(() => loadModel(truncated, 'cpu', spec))).toMatchObject({
      code: 'E_CORRUPT_FILE',
      message: expect.stringContaining('truncated.safetensors'),
    });
    expect(await thrown(() => loadModel(corrupt, 'cpu', spec))).toMatchObject({
      code: 'E_CORRUPT_FILE',
      message: expect.stringContaining('corrupt.safetensors'),
    });
    expect(await thrown(() => loadModel(join(dir.path, 'missing.safetensors'), 'cpu', spec))).toMatchObject({ code: 'E_FILE_NOT_FOUND' });
  });
});
