import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { Dataset, Loader, seededSubset } from '../src/index.js';
import { FASHION_MNIST, tempDir, thrown } from './helpers.js';

const base = { shuffle: true, dropLast: false, seed: 1, pad: 2, flip: true, workers: 2, prefetch: 3, mean: [0.286], std: [0.353] };

describe('Fashion-MNIST and the loader', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('reads the Debian package splits', async () => {
    const train = await Dataset.loadIdx(FASHION_MNIST, 'train');
    const test = await Dataset.loadIdx(FASHION_MNIST, 'test');
    expect(train.info).toMatchObject({ size: 60000, numClasses: 10, shape: [1, 28, 28] });
    expect(test.size).toBe(10000);
    const labels = test.labels();
    expect(Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length)).toEqual(Array(10).fill(1000));
  });

  it('visits every sample of a subset exactly once per epoch, reproducibly', async () => {
    const train = await Dataset.loadIdx(FASHION_MNIST, 'train');
    const subset = seededSubset(train.size, 1000, 5);
    const epoch = async (workers: number, e: number): Promise<number[]> => {
      const loader = new Loader(train, { ...base, batchSize: 64, workers, subset });
      const seen: number[] = [];
      for await (const batch of loader.epoch(e)) {
        seen.push(...Array.from(batch.indices().data as Int32Array));
        batch.dispose();
      }
      loader.dispose();
      return seen;
    };
    const a = await epoch(1, 0);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from(subset));
    expect(await epoch(2, 0)).toEqual(a);
    expect(await epoch(2, 1)).not.toEqual(a);
  });

  it('reports a truncated IDX file with its name and byte offset', async () => {
    const images = gunzipSync(readFileSync(join(FASHION_MNIST, 't10k-images-idx3-ubyte.gz')));
    writeFileSync(join(dir.path, 't10k-images-idx3-ubyte'), images.subarray(0, 5000));
    copyFileSync(join(FASHION_MNIST, 't10k-labels-idx1-ubyte.gz'), join(dir.path, 't10k-labels-idx1-ubyte.gz'));
    const error = await thrown(() => Dataset.loadIdx(dir.path, 'test'));
    expect(error).toMatchObject({ code: 'E_CORRUPT_FILE', message: expect.stringMatching(/t10k-images-idx3-ubyte.*offset 16/s) });
  });

  it('reports a bad magic number and a missing directory', async () => {
    const bad = join(dir.path, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 't10k-images-idx3-ubyte'), Buffer.from([0, 0, 8, 4, 0, 0, 0, 1]));
    writeFileSync(join(bad, 't10k-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 1, 3]));
    expect(await thrown(() => Dataset.loadIdx(bad, 'test'))).toMatchObject({
      code: 'E_CORRUPT_FILE',
      message: expect.stringContaining('offset 0'),
    });
    expect(await thrown(() => Dataset.loadIdx(join(dir.path, 'nowhere'), 'test'))).toMatchObject({ code: 'E_FILE_NOT_FOUND' });
  });
});
