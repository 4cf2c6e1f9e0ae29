// `distillery bench-loader`: images per second of the native loader on a folder of image files,
// with the transform training (or, with --eval, evaluation) would use; nothing else runs.
import { availableParallelism } from 'node:os';

import type { BenchLoaderOptions } from '../config/commands.js';
import { Dataset, Loader } from '../data/dataset.js';
import type { OutputOptions } from './options.js';
import { printResult } from './output.js';

/** Loader throughput numbers, as `--json` prints them. */
export interface LoaderBenchmark {
  data: string;
  transform: string;
  threads: number;
  images: number;
  skipped: number;
  seconds: number;
  imagesPerSecond: number;
  imagesPerSecondPerThread: number;
  megabytesPerSecond: number;
  meanScale: number;
}

/** Measures `options.epochs` passes over the images (the first `--images` of them) and prints the rates. */
export async function benchLoaderCommand(options: BenchLoaderOptions, output: OutputOptions): Promise<LoaderBenchmark> {
  const threads = options.threads || availableParallelism();
  const dataset = await Dataset.openImageFolder({
    ...(options.data === undefined ? {} : { root: options.data }),
    ...(options.list === undefined ? {} : { list: options.list }),
    train: !options.eval,
    size: options.size,
    resize: options.resize,
    dctScaling: options.dctScaling,
  });
  const count = Math.min(options.images ?? dataset.size, dataset.size);
  const loader = new Loader(dataset, {
    batchSize: options.batchSize,
    shuffle: true,
    dropLast: false,
    seed: 0,
    pad: 0,
    flip: false,
    workers: threads,
    prefetch: 2 * threads,
    mean: [0],
    std: [1],
    subset: Array.from({ length: count }, (_, i) => i),
    skipBadFiles: options.skipBadFiles,
  });
  try {
    let images = 0;
    let skipped = 0;
    const start = process.hrtime.bigint();
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      for await (const batch of loader.epoch(epoch)) {
        images += batch.size();
        batch.dispose();
      }
      skipped += loader.skipped();
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const stats = dataset.decodeStats();
    const result: LoaderBenchmark = {
      data: options.data ?? options.list ?? '',
      transform: options.eval ? `Resize(${options.resize}) + CenterCrop(${options.size})` : `RandomResizedCrop(${options.size}) + flip`,
      threads,
      images,
      skipped,
      seconds,
      imagesPerSecond: images / seconds,
      imagesPerSecondPerThread: images / seconds / threads,
      megabytesPerSecond: stats.bytes / 1e6 / seconds,
      meanScale: stats.meanScale,
    };
    printResult(
      output,
      result,
      `${images} images in ${seconds.toFixed(2)} s: ${result.imagesPerSecond.toFixed(0)} images/s (${result.imagesPerSecondPerThread.toFixed(0)} per thread, ${threads} threads), ` +
        `${result.megabytesPerSecond.toFixed(1)} MB/s, mean decode scale ${result.meanScale.toFixed(3)}${skipped ? `, ${skipped} unreadable files skipped` : ''}`,
    );
    return result;
  } finally {
    loader.dispose();
    dataset.dispose();
  }
}
