import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { Model, listArchs, setSeed } from '../src/index.js';
import { randomFloats, runPython, tempDir, thrown } from './helpers.js';

async function params(arch: string, inChannels: number, numClasses: number): Promise<number> {
  const model = await Model.create({ arch, inChannels, numClasses });
  const count = model.parameterCount;
  model.dispose();
  return count;
}

describe('model zoo', () => {
  it('has the parameter counts of the papers (He et al. 2016, CRD, Zagoruyko)', async () => {
    expect(((await params('resnet20', 3, 10)) / 1e6).toFixed(2)).toBe('0.27');
    expect(((await params('resnet56', 3, 10)) / 1e6).toFixed(2)).toBe('0.85');
    expect(((await params('resnet110', 3, 10)) / 1e6).toFixed(1)).toBe('1.7');
    expect(((await params('resnet8x4', 3, 100)) / 1e6).toFixed(2)).toBe('1.23');
    expect(((await params('resnet32x4', 3, 100)) / 1e6).toFixed(2)).toBe('7.43');
    expect(((await params('wrn-40-2', 3, 10)) / 1e6).toFixed(1)).toBe('2.2');
    expect(((await params('wrn-28-10', 3, 10)) / 1e6).toFixed(1)).toBe('36.5');
  });

  it('matches torchvision parameter counts and state_dict names exactly', async () => {
    const archs = ['resnet18', 'resnet50', 'wide_resnet50_2'];
    const reference = JSON.parse(runPython('torchvision_shapes.py', archs)) as Record<
      string,
      { params: number; shapes: Record<string, number[]> }
    >;
    expect(await params('resnet18', 3, 1000)).toBe(11_689_512);
    for (const arch of archs) {
      const model = await Model.create({ arch, inChannels: 3, numClasses: 1000 });
      expect(model.parameterCount).toBe(reference[arch]?.params);
      expect(model.stateShapes()).toEqual(reference[arch]?.shapes);
      model.dispose();
    }
  });

  it('taps every stage and the logits, for 1-channel 28x28 input', async () => {
    setSeed(0);
    const model = await Model.create({ arch: 'resnet20', inChannels: 1, numClasses: 10 });
    expect(model.info.featureNames).toEqual(['layer1', 'layer2', 'layer3', 'logits']);
    const input = { data: randomFloats(2 * 28 * 28, 1), shape: [2, 1, 28, 28] };
    const features = await model.features(input);
    expect(features.map((f) => f.shape)).toEqual([
      [2, 16, 28, 28],
      [2, 32, 14, 14],
      [2, 64, 7, 7],
      [2, 10],
    ]);
    const logits = await model.forward(input);
    expect(Array.from(logits.data)).toEqual(Array.from(features[3]!.data));
    model.dispose();
  });

  it('rejects unknown architectures by listing the valid ones', async () => {
    expect(listArchs()).toEqual(expect.arrayContaining(['resnet8', 'resnet20', 'resnet8x4', 'wrn-16-2', 'resnet18', 'wide_resnet50_2']));
    expect(await thrown(() => Model.create({ arch: 'resnet21', inChannels: 1, numClasses: 10 }))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringMatching(/resnet21.*resnet20/s),
    });
    expect(await thrown(() => Model.create({ arch: 'wrn-15-2', inChannels: 1, numClasses: 10 }))).toMatchObject({ code: 'E_ARGUMENT' });
  });

  it('refuses a disposed model', async () => {
    const model = await Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 });
    model.dispose();
    await expect(model.forward({ data: new Float32Array(784), shape: [1, 1, 28, 28] })).rejects.toMatchObject({ code: 'E_DISPOSED' });
  });

  it('stores weights channels-last without changing outputs or the weights file', async () => {
    const dir = tempDir();
    try {
      const spec = { arch: 'resnet18', inChannels: 3, numClasses: 10 };
      setSeed(5);
      const plain = await Model.create(spec);
      setSeed(5);
      const nhwc = await Model.create(spec);
      await nhwc.toChannelsLast();
      const input = { data: randomFloats(2 * 3 * 32 * 32, 9), shape: [2, 3, 32, 32] };
      const [a, b] = [await plain.forward(input), await nhwc.forward(input)];
      let worst = 0;
      for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(Number(a.data[i]) - Number(b.data[i])));
      expect(worst).toBeLessThan(1e-4);
      await plain.saveSafetensors(join(dir.path, 'plain.safetensors'));
      await nhwc.saveSafetensors(join(dir.path, 'nhwc.safetensors'));
      expect(readFileSync(join(dir.path, 'nhwc.safetensors')).equals(readFileSync(join(dir.path, 'plain.safetensors')))).toBe(true);
      plain.dispose();
      nhwc.dispose();
    } finally {
      dir.cleanup();
    }
  });
});
