import { ConfigError } from './errors.js';
import { type ConfigPatch, mergeConfig } from './merge.js';

/** How a flag's value is parsed; "switch" flags take no value. */
export type FlagKind = 'int' | 'number' | 'count' | 'string' | 'list' | 'switch';

/** A CLI flag that sets one configuration value; the CLI registers its options from these. */
export interface ConfigFlag {
  /** As typed on the command line, e.g. "--batch-size". */
  readonly flag: string;
  /** The key commander stores the flag's value under, e.g. "batchSize". */
  readonly key: string;
  /** The dotted config path the flag sets, e.g. "optimizer.lr". */
  readonly path: string;
  readonly kind: FlagKind;
  readonly description: string;
}

/** A flag `flag` (e.g. "--batch-size") that sets the config value at `path`. */
export function configFlag(flag: string, path: string, kind: FlagKind, description: string): ConfigFlag {
  const key = flag.slice(2).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  return { flag, key, path, kind, description };
}

/** The flags every run command takes, in help order; each method adds its own (MethodDefinition.flags). */
export const CONFIG_FLAGS: readonly ConfigFlag[] = [
  configFlag('--arch', 'model.arch', 'string', 'network architecture (e.g. resnet20)'),
  configFlag('--dataset', 'data.dataset', 'string', 'fashion-mnist, mnist, idx, cifar10, cifar100 or imagefolder'),
  configFlag('--data-dir', 'data.dataDir', 'string', 'directory holding the dataset files (imagefolder: train/ and val/)'),
  configFlag('--image-size', 'data.image.size', 'int', 'imagefolder: training crop and evaluation crop size (default 224)'),
  configFlag('--bad-files', 'data.badFiles', 'string', 'imagefolder: error (default) or skip unreadable image files'),
  configFlag(
    '--channels-last',
    'data.channelsLast',
    'switch',
    "batches and the student's convolution weights laid out NHWC (PyTorch's channels_last)",
  ),
  configFlag(
    '--soft-labels',
    'data.softLabels',
    'string',
    'imagefolder + kd: replay a teacher soft-label cache (distillery cache-teachers) instead of running teachers',
  ),
  configFlag('--train-limit', 'data.trainLimit', 'int', 'train on a seeded subset of this many images'),
  configFlag('--noise-type', 'data.labelNoise.type', 'string', 'label noise: symmetric or pairflip'),
  configFlag('--noise-rate', 'data.labelNoise.rate', 'number', 'fraction of training labels to flip (noisy-data experiments)'),
  configFlag('--noise-seed', 'data.labelNoise.seed', 'int', 'seed choosing the flipped labels'),
  configFlag('--labels', 'data.labels', 'string', 'train on a labels file written by `distillery refine`'),
  configFlag('--epochs', 'epochs', 'int', 'training epochs'),
  configFlag('--batch-size', 'batchSize', 'int', 'training batch size'),
  configFlag('--optimizer', 'optimizer.type', 'string', 'sgd or adamw'),
  configFlag('--lr', 'optimizer.lr', 'number', 'learning rate'),
  configFlag('--momentum', 'optimizer.momentum', 'number', 'SGD momentum'),
  configFlag('--weight-decay', 'optimizer.weightDecay', 'number', 'weight decay'),
  configFlag('--schedule', 'schedule.type', 'string', 'constant, step, multistep, cosine or onecycle'),
  configFlag('--seed', 'seed', 'int', 'random seed'),
  configFlag('--device', 'device', 'string', 'cpu, cuda or cuda:<index>'),
  configFlag('--threads', 'threads', 'int', 'intra-op threads (0: one per core)'),
  configFlag('--cudnn-benchmark', 'cudnnBenchmark', 'switch', 'CUDA: let cuDNN pick the fastest convolution algorithms'),
  configFlag('--precision', 'precision', 'string', 'fp32, bf16 (autocast, CPU or CUDA) or fp16 (autocast + loss scaling, CUDA)'),
  configFlag(
    '--sync-batch-norm',
    'distributed.syncBatchNorm',
    'switch',
    'distributed: BatchNorm statistics over every rank (SyncBatchNorm)',
  ),
  configFlag('--dist-backend', 'distributed.backend', 'string', 'distributed: auto, gloo (CPU) or nccl (CUDA)'),
  configFlag('--out', 'out', 'string', 'output directory (default runs/<method>-<arch>)'),
  configFlag('--teachers', 'teachers', 'list', 'comma-separated teacher checkpoints'),
  configFlag('--init', 'model.init', 'string', 'initial student weights (checkpoint or safetensors)'),
  configFlag('--arch-spec', 'model.archSpec', 'string', 'a student found by `distillery search` (found.json): its architecture'),
  configFlag('--resume', 'resume', 'switch', 'continue from the last checkpoint in the output directory'),
  configFlag(
    '--resume-with-changes',
    'resumeWithChanges',
    'switch',
    "resume although the method, its options, the optimizer or the schedule differ from the checkpoint's (a new optimizer type starts with fresh state)",
  ),
];

/**
 * Turns parsed CLI options (commander's camelCase keys) into a partial config, reading the common
 * flags and `extra` (the run's method's); other keys are ignored. Throws ConfigError naming every
 * flag whose value is malformed.
 */
export function flagsToConfig(
  flags: Readonly<Record<string, string | boolean | undefined>>,
  extra: readonly ConfigFlag[] = [],
): ConfigPatch {
  let patch: ConfigPatch = {};
  const problems: string[] = [];
  for (const spec of [...CONFIG_FLAGS, ...extra]) {
    const raw = flags[spec.key];
    if (raw === undefined) continue;
    const parsed = parseValue(spec, raw);
    if ('problem' in parsed) problems.push(`${spec.flag}: ${parsed.problem}`);
    else patch = mergeConfig(patch, nest(spec.path, parsed.value));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return patch;
}

type Parsed = { value: number | string | boolean | string[] } | { problem: string };

// Strict: the whole string must be the number, so "10x", "" and "0x10" are rejected (Number() accepts some).
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const INTEGER = /^[+-]?\d+$/;
const COUNT = /^(\d+\.?\d*|\.\d+)([kmg]?)$/i;
const COUNT_WITH_EXPONENT = /^(\d+\.?\d*(?:e\d+)?)([kmg]?)$/i;
const SUFFIX: Readonly<Record<string, number>> = { '': 1, K: 1e3, M: 1e6, G: 1e9 };

/** A count such as 20000, 1.5M or 2K (and 4e8 with `exponent`); undefined when `text` is not one. */
export function parseCount(text: string, exponent = false): number | undefined {
  const match = (exponent ? COUNT_WITH_EXPONENT : COUNT).exec(text.trim());
  return match && Number.isFinite(Number(match[1])) ? Number(match[1]) * SUFFIX[(match[2] ?? '').toUpperCase()]! : undefined;
}

function parseValue(spec: ConfigFlag, raw: string | boolean): Parsed {
  if (spec.kind === 'switch') {
    if (typeof raw === 'boolean') return { value: raw };
    if (raw === 'true' || raw === 'false') return { value: raw === 'true' };
    return { problem: `expected no value, true or false, got '${raw}'` };
  }
  if (typeof raw === 'boolean') return { problem: 'expected a value' };
  const text = raw.trim();
  switch (spec.kind) {
    case 'int':
      return INTEGER.test(text) && Number.isSafeInteger(Number(text))
        ? { value: Number(text) }
        : { problem: `expected an integer, got '${raw}'` };
    case 'number':
      return DECIMAL.test(text) && Number.isFinite(Number(text)) ? { value: Number(text) } : { problem: `expected a number, got '${raw}'` };
    case 'count': {
      const value = parseCount(text);
      return value !== undefined ? { value } : { problem: `expected a number with an optional K, M or G suffix, got '${raw}'` };
    }
    case 'list': {
      const items = text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
      return items.length > 0 ? { value: items } : { problem: 'expected a comma-separated list, got nothing' };
    }
    case 'string':
      return text.length > 0 ? { value: text } : { problem: 'expected a value, got an empty string' };
  }
}

function nest(path: string, value: unknown): ConfigPatch {
  const [head, ...rest] = path.split('.');
  return { [head!]: rest.length === 0 ? value : nest(rest.join('.'), value) };
}
