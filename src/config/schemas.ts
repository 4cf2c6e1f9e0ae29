import { z } from 'zod';
import { METHODS, methodNamed } from '../methods/registry.js';
import { ScheduleConfig } from '../train/schedules.js';
import { LimitsConfig } from './limits.js';

// Nested sections use .prefault({}) so an omitted section is parsed, and so gets its defaults.

/** Dataset, augmentation and input-pipeline options. */
export const DataConfig = z
  .strictObject({
    /** fashion-mnist, mnist and idx are IDX files, cifar10 and cifar100 CIFAR binary files, all in memory; imagefolder is JPEG/PNG files under dataDir/train and dataDir/val. */
    dataset: z.enum(['fashion-mnist', 'mnist', 'idx', 'cifar10', 'cifar100', 'imagefolder']).default('fashion-mnist'),
    dataDir: z.string().min(1).default('/usr/share/datasets/fashion-mnist'),
    /** Train on a seeded random subset of this many images. */
    trainLimit: z.number().int().positive().optional(),
    augment: z
      .strictObject({
        pad: z.number().int().min(0).default(2),
        flip: z.boolean().default(false),
      })
      .prefault({}),
    /** imagefolder: torchvision's RandomResizedCrop(size, scale, ratio) for training, Resize(resize) + CenterCrop(size) for evaluation. */
    image: z
      .strictObject({
        size: z.number().int().min(1).default(224),
        resize: z.number().int().min(1).default(256),
        scale: z.tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)]).default([0.08, 1]),
        ratio: z.tuple([z.number().positive(), z.number().positive()]).default([3 / 4, 4 / 3]),
        /** Decode JPEGs at 1/2, 1/4 or 1/8 scale when the crop still has `size` pixels a side. */
        dctScaling: z.boolean().default(true),
      })
      .refine((image) => image.scale[0] <= image.scale[1] && image.ratio[0] <= image.ratio[1], {
        message: 'scale and ratio are [min, max] with min <= max',
      })
      .refine((image) => image.resize >= image.size, { path: ['resize'], message: "must be at least 'data.image.size' (the centre crop)" })
      .prefault({}),
    /** imagefolder: files of `path,label` lines (paths relative to the split's folder) instead of scanning the class folders. */
    lists: z.strictObject({ train: z.string().min(1).optional(), val: z.string().min(1).optional() }).optional(),
    /** imagefolder + kd or mealv2: replay the crops and teacher soft labels of this cache (`distillery cache-teachers`); no teacher runs. */
    softLabels: z.string().min(1).optional(),
    /** imagefolder: a file that cannot be read stops the run naming it ('error'), or is left out and counted ('skip'). */
    badFiles: z.enum(['error', 'skip']).default('error'),
    /** Batches laid out NHWC in memory (PyTorch's channels_last), which convolutions on a GPU prefer. */
    channelsLast: z.boolean().default(false),
    /** Loader threads; 0 means one per core. */
    workers: z.number().int().min(0).default(0),
    prefetch: z.number().int().min(1).default(4),
    /**
     * Flip this fraction of the training labels first (noisy-data experiments). The noise seed is its
     * own, not the run's, so teachers and students trained with different seeds see the same noise.
     */
    labelNoise: z
      .strictObject({
        type: z.enum(['symmetric', 'pairflip']).default('symmetric'),
        rate: z.number().min(0).max(1),
        seed: z.number().int().min(0).default(0),
      })
      .optional(),
    /** Train on the labels (and only the kept samples) of a file written by `distillery refine`. */
    labels: z.string().min(1).optional(),
    // Fashion-MNIST statistics; one entry per input channel.
    mean: z.array(z.number()).min(1).default([0.286]),
    // Pixels are scaled to [0, 1] first: a std below 1e-3 (a 0-255 std misread, a typo) scales inputs by
    // over a thousand and the first steps diverge, which would be reported as a NaN loss, not a bad std.
    std: z
      .array(z.number().min(1e-3, 'must be at least 0.001 (stds are of pixels scaled to [0, 1]: a 0-255 one divides by 255 first)'))
      .min(1)
      .default([0.353]),
  })
  .refine((data) => data.mean.length === data.std.length, {
    path: ['std'],
    message: "expected as many entries as 'data.mean' (one per channel)",
  })
  .refine((data) => data.dataset !== 'imagefolder' || data.augment.pad === 0, {
    path: ['augment', 'pad'],
    message: "must be 0 for 'imagefolder': RandomResizedCrop does the cropping",
  })
  .refine((data) => data.lists === undefined || data.dataset === 'imagefolder', {
    path: ['lists'],
    message: "lists image files: set data.dataset to 'imagefolder'",
  })
  .refine((data) => data.softLabels === undefined || data.dataset === 'imagefolder', {
    path: ['softLabels'],
    message: "replays crops of image files: set data.dataset to 'imagefolder'",
  })
  .refine((data) => data.labels === undefined || data.labelNoise === undefined, {
    path: ['labelNoise'],
    message: "not with 'data.labels': a labels file already holds the (noisy) labels it was refined from",
  });
/** Parsed data options. */
export type DataConfig = z.output<typeof DataConfig>;

// `type` may be omitted for SGD so that a lone `--lr` or `optimizer: {lr: …}` needs no type.
/** Optimizer options; `type` selects SGD (the default) or AdamW. */
export const OptimizerConfig = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('sgd').default('sgd'),
      lr: z.number().positive().default(0.1),
      momentum: z.number().min(0).lt(1).default(0.9),
      nesterov: z.boolean().default(false),
      weightDecay: z.number().min(0).default(5e-4),
      noDecayBnBias: z.boolean().default(false),
    })
    .refine((sgd) => !sgd.nesterov || sgd.momentum > 0, {
      path: ['nesterov'],
      message: "Nesterov momentum needs 'optimizer.momentum' > 0",
    }),
  z.strictObject({
    type: z.literal('adamw'),
    lr: z.number().positive().default(1e-3),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
    eps: z.number().positive().default(1e-8),
    weightDecay: z.number().min(0).default(0.01),
    noDecayBnBias: z.boolean().default(false),
  }),
]);
/** Parsed optimizer options. */
export type OptimizerConfig = z.output<typeof OptimizerConfig>;

/** Which network to build; channel and class counts default to the dataset's. */
export const ModelConfig = z.strictObject({
  arch: z.string().min(1).default('resnet20'),
  inChannels: z.number().int().positive().optional(),
  numClasses: z.number().int().positive().optional(),
  /** Initial weights: a distillery checkpoint or a safetensors file (e.g. torchvision-named ResNet weights). */
  init: z.string().min(1).optional(),
  /** CIFAR ResNets: the inner width of every block, per stage (3 stages), e.g. a searched student's. */
  blocks: z
    .array(z.array(z.number().int().min(1)).min(1))
    .length(3)
    .optional(),
  /** A student found by `distillery search` (its found.json): sets arch, blocks, channels and classes; its inherited weights are `init`'s to give. */
  archSpec: z.string().min(1).optional(),
});
/** Parsed model options. */
export type ModelConfig = z.output<typeof ModelConfig>;

/** Dynamic loss scaling for fp16 gradients (PyTorch's GradScaler, with its defaults). */
export const LossScaleConfig = z.strictObject({
  /** On by default with fp16 precision, off otherwise. */
  enabled: z.boolean().optional(),
  initScale: z.number().positive().default(65536),
  growthFactor: z.number().gt(1).default(2),
  backoffFactor: z.number().gt(0).lt(1).default(0.5),
  /** Clean steps before the scale grows. */
  growthInterval: z.number().int().min(1).default(2000),
});
/** Parsed loss-scaling options. */
export type LossScaleConfig = z.output<typeof LossScaleConfig>;

/** Data-parallel training, active when the process runs under `distillery launch` (or WORLD_SIZE > 1). */
export const DistributedConfig = z.strictObject({
  /** gloo on CPU, nccl on CUDA; auto picks by device. */
  backend: z.enum(['auto', 'gloo', 'nccl']).default('auto'),
  /** BatchNorm statistics over every rank's samples (PyTorch's SyncBatchNorm); default per-rank, as DDP. */
  syncBatchNorm: z.boolean().default(false),
  /** Gradient bucket size in MiB (DDP's bucket_cap_mb). */
  bucketCapMb: z.number().positive().default(25),
  /** Seconds a rendezvous or collective may wait before the job fails. */
  timeoutSeconds: z.number().positive().default(1800),
});
/** Parsed distributed options. */
export type DistributedConfig = z.output<typeof DistributedConfig>;

/** The options every run has, whatever its method; each method adds its own section (MethodDefinition.options). */
const commonRunOptions = {
  model: ModelConfig.prefault({}),
  data: DataConfig.prefault({}),
  optimizer: OptimizerConfig.prefault({}),
  // A step decay at fixed fractions of the run cannot be a static default, so cosine is.
  schedule: ScheduleConfig.prefault({ type: 'cosine' }),
  epochs: z.number().int().min(1).default(10),
  batchSize: z.number().int().min(1).default(128),
  evalBatchSize: z.number().int().min(1).default(512),
  seed: z.number().int().min(0).default(0),
  device: z
    .string()
    .regex(/^(cpu|cuda(:\d+)?)$/, { message: "'cpu', 'cuda' or 'cuda:<index>'" })
    .default('cpu'),
  /** Autocast of forward passes: bf16 (CPU or CUDA) or fp16 (CUDA, with loss scaling); fp32 by default. */
  precision: z.enum(['fp32', 'bf16', 'fp16']).default('fp32'),
  lossScale: LossScaleConfig.prefault({}),
  /** cuDNN autotuning of convolution algorithms (torch.backends.cudnn.benchmark); CUDA only. */
  cudnnBenchmark: z.boolean().default(false),
  /** Intra-op threads; 0 means one per core (LibTorch's own default here would be 1). */
  threads: z.number().int().min(0).default(0),
  /** Resource limits on outside input (docs/errors.md, E_LIMIT); unset ones keep their defaults. */
  limits: LimitsConfig.prefault({}),
  out: z.string().min(1).optional(),
  /** Teacher checkpoints, for the methods that read teachers. */
  teachers: z.array(z.string().min(1)).default([]),
  distributed: DistributedConfig.prefault({}),
  resume: z.boolean().default(false),
  /** With resume: continue although the method, its options, the optimizer or the schedule differ from the checkpoint's. */
  resumeWithChanges: z.boolean().default(false),
  /** Epochs between checkpoints. */
  checkpointEvery: z.number().int().min(1).default(1),
  /** Epochs between evaluations. */
  evalEvery: z.number().int().min(1).default(1),
};
const CommonRunConfig = z.strictObject(commonRunOptions);
/** The options every run has, parsed; with `method`, what the loop and every method may read. */
export type CommonRunConfig = z.output<typeof CommonRunConfig> & { method: string };

type Methods = (typeof METHODS)[number];
// A method with options carries them under its own name (`kd: {...}`); a run carries only its method's section.
type MethodSection<M, Mode extends 'in' | 'out'> = M extends { name: infer N extends string; options: infer O extends z.ZodType }
  ? { method: N } & (Mode extends 'out' ? { [K in N]: z.output<O> } : { [K in N]?: z.input<O> })
  : M extends { name: infer N extends string }
    ? { method: N }
    : never;

/** A parsed run configuration, defaults filled in: the common options and the chosen method's section. */
export type RunConfig = CommonRunConfig & MethodSection<Methods, 'out'>;
/** What a user may write for a run: defaulted fields optional. */
export type RunConfigInput = z.input<typeof CommonRunConfig> & MethodSection<Methods, 'in'>;

const variants = METHODS.map((method) =>
  CommonRunConfig.extend({
    method: z.literal(method.name),
    ...('options' in method ? { [method.name]: (method.options as z.ZodType).prefault({}) } : {}),
  }),
);
const replaying = METHODS.filter((m) => 'softLabels' in m).map((m) => `'${m.name}'`);

/** Everything a training or distillation run needs, derived from the method registry; `out` is resolved later from method and arch. */
export const RunConfig = z
  .discriminatedUnion('method', variants as unknown as [(typeof variants)[number], ...(typeof variants)[number][]])
  .refine((run) => run.data.softLabels === undefined || 'softLabels' in methodNamed(run.method)!, {
    path: ['data', 'softLabels'],
    message: `a soft-label cache is replayed by methods ${replaying.join(' and ')} (it stores the ensemble's outputs, not what other methods match)`,
  })
  .refine((run) => methodNamed(run.method)?.teachers !== 'required' || run.teachers.length > 0 || run.data.softLabels !== undefined, {
    path: ['teachers'],
    message: 'distillation needs at least one teacher checkpoint (e.g. --teachers a.ckpt,b.ckpt)',
    // Report this alongside unrelated errors; skip it only when the run, its method or teachers are themselves bad.
    when: ({ value, issues }) =>
      typeof value === 'object' &&
      value !== null &&
      !issues.some((issue) => issue.path?.[0] === 'method' || issue.path?.[0] === 'teachers'),
  })
  .refine((run) => run.precision !== 'fp16' || run.device.startsWith('cuda'), {
    path: ['precision'],
    message: 'fp16 autocast runs on CUDA devices only: use bf16 on CPU (or --device cuda)',
  })
  .refine((run) => methodNamed(run.method)?.teachers !== 'one' || run.teachers.length <= 1, {
    path: ['teachers'],
    message: 'this method looks inside one teacher: give exactly one',
  })
  .refine((run) => methodNamed(run.method)?.teachers !== 'none' || run.teachers.length === 0, {
    path: ['teachers'],
    message: "this method reads no teachers: leave 'teachers' out",
  }) as unknown as z.ZodType<RunConfig, RunConfigInput>;
