// Scores one model or an averaged-softmax ensemble over a whole loader.
import type { Loader } from '../data/dataset.js';
import type { Model } from '../models/model.js';
import { native } from '../native.js';

/** Accuracy (fractions in [0, 1]) and mean NLL over every sample the loader yields. */
export interface Evaluation {
  top1: number;
  top5: number;
  loss: number;
  count: number;
}

/** Evaluates `models` (one, or several averaged) over one pass of `loader`. */
export async function evaluate(models: Model[], loader: Loader): Promise<Evaluation> {
  const addon = native();
  const handles = models.map((m) => m.handle);
  let lossSum = 0;
  let top1 = 0;
  let top5 = 0;
  let count = 0;
  for await (const batch of loader.epoch(0)) {
    try {
      const stats = await addon.evaluate(handles, batch);
      lossSum += stats.lossSum;
      top1 += stats.top1;
      top5 += stats.top5;
      count += stats.count;
    } finally {
      batch.dispose();
    }
  }
  return { top1: top1 / count, top5: top5 / count, loss: lossSum / count, count };
}
