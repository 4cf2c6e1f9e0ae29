// `distillery eval`: top-1/top-5/loss of a checkpoint, or of several as an averaged ensemble.
import type { EvalOptions } from '../config/commands.js';
import { Dataset, Loader } from '../data/dataset.js';
import { loadModel, trainedNormalization } from '../io/checkpoint.js';
import type { Model } from '../models/model.js';
import { setThreads } from '../runtime.js';
import { evaluate } from '../train/evaluate.js';
import type { OutputOptions } from './options.js';
import { percent, printResult } from './output.js';

/** Evaluates `paths` on the test split and prints the result. */
export async function evalCommand(paths: string[], options: EvalOptions, output: OutputOptions): Promise<void> {
  setThreads(options.threads);
  const dataset = await Dataset.loadIdx(options.dataDir, 'test');
  const spec = options.arch
    ? { arch: options.arch, inChannels: options.inChannels ?? dataset.info.shape[0], numClasses: options.numClasses ?? dataset.info.numClasses }
    : undefined;
  // Score with the normalisation the (first) model was trained with, when its checkpoint says.
  const normalization = paths[0] === undefined ? undefined : trainedNormalization(paths[0]);
  const models: Model[] = [];
  const loader = new Loader(dataset, {
    batchSize: options.batchSize, shuffle: false, dropLast: false, seed: 0, pad: 0, flip: false, workers: 0, prefetch: 2,
    mean: normalization?.mean ?? options.mean, std: normalization?.std ?? options.std,
  });
  try {
    for (const path of paths) models.push(await loadModel(path, options.device, spec));
    const result = await evaluate(models, loader);
    const params = models.reduce((sum, m) => sum + m.parameterCount, 0);
    printResult(
      output,
      { ...result, params, checkpoints: paths, archs: models.map((m) => m.spec.arch) },
      `${paths.length > 1 ? `ensemble of ${paths.length}` : paths[0]}: top-1 ${percent(result.top1)}, top-5 ${percent(result.top5)}, loss ${result.loss.toFixed(4)} on ${result.count} test images`,
    );
  } finally {
    for (const m of models) m.dispose();
    loader.dispose();
  }
}
