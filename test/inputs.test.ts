// Inputs are checked against what they claim: labels against the class count, files against the
// dataset they are named as, tensors against the parameters they load into, splits for emptiness.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { Model, loadWeightsInto, setSeed } from '../src/index.js';
import { native } from '../src/native.js';
import { randomFloats, runCli, runPython, tempDir, thrown } from './helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

/** An MNIST-format directory whose splits hold `labels` (train) and `labels` again (test), 28x28 images. */
function idxDir(name: string, labels: number[]): string {
  const out = join(dir.path, name);
  mkdirSync(out, { recursive: true });
  const header = (magic: number, ...dims: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    return b;
  };
  const n = labels.length;
  const images = Buffer.concat([header(0x803, n, 28, 28), Buffer.alloc(n * 28 * 28, 128)]);
  const labelBytes = Buffer.concat([header(0x801, n), Buffer.from(labels)]);
  for (const split of ['train', 't10k']) {
    writeFileSync(join(out, `${split}-images-idx3-ubyte`), images);
    writeFileSync(join(out, `${split}-labels-idx1-ubyte`), labelBytes);
  }
  return out;
}

const TINY = ['--arch', 'resnet8', '--epochs', '1', '--batch-size', '4', '--out', join(dir.path, 'never'), '--json'];

function jsonError(stdout: string): { code: string; message: string } {
  return (JSON.parse(stdout) as { error: { code: string; message: string } }).error;
}

describe('inputs against what they claim', () => {
  it('refuses a label outside the classes of a named dataset, naming the file and sample', async () => {
    const data = idxDir('label-200', [1, 2, 200, 3]);
    const run = await runCli(['train', '--dataset', 'mnist', '--data-dir', data, ...TINY]);
    expect(run.status).not.toBe(0);
    expect(jsonError(run.stdout)).toMatchObject({
      code: 'E_CORRUPT_FILE',
      message: expect.stringMatching(/train-labels-idx1-ubyte.*200.*10 classes/s),
    });
  });

  it('refuses CIFAR files of the other CIFAR', async () => {
    const cifar100 = join(dir.path, 'cifar-100-binary');
    runPython('image_reference.py', ['cifar', cifar100, '100']);
    const run = await runCli(['train', '--dataset', 'cifar10', '--data-dir', cifar100, ...TINY]);
    expect(jsonError(run.stdout)).toMatchObject({ code: 'E_ARGUMENT', message: expect.stringContaining('pass --dataset cifar100') });
  });

  it('refuses an empty split instead of training on nothing or scoring nothing', async () => {
    const empty = idxDir('empty', []);
    const run = await runCli(['train', '--dataset', 'idx', '--data-dir', empty, ...TINY]);
    expect(jsonError(run.stdout)).toMatchObject({ code: 'E_ARGUMENT', message: expect.stringContaining('holds no samples') });
  });

  it('refuses a std that would blow the inputs up, as a config error naming it', async () => {
    const run = await runCli(['train', '--std', '0.00001', ...TINY]);
    expect(run.status).toBe(2);
    expect(jsonError(run.stdout)).toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining('std') });
  });

  it('refuses weights relabelled to another dtype, or holding NaN, naming the tensor', async () => {
    setSeed(1);
    using model = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
    const path = join(dir.path, 'weights.safetensors');
    await model.saveSafetensors(path);
    const { tensors } = await native().readSafetensors(path);
    const fc = tensors['fc.weight']!;

    const relabelled = join(dir.path, 'relabelled.safetensors');
    const asInts = new Int32Array(fc.data.buffer, fc.data.byteOffset, fc.data.length);
    await native().writeSafetensors(relabelled, { ...tensors, 'fc.weight': { data: asInts, shape: fc.shape } });
    expect(await thrown(() => loadWeightsInto(model, relabelled))).toMatchObject({
      code: 'E_WEIGHTS',
      message: expect.stringMatching(/dtype mismatch \(fc\.weight: expected Float, got Int\)/),
    });

    const diverged = join(dir.path, 'diverged.safetensors');
    const withNaN = Float32Array.from(fc.data as Float32Array);
    withNaN[3] = Number.NaN;
    await native().writeSafetensors(diverged, { ...tensors, 'fc.weight': { data: withNaN, shape: fc.shape } });
    expect(await thrown(() => loadWeightsInto(model, diverged))).toMatchObject({
      code: 'E_WEIGHTS',
      message: expect.stringMatching(/NaN or infinite values.*\(fc\.weight\)/),
    });
  });

  it('names the channel count a model takes when the input has another, and a device that is no string', async () => {
    using rgb = await Model.create({ arch: 'resnet8', inChannels: 3, numClasses: 10 });
    const gray = { data: randomFloats(2 * 28 * 28, 1), shape: [2, 1, 28, 28] };
    expect(await thrown(() => rgb.forward(gray))).toMatchObject({
      code: 'E_SHAPE',
      message: expect.stringContaining('takes 3 input channel(s)'),
    });
    expect(await thrown(() => Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 }, 7 as unknown as string))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringContaining('device must be a string'),
    });
  });
});
