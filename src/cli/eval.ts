// `distillery eval`: top-1/top-5/loss of a checkpoint, or of several as an averaged ensemble.
import type { EvalOptions } from '../config/commands.js';
import { setThreads } from '../runtime.js';
import { evaluateCheckpoints } from '../train/evaluate.js';
import type { OutputOptions } from './options.js';
import { percent, printResult } from './output.js';

/** Evaluates `paths` on the test split and prints the result. */
export async function evalCommand(paths: string[], options: EvalOptions, output: OutputOptions): Promise<void> {
  setThreads(options.threads);
  const result = await evaluateCheckpoints(paths, options);
  printResult(
    output,
    { ...result, checkpoints: paths },
    `${paths.length > 1 ? `ensemble of ${paths.length}` : paths[0]}: top-1 ${percent(result.top1)}, top-5 ${percent(result.top5)}, loss ${result.loss.toFixed(4)} on ${result.count} test images`,
  );
}
