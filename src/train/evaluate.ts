// Scores one model or an averaged-softmax ensemble over a whole loader.
import type { Batch } from '../data/dataset.js';
import { nonEmpty } from '../data/open.js';
import { Dataset, Loader } from '../data/dataset.js';
import type { ProcessGroup } from '../distributed/process-group.js';
import { loadModel, trainedNormalization } from '../io/checkpoint.js';
import type { Model, ModelSpec } from '../models/model.js';
import type { EvalStats } from '../native.js';
import { native } from '../native.js';

/** Accuracy (fractions in [0, 1]) and mean NLL over every sample the loader yields. */
export interface Evaluation {
  top1: number;
  top5: number;
  loss: number;
  count: number;
}

/**
 * Sums per-batch stats of several outputs over one pass of `loader` into per-output evaluations;
 * with `group`, each rank's loader holds its shard and the sums are added over the ranks.
 */
async function accumulate(
  loader: Loader,
  outputs: number,
  score: (batch: Batch) => Promise<EvalStats[]>,
  group?: ProcessGroup,
): Promise<Evaluation[]> {
  const sums = Array.from({ length: outputs }, () => ({ lossSum: 0, top1: 0, top5: 0, count: 0 }));
  for await (const batch of loader.epoch(0)) {
    try {
      (await score(batch)).forEach((s, i) => {
        const sum = sums[i]!;
        sum.lossSum += s.lossSum;
        sum.top1 += s.top1;
        sum.top5 += s.top5;
        sum.count += s.count;
      });
    } finally {
      batch.dispose();
    }
  }
  if (group) {
    const total = await group.allReduce(sums.flatMap((s) => [s.lossSum, s.top1, s.top5, s.count]));
    sums.forEach((s, i) => {
      [s.lossSum, s.top1, s.top5, s.count] = [total[4 * i]!, total[4 * i + 1]!, total[4 * i + 2]!, total[4 * i + 3]!];
    });
  }
  return sums.map((s) => ({ top1: s.top1 / s.count, top5: s.top5 / s.count, loss: s.lossSum / s.count, count: s.count }));
}

/** Evaluates `models` (one, or several averaged) over one pass of `loader` (a shard of it per rank, with `group`). */
export async function evaluate(models: Model[], loader: Loader, group?: ProcessGroup): Promise<Evaluation> {
  const addon = native();
  const handles = models.map((m) => m.handle);
  const [result] = await accumulate(loader, 1, async (batch) => [await addon.evaluate(handles, batch)], group);
  return result!;
}

/** Evaluates every output of `model` (ONE: each branch, then the gated ensemble) over one pass of `loader`. */
export async function evaluateOutputs(model: Model, loader: Loader, group?: ProcessGroup): Promise<(Evaluation & { name: string })[]> {
  const addon = native();
  const names = model.outputNames;
  const results = await accumulate(loader, names.length, (batch) => addon.evaluateOutputs(model.handle, batch), group);
  return results.map((r, i) => ({ ...r, name: names[i]! }));
}

/** Evaluates each of `models`, then their averaged-softmax ensemble (last), in one pass with one forward per model. */
export async function evaluateMembers(models: Model[], loader: Loader, group?: ProcessGroup): Promise<Evaluation[]> {
  const addon = native();
  const handles = models.map((m) => m.handle);
  return accumulate(loader, models.length + 1, (batch) => addon.evaluateMembers(handles, batch), group);
}

/** Where and how to score checkpoints: the test split of `dataDir`. */
export interface CheckpointEvaluationOptions {
  dataDir: string;
  device: string;
  batchSize: number;
  /** Used when the first checkpoint does not record the normalisation it was trained with. */
  mean: number[];
  std: number[];
  /** The network of safetensors files that do not say; `inChannels`/`numClasses` default to the dataset's. */
  arch?: string;
  inChannels?: number;
  numClasses?: number;
}

/** Scores checkpoints (several: their averaged-softmax ensemble) on the test split. */
export async function evaluateCheckpoints(
  paths: string[],
  options: CheckpointEvaluationOptions,
): Promise<Evaluation & { params: number; archs: string[] }> {
  const dataset = nonEmpty(await Dataset.loadIdx(options.dataDir, 'test'), 'test', options.dataDir);
  const spec: ModelSpec | undefined = options.arch
    ? {
        arch: options.arch,
        inChannels: options.inChannels ?? dataset.info.shape[0],
        numClasses: options.numClasses ?? dataset.info.numClasses,
      }
    : undefined;
  const normalization = paths[0] === undefined ? undefined : trainedNormalization(paths[0]);
  const loader = Loader.forEvaluation(dataset, {
    batchSize: options.batchSize,
    mean: normalization?.mean ?? options.mean,
    std: normalization?.std ?? options.std,
  });
  const models: Model[] = [];
  try {
    for (const path of paths) models.push(await loadModel(path, options.device, spec));
    const result = await evaluate(models, loader);
    return { ...result, params: models.reduce((sum, m) => sum + m.parameterCount, 0), archs: models.map((m) => m.spec.arch) };
  } finally {
    for (const m of models) m.dispose();
    loader.dispose();
    dataset.dispose();
  }
}
