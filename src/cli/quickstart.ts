// `distillery quickstart`: trains small teachers on Fashion-MNIST, distills a smaller student with
// Hinton KD and with MEAL, and prints teachers, their ensemble, the student alone and the distilled
// students side by side.
import { join } from 'node:path';

import type { QuickstartOptions } from '../config/commands.js';
import { DATASET_DEFAULTS } from '../config/datasets.js';
import { buildConfig } from '../config/load.js';
import type { ConfigPatch } from '../config/merge.js';
import { formatTable } from '../report/table.js';
import { evaluateCheckpoints } from '../train/evaluate.js';
import type { RunResult } from '../train/run.js';
import type { OutputOptions } from './options.js';
import { printResult } from './output.js';
import { runWithProgress } from './run-command.js';

interface Row {
  role: string;
  arch: string;
  top1: number;
  params: number;
  imagesPerSecond: number | null;
  checkpoint: string | null;
}

function points(delta: number): string {
  return `${delta >= 0 ? '+' : ''}${(delta * 100).toFixed(2)} points`;
}

function row(role: string, result: RunResult): Row {
  return { role, arch: result.arch, top1: result.top1, params: result.params, imagesPerSecond: result.imagesPerSecond, checkpoint: result.checkpoint };
}

async function ensembleTop1(checkpoints: string[], options: QuickstartOptions): Promise<number> {
  const { mean, std } = DATASET_DEFAULTS['fashion-mnist'];
  return (await evaluateCheckpoints(checkpoints, { dataDir: options.dataDir, device: options.device, batchSize: 512, mean, std })).top1;
}

/** Runs the quickstart and prints its table (or one JSON object with --json). */
export async function quickstartCommand(options: QuickstartOptions, output: OutputOptions): Promise<void> {
  const started = performance.now();
  const base = (arch: string, epochs: number, seed: number, out: string): ConfigPatch => ({
    model: { arch },
    data: { dataDir: options.dataDir, trainLimit: options.trainLimit },
    epochs,
    seed,
    device: options.device,
    threads: options.threads,
    out: join(options.out, out),
    resume: options.resume,
  });
  const teachers: RunResult[] = [];
  for (const [i, arch] of options.teachers.split(',').map((a) => a.trim()).filter(Boolean).entries()) {
    const config = buildConfig(undefined, { ...base(arch, options.teacherEpochs, options.seed + i, `teacher-${i + 1}-${arch}`), method: 'supervised' });
    teachers.push(await runWithProgress(config, output, `teacher ${arch}`));
  }
  const teacherCheckpoints = teachers.map((t) => t.checkpoint);
  const ensemble = await ensembleTop1(teacherCheckpoints, options);
  const alone = await runWithProgress(
    buildConfig(undefined, { ...base(options.student, options.studentEpochs, options.seed, `student-${options.student}`), method: 'supervised' }),
    output,
    `student ${options.student}`,
  );
  const distilled = await runWithProgress(
    buildConfig(undefined, {
      ...base(options.student, options.studentEpochs, options.seed, `kd-${options.student}`),
      method: 'kd',
      teachers: teacherCheckpoints,
      // Measured on this 4-epoch schedule (docs/methods.md): the CIFAR weights 0.1/0.9 lose 0.06
      // points to the student alone, 0.5/0.5 gain 0.57.
      kd: { temperature: 4, ceWeight: 0.5, kdWeight: 0.5 },
    }),
    output,
    `KD student ${options.student}`,
  );
  const meal = await runWithProgress(
    buildConfig(undefined, {
      ...base(options.student, options.studentEpochs, options.seed, `meal-${options.student}`),
      method: 'meal',
      teachers: teacherCheckpoints,
      // Measured (docs/methods.md, four seeds of bench/meal-accuracy.mjs): averaged teachers plus
      // the labels at KD's weight is the best and steadiest MEAL recipe on short schedules.
      meal: { teacherSelection: 'average', ceWeight: 0.5 },
    }),
    output,
    `MEAL student ${options.student}`,
  );

  const rows: Row[] = [
    ...teachers.map((t, i) => row(`teacher ${i + 1}`, t)),
    { role: 'teacher ensemble', arch: teachers.map((t) => t.arch).join('+'), top1: ensemble, params: teachers.reduce((s, t) => s + t.params, 0), imagesPerSecond: null, checkpoint: null },
    row('student alone', alone),
    row('student + KD', distilled),
    row('student + MEAL', meal),
  ];
  const table = formatTable(
    rows.map((r) => ({ role: r.role, arch: r.arch, top1: r.top1 * 100, params: r.params, imagesPerSecond: r.imagesPerSecond === null ? null : Math.round(r.imagesPerSecond) })),
    [
      { key: 'role', header: 'model' },
      { key: 'arch' },
      { key: 'top1', header: 'top-1 %', decimals: 2 },
      { key: 'params' },
      { key: 'imagesPerSecond', header: 'train img/s' },
    ],
  );
  const seconds = (performance.now() - started) / 1000;
  printResult(
    output,
    { rows, kdGain: distilled.top1 - alone.top1, mealGain: meal.top1 - alone.top1, seconds },
    `\nFashion-MNIST test split (10,000 images), ${options.trainLimit} training images, ${options.teacherEpochs}/${options.studentEpochs} epochs:\n\n${table}\n\n` +
      `Gain over the student alone: KD ${points(distilled.top1 - alone.top1)}, MEAL ${points(meal.top1 - alone.top1)}; ` +
      `${seconds.toFixed(0)} s in all. Runs in ${options.out}/`,
  );
}
