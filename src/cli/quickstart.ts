// `distillery quickstart`: runs the quickstart (src/pipelines/quickstart.ts) with progress and prints
// its table (or one JSON object with --json).
import type { QuickstartOptions } from '../config/commands.js';
import { quickstart } from '../pipelines/quickstart.js';
import { formatTable } from '../report/table.js';
import type { OutputOptions } from './options.js';
import { printResult } from './output.js';
import { runWithProgress } from './run-command.js';

function points(delta: number): string {
  return `${delta >= 0 ? '+' : ''}${(delta * 100).toFixed(2)} points`;
}

/** Runs the quickstart and prints its table (or one JSON object with --json). */
export async function quickstartCommand(options: QuickstartOptions, output: OutputOptions): Promise<void> {
  const result = await quickstart(options, (config, label) => runWithProgress(config, output, label));
  const { rows, kdGain, mealGain, seconds } = result;
  const table = formatTable(
    rows.map((r) => ({
      role: r.role,
      arch: r.arch,
      top1: r.top1 * 100,
      params: r.params,
      imagesPerSecond: r.imagesPerSecond === null ? null : Math.round(r.imagesPerSecond),
    })),
    [
      { key: 'role', header: 'model' },
      { key: 'arch' },
      { key: 'top1', header: 'top-1 %', decimals: 2 },
      { key: 'params' },
      { key: 'imagesPerSecond', header: 'train img/s' },
    ],
  );
  printResult(
    output,
    result,
    `\nFashion-MNIST test split (10,000 images), ${options.trainLimit} training images, ${options.teacherEpochs}/${options.studentEpochs} epochs:\n\n${table}\n\n` +
      `Gain over the student alone: KD ${points(kdGain)}, MEAL ${points(mealGain)}; ` +
      `${seconds.toFixed(0)} s in all. Runs in ${options.out}/`,
  );
}
