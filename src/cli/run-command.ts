// `train` and `distill`: one TrainingRun with progress on stderr and a result on stdout.
import type { ResolvedRunConfig } from '../config/load.js';
import { processRank } from '../distributed/environment.js';
import { DistilleryError } from '../errors.js';
import { createProgressReporter } from '../report/progress.js';
import { formatTable } from '../report/table.js';
import type { RunResult, TrainingRun } from '../train/run.js';
import { createRun } from '../methods/registry.js';
import type { OutputOptions } from './options.js';
import { percent, printResult } from './output.js';

/** Runs `config` with a progress display; returns the run's result. */
export async function runWithProgress(config: ResolvedRunConfig, output: OutputOptions, label = config.model.arch): Promise<RunResult> {
  return executeWithProgress(createRun(config), output, label);
}

/** Executes `run` with a progress display (Ctrl-C stops after the epoch's checkpoint); returns its result. */
export async function executeWithProgress(run: TrainingRun, output: OutputOptions, label = run.config.model.arch): Promise<RunResult> {
  const config = run.config;
  // Under `distillery launch` only rank 0 reports; the others train silently.
  const progress = createProgressReporter({ quiet: output.quiet === true || processRank() !== 0 });
  let images = 0;
  run.on('step', (e) => {
    if (e.batch === 1) {
      images = 0;
      progress.begin(`${label} epoch ${e.epoch + 1}/${config.epochs}`, e.batches);
    }
    images += e.images;
    progress.update({ step: e.batch, images, loss: e.loss });
    if (e.batch === e.batches) progress.end();
  });
  run.on('eval', (e) =>
    progress.note(`${label} epoch ${e.epoch + 1}: test top-1 ${percent(e.top1)}, top-5 ${percent(e.top5)}, loss ${e.loss.toFixed(4)}`),
  );
  run.on('log', (e) => progress.note(e.message));
  // First Ctrl-C: finish the epoch and write its checkpoint (resume continues there); second: quit now,
  // which is safe too since checkpoints are replaced atomically.
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    run.requestStop();
    progress.note("stopping after this epoch's checkpoint (Ctrl-C again to quit now)");
  };
  process.on('SIGINT', onSignal);
  let result: RunResult;
  try {
    result = await run.execute();
  } finally {
    process.off('SIGINT', onSignal);
  }
  if (stopping && result.epochs < config.epochs) {
    throw new DistilleryError(
      `interrupted after epoch ${result.epochs} of ${config.epochs}; ${result.checkpoint} holds it: run the same command with --resume to continue`,
      'E_INTERRUPTED',
    );
  }
  return result;
}

/** Teachers, their ensemble and the student (or every output of a ONE student) side by side, for a run's summary. */
function comparison(result: RunResult): string {
  const rows = [
    ...(result.teachers ?? []).map((t, i) => ({ model: `teacher ${i + 1}`, arch: t.arch, top1: t.top1 * 100, top5: t.top5 * 100 })),
    ...(result.teachers && result.ensemble
      ? [
          {
            model: 'teacher ensemble',
            arch: result.teachers.map((t) => t.arch).join('+'),
            top1: result.ensemble.top1 * 100,
            top5: result.ensemble.top5 * 100,
          },
        ]
      : []),
    ...(result.outputs ?? []).map((o) => ({
      model: `${result.method} ${o.name}`,
      arch: result.arch,
      top1: o.top1 * 100,
      top5: o.top5 * 100,
    })),
  ];
  if (rows.length === 0) return '';
  if (!result.outputs)
    rows.push({ model: `student (${result.method})`, arch: result.arch, top1: result.top1 * 100, top5: result.top5 * 100 });
  const table = formatTable(rows, [
    { key: 'model' },
    { key: 'arch' },
    { key: 'top1', header: 'top-1 %', decimals: 2 },
    { key: 'top5', header: 'top-5 %', decimals: 2 },
  ]);
  return `\n${table}\n`;
}

/** Executes a train/distill command and prints its result. */
export async function runCommand(config: ResolvedRunConfig, output: OutputOptions): Promise<void> {
  const result = await runWithProgress(config, output);
  if (processRank() !== 0) return;
  printResult(
    output,
    result,
    `${comparison(result)}${result.method} ${result.arch}: top-1 ${percent(result.top1)}, top-5 ${percent(result.top5)}, ` +
      `${result.params} params, ${result.imagesPerSecond.toFixed(0)} img/s, ${result.seconds.toFixed(1)} s; checkpoint ${result.checkpoint}`,
  );
}
