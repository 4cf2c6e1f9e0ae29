// The quickstart: small teachers trained on Fashion-MNIST, a smaller student distilled with Hinton KD
// and with MEAL, and teachers, their ensemble, the student alone and the distilled students side by
// side. The CLI (`distillery quickstart`) only prints what this returns.
import { join } from 'node:path';

import type { QuickstartOptions } from '../config/commands.js';
import { DATASET_DEFAULTS } from '../config/datasets.js';
import type { ResolvedRunConfig } from '../config/load.js';
import { buildConfig } from '../config/load.js';
import type { ConfigPatch } from '../config/merge.js';
import { createRun } from '../methods/registry.js';
import { evaluateCheckpoints } from '../train/evaluate.js';
import type { RunResult } from '../train/run.js';

/** One line of the quickstart table. */
export interface QuickstartRow {
  role: string;
  arch: string;
  top1: number;
  params: number;
  imagesPerSecond: number | null;
  checkpoint: string | null;
}

function row(role: string, result: RunResult): QuickstartRow {
  return {
    role,
    arch: result.arch,
    top1: result.top1,
    params: result.params,
    imagesPerSecond: result.imagesPerSecond,
    checkpoint: result.checkpoint,
  };
}

async function ensembleTop1(checkpoints: string[], options: QuickstartOptions): Promise<number> {
  const { mean, std } = DATASET_DEFAULTS['fashion-mnist'];
  return (await evaluateCheckpoints(checkpoints, { dataDir: options.dataDir, device: options.device, batchSize: 512, mean, std })).top1;
}

/** What the quickstart measured. */
export interface QuickstartResult {
  rows: QuickstartRow[];
  /** Top-1 of the KD and MEAL students minus the student trained alone (fractions). */
  kdGain: number;
  mealGain: number;
  seconds: number;
}

/** Runs `config` labelled `label` (the CLI shows progress); the default just executes it. */
export type RunExecutor = (config: ResolvedRunConfig, label: string) => Promise<RunResult>;

/**
 * The quickstart: teachers trained on Fashion-MNIST, their ensemble scored, the student trained
 * alone, with KD and with MEAL; finished runs in `options.out` are reused when `options.resume`.
 */
export async function quickstart(
  options: QuickstartOptions,
  execute: RunExecutor = (config) => createRun(config).execute(),
): Promise<QuickstartResult> {
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
  for (const [i, arch] of options.teachers
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
    .entries()) {
    const config = buildConfig(undefined, {
      ...base(arch, options.teacherEpochs, options.seed + i, `teacher-${i + 1}-${arch}`),
      method: 'supervised',
    });
    teachers.push(await execute(config, `teacher ${arch}`));
  }
  const teacherCheckpoints = teachers.map((t) => t.checkpoint);
  const ensemble = await ensembleTop1(teacherCheckpoints, options);
  const alone = await execute(
    buildConfig(undefined, {
      ...base(options.student, options.studentEpochs, options.seed, `student-${options.student}`),
      method: 'supervised',
    }),
    `student ${options.student}`,
  );
  const distilled = await execute(
    buildConfig(undefined, {
      ...base(options.student, options.studentEpochs, options.seed, `kd-${options.student}`),
      method: 'kd',
      teachers: teacherCheckpoints,
      // Measured on this 4-epoch schedule (docs/methods.md): the CIFAR weights 0.1/0.9 lose 0.06
      // points to the student alone, 0.5/0.5 gain 0.57.
      kd: { temperature: 4, ceWeight: 0.5, kdWeight: 0.5 },
    }),
    `KD student ${options.student}`,
  );
  const meal = await execute(
    buildConfig(undefined, {
      ...base(options.student, options.studentEpochs, options.seed, `meal-${options.student}`),
      method: 'meal',
      teachers: teacherCheckpoints,
      // Measured (docs/methods.md, four seeds of bench/meal-accuracy.mjs): averaged teachers plus
      // the labels at KD's weight is the best and steadiest MEAL recipe on short schedules.
      meal: { teacherSelection: 'average', ceWeight: 0.5 },
    }),
    `MEAL student ${options.student}`,
  );

  const rows: QuickstartRow[] = [
    ...teachers.map((t, i) => row(`teacher ${i + 1}`, t)),
    {
      role: 'teacher ensemble',
      arch: teachers.map((t) => t.arch).join('+'),
      top1: ensemble,
      params: teachers.reduce((s, t) => s + t.params, 0),
      imagesPerSecond: null,
      checkpoint: null,
    },
    row('student alone', alone),
    row('student + KD', distilled),
    row('student + MEAL', meal),
  ];
  return { rows, kdGain: distilled.top1 - alone.top1, mealGain: meal.top1 - alone.top1, seconds: (performance.now() - started) / 1000 };
}
