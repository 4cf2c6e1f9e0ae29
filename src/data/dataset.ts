// Datasets (held in native memory, or image files decoded as they are batched) and the threaded
// loader that batches them.
import { DistilleryError } from '../errors.js';
import type {
  NativeBatch,
  NativeCrops,
  NativeDataset,
  NativeDatasetInfo,
  NativeDecodeStats,
  NativeLoader,
  NativeLoaderOptions,
} from '../native.js';
import { native } from '../native.js';

export type Split = 'train' | 'test';
export type Batch = NativeBatch;

/** How image files become samples: torchvision's training or evaluation transform. */
export interface ImageFolderOptions {
  /** An ImageFolder tree (one folder per class); or give `list`. */
  root?: string;
  /** A file of `path,label` lines, paths relative to `root` (or to the list's folder). */
  list?: string;
  /** true: RandomResizedCrop(size, scale, ratio) + horizontal flip; false: Resize(resize) + CenterCrop(size). */
  train: boolean;
  size?: number;
  resize?: number;
  scale?: [number, number];
  ratio?: [number, number];
  flip?: boolean;
  /** Decode JPEGs at 1/2, 1/4 or 1/8 scale when the crop still has enough pixels (default true). */
  dctScaling?: boolean;
  /** Training only: replay the crops and soft labels of this cache (`distillery cache-teachers`). */
  softLabels?: string;
}

/** One split of an image classification dataset: in memory, or image files decoded as batched. */
export class Dataset {
  readonly handle: NativeDataset;
  readonly info: NativeDatasetInfo;

  private constructor(handle: NativeDataset) {
    this.handle = handle;
    this.info = handle.info();
  }

  /**
   * Reads an MNIST-family IDX split (raw or .gz) from `dir`. With `numClasses`, a label outside
   * [0, numClasses) is E_CORRUPT_FILE naming the file and sample; without, the count is inferred
   * (the largest label + 1, at least 10).
   */
  static async loadIdx(dir: string, split: Split, numClasses?: number): Promise<Dataset> {
    return new Dataset(await native().loadIdx(dir, split, numClasses));
  }

  /** Reads a CIFAR-10 (cifar-10-batches-bin) or CIFAR-100 (cifar-100-binary, fine labels) split into memory. */
  static async loadCifar(dir: string, split: Split): Promise<Dataset> {
    return new Dataset(await native().loadCifar(dir, split));
  }

  /** Image files (JPEG or PNG, told apart by content) with torchvision's ImageFolder numbering and transforms. */
  static async openImageFolder(options: ImageFolderOptions): Promise<Dataset> {
    const {
      root,
      list,
      train,
      size = 224,
      resize = 256,
      scale = [0.08, 1],
      ratio = [3 / 4, 4 / 3],
      flip = true,
      dctScaling = true,
      softLabels,
    } = options;
    return new Dataset(
      await native().openImageFolder({
        ...(root === undefined ? {} : { root }),
        ...(list === undefined ? {} : { list }),
        train,
        size,
        resize,
        scaleMin: scale[0],
        scaleMax: scale[1],
        ratioMin: ratio[0],
        ratioMax: ratio[1],
        flip,
        dctScaling,
        ...(softLabels === undefined ? {} : { softLabels }),
      }),
    );
  }

  /** Image files decoded since the last call, their bytes and mean DCT scale (1 = full resolution). */
  decodeStats(): NativeDecodeStats {
    return this.handle.decodeStats();
  }

  /** The crop boxes and flips the training transform draws for `indices` in `epoch` of a loader seeded with `seed`. */
  async crops(indices: number[], seed: number, epoch: number): Promise<NativeCrops> {
    return this.handle.crops({ indices, seed, epoch });
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

  /** Samples left out of the current epoch because their file could not be read (with `skipBadFiles`). */
  skipped(): number {
    return this.handle.skipped();
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

  /**
   * A loader for scoring: every sample once, in order, unaugmented. With `shard`, rank r of W
   * scores samples r, r + W, ... (no padding, unlike training shards, so sums over ranks are exact).
   */
  static forEvaluation(
    dataset: Dataset,
    options: {
      batchSize: number;
      mean: number[];
      std: number[];
      workers?: number;
      prefetch?: number;
      skipBadFiles?: boolean;
      pinMemory?: boolean;
      channelsLast?: boolean;
      shard?: { rank: number; worldSize: number };
    },
  ): Loader {
    const {
      batchSize,
      mean,
      std,
      workers = 0,
      prefetch = 2,
      skipBadFiles = false,
      pinMemory = false,
      channelsLast = false,
      shard,
    } = options;
    const subset =
      shard && shard.worldSize > 1
        ? Int32Array.from(
            { length: Math.ceil(Math.max(0, dataset.size - shard.rank) / shard.worldSize) },
            (_, k) => shard.rank + k * shard.worldSize,
          )
        : undefined;
    return new Loader(dataset, {
      batchSize,
      mean,
      std,
      workers,
      prefetch,
      shuffle: false,
      dropLast: false,
      seed: 0,
      pad: 0,
      flip: false,
      skipBadFiles,
      pinMemory,
      channelsLast,
      ...(subset ? { subset } : {}),
    });
  }

  /** Stops the worker threads and frees queued batches. */
  dispose(): void {
    this.handle.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
