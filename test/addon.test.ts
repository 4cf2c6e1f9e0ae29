import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';

import { describe, expect, it } from 'vitest';

import { DistilleryError, Model, torchInfo } from '../src/index.js';
import { randomFloats, thrown } from './helpers.js';

describe('native addon', () => {
  it('loads and runs against the LibTorch it was built for, with every core', () => {
    const info = torchInfo();
    expect(info.compiledVersion).toMatch(/^(1\.13|2\.\d+)\.\d+$/);
    expect(info.runtimeVersion).toBe(info.compiledVersion);
    expect(info.threads).toBe(availableParallelism());
  });

  it('names a bad device and how to fix it', async () => {
    const bad = await thrown(() => Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 }, 'gpu'));
    expect(bad).toBeInstanceOf(DistilleryError);
    expect(bad).toMatchObject({ code: 'E_DEVICE', message: expect.stringContaining("'gpu'") });
    if (!torchInfo().cudaAvailable) {
      const missing = await thrown(() => Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 }, 'cuda:0'));
      expect(missing).toMatchObject({ code: 'E_DEVICE', message: expect.stringContaining('--device cpu') });
    }
  });

  it('keeps the libuv pool free while compute calls wait: a file read finishes before forwards queued ahead of it', async () => {
    // More forwards in flight than the pool has threads (4 by default): if each parked a pool
    // thread until the compute thread got to it, the read below would queue behind all of them.
    using model = await Model.create({ arch: 'resnet20', inChannels: 1, numClasses: 10 });
    const input = { data: randomFloats(64 * 28 * 28, 1), shape: [64, 1, 28, 28] };
    const order: string[] = [];
    const forwards = Array.from({ length: 8 }, (_, i) => model.forward(input).then(() => order.push(`forward ${i}`)));
    const read = readFile(new URL(import.meta.url)).then(() => order.push('read'));
    await Promise.all([...forwards, read]);
    expect(order.indexOf('read')).toBeLessThan(order.indexOf('forward 2'));
    expect(order.filter((name) => name.startsWith('forward'))).toEqual(Array.from({ length: 8 }, (_, i) => `forward ${i}`));
  });
});
