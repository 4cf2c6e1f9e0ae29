// `distillery refine`: a teacher ensemble relabels (or prunes) the training split into a labels file.
import type { RefineOptions } from '../config/commands.js';
import { refineLabels } from '../pipelines/refine.js';
import { setThreads } from '../runtime.js';
import type { OutputOptions } from './options.js';
import { percent, printResult } from './output.js';

/** Runs the refinement and prints what changed. */
export async function refineCommand(options: RefineOptions, output: OutputOptions): Promise<void> {
  setThreads(options.threads);
  const labelNoise =
    options.noiseRate === undefined ? undefined : { type: options.noiseType, rate: options.noiseRate, seed: options.noiseSeed };
  const result = await refineLabels({ ...options, ...(labelNoise ? { labelNoise } : {}) });
  const accuracy =
    result.givenAccuracy === undefined
      ? ''
      : `; correct labels ${percent(result.givenAccuracy)} given -> ${percent(result.refinedAccuracy ?? 0)} kept`;
  printResult(
    output,
    result,
    `${result.path}: ${result.samples} samples, ensemble agrees with ${percent(result.agreement)}; ` +
      `${result.relabelled} relabelled, ${result.dropped} dropped, ${result.kept} kept${accuracy}. Train on it with --labels ${result.path}`,
  );
}
