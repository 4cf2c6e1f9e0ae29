import { availableParallelism } from 'node:os';

import { describe, expect, it } from 'vitest';

import { DistilleryError, Model, torchInfo } from '../src/index.js';
import { thrown } from './helpers.js';

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
});
