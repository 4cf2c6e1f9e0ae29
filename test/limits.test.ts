// Every resource bound on outside input is a named limit (E_LIMIT naming the input, the value and the
// limit), changeable in one place, and an input that claims more than it holds is refused before
// memory is spent on the claim. Fixtures are written here, bombs included.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync, gzipSync } from 'node:zlib';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { Dataset, Loader, Model, limits, setLimits, setThreads } from '../src/index.js';
import type { Batch, LoaderOptions } from '../src/index.js';
import { ROOT, loaderOptions, runCli, runPython, tempDir, thrown } from './helpers.js';

const dir = tempDir();
const defaults = limits();
let images = '';
afterEach(() => setLimits(defaults));
afterAll(() => dir.cleanup());

beforeAll(() => {
  images = join(dir.path, 'reference');
  runPython('image_reference.py', ['write', images]);
});

function chunk(kind: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(kind, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A grayscale PNG `width` x `height` whose rows are all zero, or whose data stops after `rows` rows. */
function grayPng(width: number, height: number, rows = height): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8);
  const raw = Buffer.alloc((width + 1) * rows);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A JPEG whose frame header is rewritten to claim `height` x `width` (the scan stays the small image's). */
function jpegClaiming(source: string, height: number, width: number): Buffer {
  const jpeg = Buffer.from(readFileSync(source));
  for (let i = 2; i + 9 < jpeg.length;) {
    const marker = jpeg[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xc2) {
      jpeg.writeUInt16BE(height, i + 5);
      jpeg.writeUInt16BE(width, i + 7);
      return jpeg;
    }
    i += 2 + jpeg.readUInt16BE(i + 2);
  }
  throw new Error(`${source}: no frame header`);
}

/** An ImageFolder with one class folder holding `files` (name -> contents). */
function folder(name: string, files: Record<string, Buffer>): string {
  const root = join(dir.path, name);
  mkdirSync(join(root, 'a'), { recursive: true });
  for (const [file, data] of Object.entries(files)) writeFileSync(join(root, 'a', file), data);
  return root;
}

function options(patch: Partial<LoaderOptions> = {}): LoaderOptions {
  return loaderOptions({ batchSize: 4, ...patch });
}

async function firstBatch(dataset: Dataset, patch: Partial<LoaderOptions> = {}): Promise<{ batch: Batch | undefined; skipped: number }> {
  using loader = new Loader(dataset, options(patch));
  const batches: Batch[] = [];
  for await (const b of loader.epoch(0)) batches.push(b);
  const skipped = loader.skipped();
  for (const b of batches.slice(1)) b.dispose();
  return { batch: batches[0], skipped };
}

const LIMIT = { code: 'E_LIMIT' };

describe('limits', () => {
  it('are listed with their defaults, changed by name, and an unknown name or a bad value changes nothing', async () => {
    expect(defaults).toMatchObject({ maxImagePixels: 178956970, maxClasses: 100000, maxThreads: 256 });
    setLimits({ maxClasses: 5 });
    expect(limits().maxClasses).toBe(5);
    expect(await thrown(() => setLimits({ maxClasses: 7, maxBogus: 1 } as never))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringMatching(/unknown limit 'maxBogus'.*maxImagePixels/),
    });
    expect(await thrown(() => setLimits({ maxThreads: 0 }))).toMatchObject({
      code: 'E_ARGUMENT',
      message: expect.stringMatching(/maxThreads/),
    });
    expect(limits().maxClasses).toBe(5);
  });

  it('refuses an image whose header claims more pixels than the limit, before decoding, and skips and counts it when asked', async () => {
    const good = readFileSync(join(images, 'cat/baseline.jpg'));
    const root = folder('bombs', {
      '1-good.jpg': good,
      '2-png-bomb.png': grayPng(100000, 100000, 1),
      '3-jpeg-bomb.jpg': jpegClaiming(join(images, 'cat/baseline.jpg'), 65500, 65500),
    });
    using dataset = await Dataset.openImageFolder({ root, train: false, size: 32, resize: 32 });
    for (const [index, pattern] of [
      [
        1,
        /2-png-bomb\.png \(100000x100000 PNG\): 10000000000 decoded pixels per image exceeds the limit of 178956970 \(limits\.maxImagePixels/,
      ],
      [2, /3-jpeg-bomb\.jpg \(65500x65500 JPEG\): 4290250000 decoded pixels/],
    ] as const) {
      expect(await thrown(() => firstBatch(dataset, { subset: [index] }))).toMatchObject({
        ...LIMIT,
        message: expect.stringMatching(pattern),
      });
    }
    const { batch, skipped } = await firstBatch(dataset, { skipBadFiles: true });
    expect(Array.from(batch!.indices().data as Int32Array)).toEqual([0]);
    expect(skipped).toBe(2);
    batch!.dispose();
  });

  it('bounds image file size and the scans of a progressive JPEG', async () => {
    const root = folder('scans', { 'p.jpg': readFileSync(join(images, 'cat/progressive.jpg')) });
    using dataset = await Dataset.openImageFolder({ root, train: false, size: 32, resize: 32 });
    setLimits({ maxJpegScans: 3 });
    expect(await thrown(() => firstBatch(dataset))).toMatchObject({
      ...LIMIT,
      message: expect.stringMatching(/p\.jpg \(progressive JPEG\): 4 scans per progressive JPEG exceeds the limit of 3/),
    });
    setLimits({ maxJpegScans: defaults.maxJpegScans, maxImageFileBytes: 1000 });
    expect(await thrown(() => firstBatch(dataset))).toMatchObject({
      ...LIMIT,
      message: expect.stringMatching(/p\.jpg: \d+ bytes per image file/),
    });
    setLimits({ maxImageFileBytes: defaults.maxImageFileBytes });
    (await firstBatch(dataset)).batch!.dispose();
  });

  it('decodes a PNG row by row, keeping only the crop: a 12000x12000 image costs far less than its 576 MB of pixels', async () => {
    const root = folder('big-png', { 'big.png': grayPng(12000, 12000) });
    // In a process of its own, so the peak memory measured is this decode's alone.
    const script = `
      import { Dataset, Loader } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
      const dataset = await Dataset.openImageFolder({ root: ${JSON.stringify(root)}, train: true, size: 32, scale: [0.01, 0.01] });
      const loader = new Loader(dataset, { batchSize: 1, shuffle: false, dropLast: false, seed: 0, pad: 0, flip: false, workers: 1, prefetch: 1, mean: [0], std: [1] });
      const before = process.memoryUsage().rss;
      for await (const b of loader.epoch(0)) b.dispose();
      console.log(JSON.stringify({ before, peak: process.resourceUsage().maxRSS * 1024 }));
      loader.dispose(); dataset.dispose();`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (status) => (status === 0 ? resolve(stdout) : reject(new Error(stderr))));
    });
    const { before, peak } = JSON.parse(out) as { before: number; peak: number };
    // The whole image would be 576 MB (RGBA, as the old decoder held it) or 432 MB (RGB); the crop is
    // about 4 MB. The bound leaves room for the allocator, and for ASan's shadow memory under scripts/sanitize.sh.
    expect(peak - before).toBeLessThan(200 * 2 ** 20);
  });

  it('refuses a gzip IDX file whose header claims more than the file can hold, before decompressing anything', async () => {
    const data = join(dir.path, 'idx-bomb');
    mkdirSync(data);
    const header = Buffer.alloc(16);
    header.writeUInt32BE(0x803, 0);
    header.writeUInt32BE(2 ** 31, 4);
    header.writeUInt32BE(28, 8);
    header.writeUInt32BE(28, 12);
    writeFileSync(join(data, 'train-images-idx3-ubyte.gz'), gzipSync(Buffer.concat([header, Buffer.alloc(3 << 20)])));
    writeFileSync(join(data, 'train-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 1, 0]));
    expect(await thrown(() => Dataset.loadIdx(data, 'train'))).toMatchObject({
      code: 'E_CORRUPT_FILE',
      message: expect.stringMatching(
        /train-images-idx3-ubyte\.gz: truncated or corrupt: the header declares 1683627180032 bytes .*more than the file can hold/,
      ),
    });
    header.writeUInt32BE(2, 4);
    writeFileSync(join(data, 'train-images-idx3-ubyte.gz'), gzipSync(Buffer.concat([header, Buffer.alloc(2 * 784)])));
    setLimits({ maxDatasetBytes: 1000 });
    expect(await thrown(() => Dataset.loadIdx(data, 'train'))).toMatchObject({
      ...LIMIT,
      message: expect.stringMatching(
        /train-images-idx3-ubyte\.gz \(the size its IDX header declares\): 1568 bytes of in-memory dataset exceeds the limit of 1000/,
      ),
    });
  });

  it('refuses absurd networks before building them: depth, width, classes, branches', async () => {
    for (const spec of [
      { arch: 'wrn-10000000-10', inChannels: 3, numClasses: 10 },
      { arch: 'wrn-16-100000', inChannels: 3, numClasses: 10 },
      { arch: 'resnet18', inChannels: 3, numClasses: 2_000_000_000 },
      { arch: 'resnet8', inChannels: 100_000_000, numClasses: 10 },
      { arch: 'resnet20', inChannels: 1, numClasses: 10, branches: 100_000_000 },
      { arch: 'resnet20', inChannels: 1, numClasses: 10, blocks: [[16], [1e9], [64]] },
    ]) {
      expect(await thrown(() => Model.create(spec)), spec.arch).toMatchObject({
        ...LIMIT,
        message: expect.stringContaining(`model '${spec.arch}'`),
      });
    }
    setLimits({ maxParameters: 10_000 });
    expect(await thrown(() => Model.create({ arch: 'resnet8', inChannels: 1, numClasses: 10 }))).toMatchObject({
      ...LIMIT,
      message: expect.stringMatching(/network parameters exceeds the limit of 10000 \(limits\.maxParameters/),
    });
  });

  it('bounds list-file labels and dataset files, threads, prefetch and batch size', async () => {
    const root = folder('listed', {
      'x.jpg': readFileSync(join(images, 'cat/gray.jpg')),
      'y.jpg': readFileSync(join(images, 'cat/gray.jpg')),
    });
    const list = join(root, 'list.csv');
    writeFileSync(list, 'a/x.jpg,1\na/y.jpg,2000000000\n');
    expect(await thrown(() => Dataset.openImageFolder({ list, train: false, size: 8, resize: 8 }))).toMatchObject({
      ...LIMIT,
      message: expect.stringMatching(/list\.csv line 2 \(label 2000000000\): 2000000001 classes exceeds the limit of 100000/),
    });
    setLimits({ maxDatasetFiles: 1 });
    expect(await thrown(() => Dataset.openImageFolder({ root, train: false, size: 8, resize: 8 }))).toMatchObject({
      ...LIMIT,
      message: expect.stringMatching(/image folder .*listed: 2 files per dataset exceeds the limit of 1/),
    });
    setLimits({ maxDatasetFiles: defaults.maxDatasetFiles });
    expect(await thrown(() => setThreads(10_000))).toMatchObject({
      ...LIMIT,
      message: expect.stringMatching(/10000 threads exceeds the limit of 256/),
    });
    expect(await thrown(() => setThreads(1e12))).toMatchObject(LIMIT);
    using dataset = await Dataset.openImageFolder({ root, train: false, size: 8, resize: 8 });
    expect(await thrown(() => new Loader(dataset, options({ workers: 10_000 })))).toMatchObject(LIMIT);
    expect(await thrown(() => new Loader(dataset, options({ prefetch: 1000 })))).toMatchObject(LIMIT);
    expect(await thrown(() => new Loader(dataset, options({ batchSize: 1e6 })))).toMatchObject(LIMIT);
    expect(await thrown(() => Dataset.openImageFolder({ root, train: true, size: 100_000 }))).toMatchObject(LIMIT);
  });

  it('are set from the command line (--limit) or the config, and a violation exits with E_LIMIT naming the fix', async () => {
    const out = join(dir.path, 'never');
    const tiny = ['--arch', 'resnet8', '--epochs', '1', '--train-limit', '8', '--out', out, '--json'];
    const flag = await runCli(['train', ...tiny, '--limit', 'maxThreads=2', '--threads', '3']);
    expect(flag.status).toBe(1);
    expect(JSON.parse(flag.stdout).error).toMatchObject({
      ...LIMIT,
      message: expect.stringMatching(/3 threads exceeds the limit of 2 \(limits\.maxThreads; .*--limit maxThreads=N/),
    });
    const config = join(dir.path, 'limits.yaml');
    writeFileSync(config, 'limits:\n  maxClasses: 5\n');
    const file = await runCli(['train', '--config', config, ...tiny]);
    expect(JSON.parse(file.stdout).error).toMatchObject({ ...LIMIT, message: expect.stringMatching(/10 classes exceeds the limit of 5/) });
    const unknown = await runCli(['train', ...tiny, '--limit', 'maxBogus=3']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/--limit maxBogus=3: expected name=value with a name among maxImagePixels/);
    writeFileSync(config, 'limits:\n  maxClasses: -1\n');
    expect((await runCli(['train', '--config', config, ...tiny])).stderr).toMatch(/limits\.maxClasses/);
  });
});
