// Datasets held in native memory and the threaded loader that batches them.
import { DistilleryError } from '../errors.js';
import type { NativeBatch, NativeDataset, NativeDatasetInfo, NativeLoader, NativeLoaderOptions } from '../native.js';
import { native } from '../native.js';

export type Split = 'train' | 'test';
export type Batch = NativeBatch;

/** One split of an image classification dataset, in memory. */
export class Dataset {
  readonly handle: NativeDataset;
  readonly info: NativeDatasetInfo;

  private constructor(handle: NativeDataset) {
    this.handle = handle;
    this.info = handle.info();
  }

  /** Reads an MNIST-family IDX split (raw or .gz) from `dir`. */
  static async loadIdx(dir: string, split: Split): Promise<Dataset> {
    return new Dataset(await native().loadIdx(dir, split));
  }

  /** Number of samples. */
  get size(): number {
    return this.info.size;
  }

  /** The label of every sample. */
  labels(): Int32Array {
    return this.handle.labels().data as Int32Array;
  }

  /** The same images with other labels (one per sample, in [0, numClasses)); the images are shared, not copied. */
  withLabels(labels: Int32Array): Dataset {
    return new Dataset(this.handle.withLabels({ data: labels, shape: [labels.length] }));
  }

  /** Frees the images (loaders already built keep their own reference). */
  dispose(): void {
    this.handle.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

export type LoaderOptions = NativeLoaderOptions;

/** Batches of a Dataset, built ahead of time by native threads; one epoch at a time. */
export class Loader {
  private readonly handle: NativeLoader;
  readonly batchesPerEpoch: number;
  readonly samplesPerEpoch: number;

  constructor(dataset: Dataset, options: LoaderOptions) {
    if (options.batchSize < 1) throw new DistilleryError(`batchSize must be >= 1, got ${options.batchSize}`, 'E_ARGUMENT');
    this.handle = new (native().Loader)(dataset.handle, options);
    const info = this.handle.info();
    this.batchesPerEpoch = info.batchesPerEpoch;
    this.samplesPerEpoch = info.samplesPerEpoch;
  }

  /** Yields the batches of `epoch` (order and augmentation fixed by the seed and the epoch). */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    await this.handle.startEpoch({ epoch });
    for (;;) {
      const batch = await this.handle.next();
      if (batch === null) return;
      yield batch;
    }
  }

  /** A loader for scoring: every sample once, in order, unaugmented. */
  static forEvaluation(dataset: Dataset, options: { batchSize: number; mean: number[]; std: number[]; workers?: number; prefetch?: number }): Loader {
    const { batchSize, mean, std, workers = 0, prefetch = 2 } = options;
    return new Loader(dataset, { batchSize, mean, std, workers, prefetch, shuffle: false, dropLast: false, seed: 0, pad: 0, flip: false });
  }

  /** Stops the worker threads and frees queued batches. */
  dispose(): void {
    this.handle.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
