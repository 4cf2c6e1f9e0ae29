import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Dataset, Loader, Model, Trainer, buildConfig, createRun, setSeed } from '../src/index.js';
import type { Batch, LoaderOptions } from '../src/index.js';
import { loaderOptions as sharedLoaderOptions, runPython, tempDir, thrown, supervisedStep } from './helpers.js';

// Pillow and torchvision (Debian's python3-pil / python3-torchvision) write the files and say what
// every transform should produce; the loader must agree with them.
const dir = tempDir();
const root = join(dir.path, 'images');
let files: string[] = [];

beforeAll(() => {
  files = JSON.parse(runPython('image_reference.py', ['write', root])) as string[];
});
afterAll(() => dir.cleanup());

function loaderOptions(patch: Partial<LoaderOptions> = {}): LoaderOptions {
  return sharedLoaderOptions({ workers: 2, prefetch: 2, ...patch });
}

async function batches(loader: Loader, epoch = 0): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.epoch(epoch)) out.push(b);
  return out;
}

/** Largest and mean absolute difference between sample `i` of a uint8 batch and a reference. */
function difference(images: Uint8Array, i: number, reference: number[]): { max: number; mean: number } {
  const n = reference.length;
  let max = 0;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const d = Math.abs(images[i * n + j]! - reference[j]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / n };
}

describe('datasets on disk: image files (JPEG, PNG) and CIFAR binary', () => {
  it('lists an ImageFolder as torchvision does and decodes every kind of file as Pillow + Resize + CenterCrop', async () => {
    const folder = JSON.parse(runPython('image_reference.py', ['folder', root])) as { classes: string[]; samples: [string, number][] };
    const dataset = await Dataset.openImageFolder({ root, train: false, size: 48, resize: 56, dctScaling: false });
    expect(dataset.info).toMatchObject({ size: files.length, numClasses: 2, classes: folder.classes, shape: [3, 48, 48] });
    expect(Array.from(dataset.labels())).toEqual(folder.samples.map(([, label]) => label));

    const reference = JSON.parse(
      runPython('image_reference.py', ['eval', root, '56', '48'], JSON.stringify(folder.samples.map(([p]) => p))),
    ) as number[][];
    const loader = Loader.forEvaluation(dataset, { batchSize: 16, mean: [0], std: [1] });
    const [batch] = await batches(loader);
    const images = batch!.images().data as Uint8Array;
    // Baseline, progressive, grayscale, 4:4:4, CMYK, a PNG named .JPEG, RGBA PNG: bit for bit.
    folder.samples.forEach(([path], i) => expect({ path, ...difference(images, i, reference[i]!) }).toEqual({ path, max: 0, mean: 0 }));
    loader.dispose();
    dataset.dispose();
  });

  it('crops, resizes and flips training samples as torchvision resized_crop + hflip on the same boxes', async () => {
    for (const dctScaling of [false, true]) {
      const dataset = await Dataset.openImageFolder({ root, train: true, size: 40, dctScaling });
      const loader = new Loader(dataset, loaderOptions({ shuffle: true, seed: 5 }));
      for (const epoch of [0, 1]) {
        const [batch] = await batches(loader, epoch);
        const indices = Array.from(batch!.indices().data as Int32Array);
        const crops = await dataset.crops(indices, 5, epoch);
        const request = indices.map((k, i) => ({
          path: join(root, files[k]!),
          top: crops.top[i],
          left: crops.left[i],
          height: crops.height[i],
          width: crops.width[i],
          flip: crops.flip[i] === 1,
        }));
        const reference = JSON.parse(runPython('image_reference.py', ['crops', '40'], JSON.stringify(request))) as number[][];
        const images = batch!.images().data as Uint8Array;
        for (const [i, r] of reference.entries()) {
          const d = difference(images, i, r);
          if (dctScaling) {
            // A reduced-scale IDCT filters differently from Pillow's antialiasing: close, not equal.
            expect(d.mean, files[indices[i]!]).toBeLessThan(3);
          } else {
            // Only chroma upsampling at a crop's iMCU edge may differ (libjpeg's cropped decode).
            expect(d.max, files[indices[i]!]).toBeLessThanOrEqual(3);
            expect(d.mean, files[indices[i]!]).toBeLessThan(0.1);
          }
        }
        expect(crops.flip.some((f) => f === 1) && crops.flip.some((f) => f === 0)).toBe(true);
      }
      const stats = dataset.decodeStats();
      expect(stats.images).toBe(2 * files.length);
      if (dctScaling) expect(stats.meanScale).toBeLessThan(1);
      else expect(stats.meanScale).toBe(1);
      loader.dispose();
      dataset.dispose();
    }
  });

  it("draws RandomResizedCrop boxes with torchvision's distribution of area and aspect ratio", async () => {
    const n = 2000;
    const list = join(dir.path, 'same-image.csv');
    writeFileSync(list, `path,label\n${Array.from({ length: n }, () => 'dog/large.jpg,0').join('\n')}\n`);
    const dataset = await Dataset.openImageFolder({ list, root, train: true });
    const ours = await dataset.crops(
      Array.from({ length: n }, (_, i) => i),
      11,
      0,
    );
    const theirs = JSON.parse(runPython('image_reference.py', ['rrc', '410', '530', String(n), '3'])) as number[][];
    const summary = (h: ArrayLike<number>, w: ArrayLike<number>) => {
      const area = Array.from(h, (v, i) => (v * w[i]!) / (410 * 530)).sort((a, b) => a - b);
      const logRatio = Array.from(h, (v, i) => Math.log(w[i]! / v)).sort((a, b) => a - b);
      const q = (xs: number[], p: number) => xs[Math.floor(p * (xs.length - 1))]!;
      return [0.1, 0.25, 0.5, 0.75, 0.9].flatMap((p) => [q(area, p), q(logRatio, p)]);
    };
    const a = summary(ours.height, ours.width);
    const b = summary(
      theirs.map((d) => d[2]!),
      theirs.map((d) => d[3]!),
    );
    a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(0.05));
    // Every box lies inside the image.
    for (let i = 0; i < n; i++) {
      expect(ours.top[i]! + ours.height[i]!).toBeLessThanOrEqual(410);
      expect(ours.left[i]! + ours.width[i]!).toBeLessThanOrEqual(530);
    }
    dataset.dispose();
  });

  it('builds channels-last (NHWC) batches with the same pixels, which a training step takes as they are', async () => {
    const files = await Dataset.openImageFolder({ root, train: true, size: 24 });
    runPython('image_reference.py', ['cifar', join(dir.path, 'cifar-nhwc'), '10']);
    const cifarLike = await Dataset.loadCifar(join(dir.path, 'cifar-nhwc'), 'train');
    for (const [dataset, augment] of [
      [files, {}],
      [cifarLike, { pad: 4, flip: true }],
    ] as const) {
      const out: Batch[] = [];
      for (const channelsLast of [false, true]) {
        const loader = new Loader(dataset, loaderOptions({ shuffle: true, seed: 4, ...augment, channelsLast }));
        out.push((await batches(loader))[0]!);
        loader.dispose();
      }
      expect(out[1]!.images().shape).toEqual(out[0]!.images().shape);
      expect(Buffer.from(out[1]!.images().data as Uint8Array).equals(Buffer.from(out[0]!.images().data as Uint8Array))).toBe(true);
      const losses: number[] = [];
      for (const batch of out) {
        setSeed(3);
        const [channels] = dataset.info.shape;
        using model = await Model.create({ arch: 'resnet8', inChannels: channels, numClasses: 10 });
        using trainer = new Trainer(model, { type: 'sgd', lr: 0.01, momentum: 0, nesterov: false, weightDecay: 0, noDecayBnBias: false });
        losses.push((await supervisedStep(trainer, batch, 0.01)).loss);
      }
      expect(losses[1]).toBeCloseTo(losses[0]!, 4);
    }
    files.dispose();
    cifarLike.dispose();
  });

  it('gives each rank a share that covers every file once per epoch (padded to equal shares, as DistributedSampler)', async () => {
    const dataset = await Dataset.openImageFolder({ root, train: true, size: 16 });
    const seen: number[] = [];
    for (const rank of [0, 1]) {
      const loader = new Loader(dataset, loaderOptions({ batchSize: 3, shuffle: true, seed: 9, rank, worldSize: 2 }));
      for (const b of await batches(loader, 4)) seen.push(...(b.indices().data as Int32Array));
      loader.dispose();
    }
    expect([...new Set(seen)].sort((x, y) => x - y)).toEqual(files.map((_, i) => i));
    expect(seen.length).toBe(2 * Math.ceil(files.length / 2));
    dataset.dispose();
  });

  it('names a corrupt, truncated or foreign file, or skips and counts it when asked', async () => {
    const bad = join(dir.path, 'bad');
    mkdirSync(join(bad, 'a'), { recursive: true });
    copyFileSync(join(root, 'dog/large.jpg'), join(bad, 'a', '1-good.jpg'));
    const jpeg = readFileSync(join(root, 'dog/large.jpg'));
    writeFileSync(join(bad, 'a', '2-truncated.jpg'), jpeg.subarray(0, jpeg.length / 3));
    writeFileSync(join(bad, 'a', '3-text.jpg'), 'not an image\n');
    writeFileSync(join(bad, 'a', '4-truncated.png'), readFileSync(join(root, 'dog/png_named.JPEG')).subarray(0, 2000));
    const dataset = await Dataset.openImageFolder({ root: bad, train: false, size: 32, resize: 40 });
    const expected = [
      [1, /2-truncated\.jpg: truncated JPEG/],
      [2, /3-text\.jpg: not a JPEG or PNG image/],
      [3, /4-truncated\.png: corrupt PNG/],
    ] as const;
    for (const [index, message] of expected) {
      const loader = new Loader(dataset, loaderOptions({ subset: [index] }));
      expect(await thrown(() => batches(loader))).toMatchObject({ code: 'E_CORRUPT_FILE', message: expect.stringMatching(message) });
      loader.dispose();
    }
    const skipping = new Loader(dataset, loaderOptions({ batchSize: 3, skipBadFiles: true }));
    const kept = await batches(skipping);
    // The second batch lost all three samples, so the epoch yields only the first.
    expect(kept.map((b) => Array.from(b.indices().data as Int32Array))).toEqual([[0]]);
    expect(skipping.skipped()).toBe(3);
    skipping.dispose();
    dataset.dispose();
  });

  it('lists a tree with links without looping or blocking: a symlink loop and a FIFO named like an image are named, a FIFO skipped when asked', async () => {
    const looped = join(dir.path, 'looped');
    mkdirSync(join(looped, 'a', 'deeper'), { recursive: true });
    copyFileSync(join(root, 'dog/large.jpg'), join(looped, 'a', '1.jpg'));
    symlinkSync('..', join(looped, 'a', 'deeper', 'back-up'));
    expect(await thrown(() => Dataset.openImageFolder({ root: looped, train: false, size: 32, resize: 40 }))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringMatching(/back-up is a symlink loop \(it leads back to .*looped\/a\)/),
    });
    // A link to a sibling folder is no loop: its files are listed under both names, as os.walk does.
    const shared = join(dir.path, 'shared');
    mkdirSync(join(shared, 'a', 'real'), { recursive: true });
    copyFileSync(join(root, 'dog/large.jpg'), join(shared, 'a', 'real', '1.jpg'));
    symlinkSync('real', join(shared, 'a', 'alias'));
    const twice = await Dataset.openImageFolder({ root: shared, train: false, size: 32, resize: 40 });
    expect(twice.size).toBe(2);
    twice.dispose();

    const fifo = join(dir.path, 'fifo');
    mkdirSync(join(fifo, 'a'), { recursive: true });
    copyFileSync(join(root, 'dog/large.jpg'), join(fifo, 'a', '1.jpg'));
    execFileSync('mkfifo', [join(fifo, 'a', '2.jpg')]);
    const dataset = await Dataset.openImageFolder({ root: fifo, train: false, size: 32, resize: 40 });
    expect(dataset.size).toBe(2);
    const strict = new Loader(dataset, loaderOptions({ subset: [1] }));
    expect(await thrown(() => batches(strict))).toMatchObject({ code: 'E_IO', message: expect.stringContaining("2.jpg' is a FIFO") });
    strict.dispose();
    const skipping = new Loader(dataset, loaderOptions({ skipBadFiles: true }));
    expect((await batches(skipping)).map((b) => Array.from(b.indices().data as Int32Array))).toEqual([[0]]);
    expect(skipping.skipped()).toBe(1);
    skipping.dispose();
    dataset.dispose();
  });

  it('trains a network on an ImageFolder of JPEGs (train/ and val/) to well above chance', async () => {
    const data = join(dir.path, 'stripes');
    runPython('image_reference.py', ['stripes', data, '96']);
    const result = await createRun(
      buildConfig(undefined, {
        method: 'supervised',
        model: { arch: 'resnet8' },
        data: { dataset: 'imagefolder', dataDir: data, image: { size: 32, resize: 36, scale: [0.35, 1] } },
        epochs: 4,
        batchSize: 32,
        optimizer: { lr: 0.05 },
        seed: 3,
        out: join(dir.path, 'stripes-run'),
      }),
    ).execute();
    expect(result.top1).toBeGreaterThan(0.85);
    expect(result.history.at(-1)?.epoch).toBe(3);
    // A list of files (here 20 of them) instead of the class folders.
    const list = join(dir.path, 'stripes-train.csv');
    writeFileSync(
      list,
      ['path,label', ...Array.from({ length: 10 }, (_, i) => [`horizontal/${i}.jpg,0`, `vertical/${i}.jpg,1`]).flat()].join('\n'),
    );
    const listed = createRun(
      buildConfig(undefined, {
        method: 'supervised',
        model: { arch: 'resnet8' },
        data: { dataset: 'imagefolder', dataDir: data, image: { size: 32, resize: 36 }, lists: { train: list } },
        epochs: 1,
        batchSize: 8,
        out: join(dir.path, 'stripes-list'),
      }),
    );
    const steps: number[] = [];
    listed.on('step', (e) => steps.push(e.step));
    await listed.execute();
    expect(steps).toEqual([1, 2, 3]);
    expect(() => buildConfig(undefined, { method: 'supervised', data: { dataset: 'imagefolder' } })).toThrowError(
      /data\.dataDir: required when data\.dataset is 'imagefolder'/,
    );
    expect(() =>
      buildConfig(undefined, { method: 'supervised', data: { dataset: 'imagefolder', dataDir: data, augment: { pad: 4 } } }),
    ).toThrowError(/data\.augment\.pad/);
  });

  it('reads CIFAR-10 and CIFAR-100 binary files as written, and names a truncated one', async () => {
    for (const kind of ['10', '100']) {
      const cifar = join(dir.path, `cifar${kind}`);
      const expected = JSON.parse(runPython('image_reference.py', ['cifar', cifar, kind])) as Record<
        string,
        { labels: number[]; sums: number[]; first: number[] }
      >;
      for (const split of ['train', 'test'] as const) {
        const dataset = await Dataset.loadCifar(cifar, split);
        const e = expected[split]!;
        expect(dataset.info).toMatchObject({ size: e.labels.length, numClasses: Number(kind), shape: [3, 32, 32] });
        expect(Array.from(dataset.labels())).toEqual(e.labels);
        const loader = Loader.forEvaluation(dataset, { batchSize: 64, mean: [0], std: [1] });
        const [batch] = await batches(loader);
        const pixels = batch!.images().data as Uint8Array;
        expect(Array.from(pixels.subarray(0, 3072))).toEqual(e.first);
        expect(e.sums.map((_, i) => pixels.subarray(i * 3072, (i + 1) * 3072).reduce((a, b) => a + b, 0))).toEqual(e.sums);
        loader.dispose();
        dataset.dispose();
      }
      expect(
        buildConfig(undefined, { method: 'supervised', data: { dataset: `cifar${kind}` as 'cifar10' | 'cifar100', dataDir: cifar } }).data,
      ).toMatchObject({
        augment: { pad: 4, flip: true },
      });
    }
    const file = join(dir.path, 'cifar10', 'test_batch.bin');
    writeFileSync(file, readFileSync(file).subarray(0, 5000));
    expect(await thrown(() => Dataset.loadCifar(join(dir.path, 'cifar10'), 'test'))).toMatchObject({
      code: 'E_CORRUPT_FILE',
      message: expect.stringMatching(/test_batch\.bin: 5000 bytes is not a whole number of 3073-byte CIFAR records/),
    });
    expect(await thrown(() => Dataset.loadCifar(dir.path, 'train'))).toMatchObject({
      code: 'E_FILE_NOT_FOUND',
      message: expect.stringContaining('CIFAR binary files not found'),
    });
  });

  it('reads a path,label list and names a bad line, a missing folder and an empty class', async () => {
    const list = join(dir.path, 'list.csv');
    writeFileSync(list, 'cat/gray.jpg, 3\ndog/rgba.png,1\n');
    const dataset = await Dataset.openImageFolder({ list, root, train: false, size: 32, resize: 32 });
    expect(dataset.info).toMatchObject({ size: 2, numClasses: 4 });
    expect(Array.from(dataset.labels())).toEqual([3, 1]);
    dataset.dispose();

    writeFileSync(list, 'cat/gray.jpg,0\ndog/rgba.png,dog\n');
    expect(await thrown(() => Dataset.openImageFolder({ list, root, train: false }))).toMatchObject({
      code: 'E_CORRUPT_FILE',
      message: expect.stringMatching(/list\.csv line 2: expected path,label/),
    });
    const missing = join(dir.path, 'nowhere');
    expect(await thrown(() => Dataset.openImageFolder({ root: missing, train: true }))).toMatchObject({
      code: 'E_FILE_NOT_FOUND',
      message: expect.stringContaining(missing),
    });
    mkdirSync(join(dir.path, 'sparse', 'empty'), { recursive: true });
    mkdirSync(join(dir.path, 'sparse', 'full'), { recursive: true });
    copyFileSync(join(root, 'cat/gray.jpg'), join(dir.path, 'sparse', 'full', 'x.jpg'));
    expect(await thrown(() => Dataset.openImageFolder({ root: join(dir.path, 'sparse'), train: true }))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringMatching(/no image file in the class folder\(s\) empty/),
    });
  });
});
