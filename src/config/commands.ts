import { z } from 'zod';

import { ConfigError } from './errors.js';

// Options of the commands that do not train (eval, convert) and of quickstart; validated like runs.

const device = z
  .string()
  .regex(/^(cpu|cuda(:\d+)?)$/, { message: "'cpu', 'cuda' or 'cuda:<index>'" })
  .default('cpu');
const count = z.coerce.number().int().min(0);

/** `distillery eval`: score checkpoints (several: their averaged-softmax ensemble). */
export const EvalOptions = z.object({
  dataDir: z.string().min(1).default('/usr/share/datasets/fashion-mnist'),
  batchSize: z.coerce.number().int().min(1).default(512),
  device,
  threads: count.default(0),
  arch: z.string().min(1).optional(),
  inChannels: z.coerce.number().int().positive().optional(),
  numClasses: z.coerce.number().int().positive().optional(),
  mean: z.array(z.number()).default([0.286]),
  std: z.array(z.number().positive()).default([0.353]),
});
/** Parsed eval options. */
export type EvalOptions = z.output<typeof EvalOptions>;

/** `distillery convert`: checkpoint <-> safetensors. */
export const ConvertOptions = z.object({
  arch: z.string().min(1).optional(),
  inChannels: z.coerce.number().int().positive().default(3),
  numClasses: z.coerce.number().int().positive().default(1000),
});
/** Parsed convert options. */
export type ConvertOptions = z.output<typeof ConvertOptions>;

/** `distillery export`: one branch of a ONE checkpoint as a plain network. */
export const ExportOptions = z.object({
  branch: z.coerce.number().int().min(1).default(1),
  out: z.string().min(1),
});
/** Parsed export options. */
export type ExportOptions = z.output<typeof ExportOptions>;

/** `distillery refine`: relabel (or prune) the training split with a teacher ensemble. */
export const RefineOptions = z.object({
  teachers: z
    .string()
    .transform((list) =>
      list
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string()).min(1, 'name at least one teacher checkpoint')),
  out: z.string().min(1),
  dataDir: z.string().min(1).default('/usr/share/datasets/fashion-mnist'),
  threshold: z.coerce.number().min(0).max(1).default(0.5),
  mode: z.enum(['relabel', 'drop']).default('relabel'),
  noiseType: z.enum(['symmetric', 'pairflip']).default('symmetric'),
  noiseRate: z.coerce.number().min(0).max(1).optional(),
  noiseSeed: count.default(0),
  batchSize: z.coerce.number().int().min(1).default(512),
  device,
  threads: count.default(0),
  mean: z.array(z.number()).default([0.286]),
  std: z.array(z.number().positive()).default([0.353]),
});
/** Parsed refine options. */
export type RefineOptions = z.output<typeof RefineOptions>;

/** `distillery bench-loader`: how fast the native loader turns image files into batches. */
export const BenchLoaderOptions = z
  .object({
    data: z.string().min(1).optional(),
    list: z.string().min(1).optional(),
    threads: count.default(0),
    batchSize: z.coerce.number().int().min(1).default(256),
    size: z.coerce.number().int().min(1).default(224),
    resize: z.coerce.number().int().min(1).default(256),
    eval: z.boolean().default(false),
    dctScaling: z.boolean().default(true),
    images: count.optional(),
    epochs: z.coerce.number().int().min(1).default(1),
    skipBadFiles: z.boolean().default(false),
  })
  .refine((o) => o.data !== undefined || o.list !== undefined, {
    message: 'name the images: --data DIR (an ImageFolder tree) or --list FILE',
    path: ['data'],
  });
/** Parsed bench-loader options. */
export type BenchLoaderOptions = z.output<typeof BenchLoaderOptions>;

/** `distillery launch`: one process per rank, with the environment PyTorch's launchers set. */
export const LaunchOptions = z
  .object({
    nprocPerNode: z.coerce.number().int().min(1),
    nnodes: z.coerce.number().int().min(1).default(1),
    nodeRank: z.coerce.number().int().min(0).default(0),
    masterAddr: z.string().min(1).default('127.0.0.1'),
    masterPort: z.coerce.number().int().min(1).max(65535).default(29500),
  })
  .refine((o) => o.nodeRank < o.nnodes, { message: 'must be below --nnodes (nodes are numbered 0 to nnodes - 1)', path: ['nodeRank'] });
/** Parsed launch options. */
export type LaunchOptions = z.output<typeof LaunchOptions>;

/** `distillery cache-teachers`: the teacher ensemble's soft labels on K crops of every training image. */
export const CacheTeachersOptions = z.object({
  teachers: z
    .string()
    .transform((list) =>
      list
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string()).min(1, 'name at least one teacher checkpoint')),
  data: z.string().min(1),
  list: z.string().min(1).optional(),
  out: z.string().min(1),
  crops: z.coerce.number().int().min(1).default(4),
  topK: z.coerce.number().int().min(1).max(65535).default(5),
  temperature: z.coerce.number().positive().default(4),
  logits: z.boolean().default(false),
  perTeacher: z.boolean().default(false),
  seed: count.default(0),
  imageSize: z.coerce.number().int().min(1).default(224),
  noFlip: z.boolean().default(false),
  batchSize: z.coerce.number().int().min(1).default(256),
  device,
  threads: count.default(0),
  workers: count.default(0),
});
/** Parsed cache-teachers options. */
export type CacheTeachersOptions = z.output<typeof CacheTeachersOptions>;

/** `distillery quickstart`: the end-to-end demonstration on the embedded defaults. */
export const QuickstartOptions = z.object({
  out: z.string().min(1).default('runs/quickstart'),
  dataDir: z.string().min(1).default('/usr/share/datasets/fashion-mnist'),
  teachers: z.string().default('resnet20,resnet14'),
  student: z.string().min(1).default('resnet8'),
  teacherEpochs: z.coerce.number().int().min(1).default(4),
  studentEpochs: z.coerce.number().int().min(1).default(4),
  trainLimit: z.coerce.number().int().min(1).default(20000),
  device,
  threads: count.default(0),
  seed: count.default(0),
  resume: z.boolean().default(true),
});
/** Parsed quickstart options. */
export type QuickstartOptions = z.output<typeof QuickstartOptions>;

/** Parses command options with `schema`, reporting every bad one as a ConfigError naming its flag. */
export function parseCommandOptions<T extends z.ZodType>(schema: T, options: Record<string, unknown>): z.output<T> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.');
      const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      return `${flag}: ${issue.message}`;
    }),
  );
}
