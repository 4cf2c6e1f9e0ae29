// Loads the addon (the prebuild for the LibTorch found here, or a local build: addon-file.ts) and declares its typed surface.
// Everything else in src/ reaches native code through this file only.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chooseAddon, preloadLibTorch, type AddonChoice } from './addon-file.js';
import { DistilleryError } from './errors.js';
import { LIBTORCH_HELP } from './libtorch.js';

/** A tensor copied across the boundary: a typed array and its shape. */
export interface HostTensor {
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
  shape: number[];
}

/** The names of the resource limits (native/core/limits.h holds their defaults and what each bounds). */
export const LIMIT_NAMES = [
  'maxImagePixels',
  'maxImageFileBytes',
  'maxJpegScans',
  'maxImageSide',
  'maxDatasetBytes',
  'maxDatasetFiles',
  'maxClasses',
  'maxParameters',
  'maxThreads',
  'maxPrefetch',
  'maxBatchSize',
] as const;
/** One resource limit's name. */
export type LimitName = (typeof LIMIT_NAMES)[number];
/** Every resource limit's value. */
export type Limits = Record<LimitName, number>;

export interface TorchInfo {
  compiledVersion: string;
  runtimeVersion: string;
  source: string;
  cudaAvailable: boolean;
  cudaDeviceCount: number;
  threads: number;
  /** The libtorch shared library this process loaded. */
  libraryPath: string;
  cudnnAvailable: boolean;
  /** cuDNN's version number (e.g. 90100 for 9.1.0); 0 without it. */
  cudnnVersion: number;
  /** The CUDA runtime's version number (e.g. 12040 for 12.4); 0 without CUDA. */
  cudaRuntimeVersion: number;
  /** Whether the addon was built against a CUDA LibTorch. */
  builtWithCuda: boolean;
  devices: { name: string; totalMemory: number; capability: string }[];
}

/** The CUDA caching allocator's counters for one device, in bytes. */
export interface CudaMemoryStats {
  allocated: number;
  reserved: number;
  peakAllocated: number;
}

/** A network of the zoo: its name, input channels and classes, and the variants ONE and student search build. */
export interface NativeModelSpec {
  /** A name from listArchs(), e.g. "resnet20", "wrn-16-2", "resnet18". */
  arch: string;
  inChannels: number;
  numClasses: number;
  /** >= 2: ONE's multi-branch version of `arch`; absent or 0: the plain network. */
  branches?: number;
  /** CIFAR ResNets: the inner width of every block, per stage (a searched student); absent: `arch` as it is. */
  blocks?: number[][];
  /** CIFAR ResNets: student search's network, with channel and block gates (only they train). */
  gated?: boolean;
}

export interface NativeModelInfo extends NativeModelSpec {
  device: string;
  parameters: number;
  featureNames: string[];
  branches: number;
  blocks: number[][];
  gated: boolean;
  /** What evaluation scores: ["logits"], or ONE's ["branch1", ..., "ensemble"]. */
  outputNames: string[];
}

/** A ONE network's forward pass: each branch's logits, the gate weights [N, m] and the gated ensemble. */
export interface OneOutputs {
  branches: HostTensor[];
  gate: HostTensor;
  ensemble: HostTensor;
}

export interface NativeModel {
  info(): NativeModelInfo;
  forward(input: HostTensor, training?: boolean): Promise<HostTensor>;
  features(input: HostTensor): Promise<HostTensor[]>;
  oneOutputs(input: HostTensor, training?: boolean): Promise<OneOutputs>;
  copyBranch(branch: number, target: NativeModel): Promise<void>;
  flops(options: { inputShape: number[] }): Promise<number>;
  toChannelsLast(): Promise<void>;
  gateValues(): Float64Array;
  /** The names of a gated network's gates (student search), as its state names them. */
  gateNames(): string[];
  planSubnet(threshold: number): { blocks: number[][]; source: number[][] };
  extractSubnet(threshold: number, target: NativeModel): Promise<void>;
  stateShapes(): Record<string, number[]>;
  saveSafetensors(path: string, options?: { prefix?: string; metadata?: Record<string, string> }): Promise<void>;
  loadSafetensors(path: string, options?: { prefix?: string; strict?: boolean; optional?: string[] }): Promise<Record<string, string>>;
  dispose(): void;
}

export interface NativeDatasetInfo {
  name: string;
  size: number;
  numClasses: number;
  shape: [number, number, number];
  /** Image-file datasets only: the class folder names (empty for a list file) and the root. */
  classes?: string[];
  root?: string;
  /** Image-file datasets only: a hash of every path and label, in order. */
  fingerprint?: string;
  /** The JSON header of the soft-label cache the dataset replays, if any. */
  softLabelHeader?: string;
}

export interface NativeDecodeStats {
  images: number;
  bytes: number;
  meanScale: number;
}

export interface NativeDataset {
  info(): NativeDatasetInfo;
  labels(): HostTensor;
  withLabels(labels: HostTensor): NativeDataset;
  decodeStats(): NativeDecodeStats;
  crops(options: { indices: number[]; seed: number; epoch: number }): Promise<NativeCrops>;
  dispose(): void;
}

/** Training crops in full-resolution pixels, one entry per requested sample. */
export interface NativeCrops {
  top: Int32Array;
  left: Int32Array;
  height: Int32Array;
  width: Int32Array;
  flip: Uint8Array;
}

export interface NativeImageFolderOptions {
  root?: string;
  list?: string;
  name?: string;
  train: boolean;
  size: number;
  resize: number;
  scaleMin: number;
  scaleMax: number;
  ratioMin: number;
  ratioMax: number;
  flip: boolean;
  dctScaling: boolean;
  softLabels?: string;
}

export interface NativeBatch {
  size(): number;
  images(): HostTensor;
  labels(): HostTensor;
  indices(): HostTensor;
  /** Training crops of image files: int32 [B, 5] (top, left, height, width, flip); null otherwise. */
  crops(): HostTensor | null;
  /** Replayed soft labels (a soft-label cache): classes and probabilities [B, k]; null otherwise. */
  softLabels(): { classes: HostTensor; values: HostTensor; logits?: HostTensor } | null;
  dispose(): void;
  [Symbol.dispose](): void;
}

export interface NativeLoaderOptions {
  batchSize: number;
  shuffle: boolean;
  dropLast: boolean;
  seed: number;
  pad: number;
  flip: boolean;
  workers: number;
  prefetch: number;
  mean: number[];
  std: number[];
  subset?: Int32Array | number[];
  rank?: number;
  worldSize?: number;
  skipBadFiles?: boolean;
  /** Page-locked batches for asynchronous copies to a CUDA device (ignored without CUDA). */
  pinMemory?: boolean;
  /** Batches laid out NHWC in memory (PyTorch's channels_last); `images()` still reads out NCHW. */
  channelsLast?: boolean;
}

export interface NativeLoader {
  info(): { batchesPerEpoch: number; samplesPerEpoch: number };
  startEpoch(options: { epoch: number }): Promise<void>;
  next(): Promise<NativeBatch | null>;
  skipped(): number;
  dispose(): void;
}

export interface NativeOptimizerOptions {
  type: 'sgd' | 'adamw';
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay: number;
  noDecayBnBias: boolean;
  betas?: [number, number];
  eps?: number;
}

/** Hinton KD's loss weights and temperature, for kdLoss on host tensors. */
export interface KdLossOptions {
  temperature: number;
  ceWeight: number;
  kdWeight: number;
}

/** ONE's loss weights: T, and klWeight = the ramp-up w(epoch) on the KL term. */
export interface OneLossOptions {
  temperature: number;
  klWeight: number;
}

/** Plain values an objective's settings and a step's arguments are made of (crossed as JSON). */
export type Settings = { readonly [key: string]: SettingValue };
export type SettingValue = number | string | boolean | readonly SettingValue[] | Settings | undefined;

/** What one step reports. */
export interface StepStats {
  /** The minimised total: the sum of each term times its weight. */
  loss: number;
  /** Each of the objective's loss terms, unweighted, by name (e.g. ce and kd for Hinton KD). */
  terms: Record<string, number>;
  /** Top-1 hits of the objective's predictions on the (augmented) batch. */
  correct: number;
  count: number;
  /** The loss scaler found inf/NaN gradients and skipped this update. */
  skipped: boolean;
  /** The loss scale after this step (0 without loss scaling). */
  lossScale: number;
}

/** Counts of native handles JS holds, per kind. */
export interface LiveHandles {
  Model: number;
  Dataset: number;
  Batch: number;
  Loader: number;
  Trainer: number;
  Objective: number;
  ProcessGroup: number;
  SoftLabelWriter: number;
}

/** A soft-label cache being written; its record layout is defined natively only. */
export interface NativeSoftLabelWriter {
  /** Whether the file was kept from an unfinished run with the same header. */
  resumed(): boolean;
  /** Runs `teachers` on `batch` (eval mode, at `temperature`) and writes crop pass `pass` of its samples. */
  write(pass: number, teachers: NativeModel[], batch: NativeBatch, options: { temperature: number }): Promise<void>;
  /** Makes the records written so far durable. */
  sync(): Promise<void>;
  /** Syncs and closes the file. */
  close(): Promise<void>;
  dispose(): void;
}

/** A method's loss terms on the native side, stepped by NativeTrainer.step. */
export interface NativeObjective {
  /** What the objective found when it was built (MEAL: teachers and block lengths). */
  info(): Settings;
  dispose(): void;
}

export interface EvalStats {
  lossSum: number;
  top1: number;
  top5: number;
  count: number;
}

export type Precision = 'fp32' | 'bf16' | 'fp16';

/** Dynamic loss scaling, as torch.cuda.amp.GradScaler: its defaults. */
export interface LossScaleOptions {
  initScale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
}

export interface NativeProcessGroupOptions {
  backend: 'gloo' | 'nccl';
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  timeoutMs: number;
  /** This rank's device; NCCL stages host tensors there. */
  device: string;
}

export interface NativeProcessGroup {
  info(): { rank: number; worldSize: number; backend: string };
  allReduce(values: Float64Array): Promise<Float64Array>;
  barrier(): Promise<void>;
  dispose(): void;
}

export interface NativeTrainer {
  /** One optimizer step of `objective`; `args.lr` is the learning rate, the rest the objective's step arguments. */
  step(batch: NativeBatch, objective: NativeObjective, args: Settings & { lr: number }): Promise<StepStats>;
  distribute(group: NativeProcessGroup, options: { syncBatchNorm: boolean; bucketCapMb: number }): Promise<void>;
  setPrecision(options: { precision: Precision; lossScale?: LossScaleOptions }): Promise<void>;
  saveCheckpoint(path: string, metadata: Record<string, string>): Promise<void>;
  loadCheckpoint(path: string): Promise<Record<string, string>>;
  dispose(): void;
}

export type SimilarityName = 'ce' | 'kl' | 'l1' | 'l2' | 'l1_soft' | 'l2_soft' | 'cosine';
export type PoolingName = 'avg' | 'max';

export interface NativeDiscriminatorOptions {
  divisors: number[];
  minWidth: number;
  outputRelu: boolean;
}

export interface NativeAddon {
  setErrorClass(ctor: typeof DistilleryError): void;
  torchInfo(): TorchInfo;
  checkRuntime(): void;
  cudaMemory(device: number): CudaMemoryStats;
  emptyCache(): void;
  setCudnnBenchmark(on: boolean): void;
  setThreads(threads: number): void;
  limits(): Limits;
  setLimits(limits: Partial<Limits>): void;
  manualSeed(seed: number): void;
  listArchs(): string[];
  readMetadata(path: string): Record<string, string>;
  loadIdx(dir: string, split: 'train' | 'test', numClasses?: number): Promise<NativeDataset>;
  openImageFolder(options: NativeImageFolderOptions): Promise<NativeDataset>;
  loadCifar(dir: string, split: 'train' | 'test'): Promise<NativeDataset>;
  evaluate(models: NativeModel[], batch: NativeBatch): Promise<EvalStats>;
  predict(models: NativeModel[], batch: NativeBatch): Promise<HostTensor>;
  evaluateOutputs(model: NativeModel, batch: NativeBatch): Promise<EvalStats[]>;
  evaluateMembers(models: NativeModel[], batch: NativeBatch): Promise<EvalStats[]>;
  /** Opens a soft-label cache file for writing (resuming it when `resume` and it holds this exact header). */
  openSoftLabelWriter(path: string, header: object, resume: boolean): Promise<NativeSoftLabelWriter>;
  writeSafetensors(path: string, tensors: Record<string, HostTensor>, metadata?: Record<string, string>): Promise<void>;
  readSafetensors(path: string): Promise<{ tensors: Record<string, HostTensor>; metadata: Record<string, string> }>;
  /** Replaces `path` with `text` atomically, as checkpoints are written (native/io/atomic_file.h). */
  writeFileAtomic(path: string, text: string): Promise<void>;
  kdLoss(
    student: HostTensor,
    teachers: HostTensor[],
    labels: HostTensor,
    options: KdLossOptions,
  ): Promise<{
    total: number;
    ce: number;
    kd: number;
  }>;
  oneLoss(
    branches: HostTensor[],
    ensemble: HostTensor,
    labels: HostTensor,
    options: OneLossOptions,
  ): Promise<{
    total: number;
    ce: number;
    kl: number;
    gradBranches: HostTensor[];
    gradEnsemble: HostTensor;
  }>;
  alignBlock(block: HostTensor, options: { length?: number; pooling: PoolingName }): Promise<HostTensor>;
  similarityLoss(
    student: HostTensor,
    teachers: HostTensor[],
    options: { similarity: SimilarityName; temperature?: number },
  ): Promise<number>;
  discriminatorLoss(
    student: HostTensor,
    teacher: HostTensor,
    weights: Record<string, HostTensor>,
    options: Partial<NativeDiscriminatorOptions>,
  ): Promise<{ discriminator: number; generator: number }>;
  createProcessGroup(options: NativeProcessGroupOptions): Promise<NativeProcessGroup>;
  distributedBackends(): string[];
  /** Builds a zoo network and moves it to `device`, on the compute thread. */
  createModel(spec: NativeModelSpec, device: string): Promise<NativeModel>;
  /** Builds the objective registered natively as `name` for `trainer`, reading `models` (teachers). */
  createObjective(name: string, trainer: NativeTrainer, models: NativeModel[], settings: Settings): Promise<NativeObjective>;
  /** The objectives the addon can build. */
  objectiveNames(): string[];
  /** Tensor-name prefixes of a trainer checkpoint's parts (defined natively only). */
  checkpointFormat(): { modelPrefix: string; optimizerPrefix: string; rngName: string };
  /** Native handles JS holds now (made, not yet disposed or collected), per kind. */
  liveHandles(): LiveHandles;
  Loader: new (dataset: NativeDataset, options: NativeLoaderOptions) => NativeLoader;
  Batch: { prototype: NativeBatch };
  Trainer: new (student: NativeModel, optimizer: NativeOptimizerOptions) => NativeTrainer;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
let loaded: NativeAddon | undefined;
let chosen: AddonChoice | undefined;

/** Which addon file native() loads or loaded, and on which LibTorch; undefined when none fits (the reason is native()'s error). */
export function addonChoice(): AddonChoice | undefined {
  if (chosen) return chosen;
  try {
    return chooseAddon(packageRoot);
  } catch {
    return undefined;
  }
}

/** The addon file native() loads or loaded; undefined when there is none. */
export function addonPath(): string | undefined {
  return addonChoice()?.path;
}

function explainLoadFailure(error: unknown, choice: AddonChoice): DistilleryError {
  // Node appends the require stack on further lines: the first says what is missing.
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
  if (/libtorch|libc10|libtorch_cpu|libtorch_cuda/.test(message)) {
    return new DistilleryError(
      `LibTorch could not be loaded for ${choice.path} (${message}). ${LIBTORCH_HELP}; then run \`npx distillery build\``,
      'E_LIBTORCH_MISSING',
    );
  }
  if (/undefined symbol/.test(message)) {
    return new DistilleryError(
      `${choice.path} does not fit the LibTorch found (${choice.libtorch?.version ?? 'unknown'}, ${choice.libtorch?.source ?? 'unknown'}): ${message}; ` +
        'run `npx distillery build` to compile against it (docs/install.md)',
      'E_LIBTORCH_MISMATCH',
    );
  }
  return new DistilleryError(
    `the distillery native addon ${choice.path} does not load (${message}); run \`npx distillery build\` (compiles against the LibTorch found here; needs cmake, g++ and LibTorch: docs/install.md)`,
    'E_ADDON_MISSING',
  );
}

/** The loaded addon; loads it on first use and checks it runs against the LibTorch it was built for. */
export function native(): NativeAddon {
  if (loaded) return loaded;
  const choice = chooseAddon(packageRoot);
  let addon: NativeAddon;
  try {
    preloadLibTorch(choice);
    addon = createRequire(import.meta.url)(choice.path) as NativeAddon;
  } catch (error) {
    if (error instanceof DistilleryError) throw error;
    throw explainLoadFailure(error, choice);
  }
  addon.setErrorClass(DistilleryError);
  // Batches are made natively, never through a TS class, so `using batch = ...` needs this here.
  Object.defineProperty(addon.Batch.prototype, Symbol.dispose, {
    value(this: NativeBatch) {
      this.dispose();
    },
  });
  try {
    addon.checkRuntime();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DistilleryError(message, 'E_LIBTORCH_MISMATCH');
  }
  loaded = addon;
  chosen = choice;
  return addon;
}
