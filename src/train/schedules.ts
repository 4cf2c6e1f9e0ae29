import { z } from 'zod';
import { ConfigError } from '../config/errors.js';

// Warmup follows torch's SequentialLR([LinearLR(start_factor, total_iters=W), main], milestones=[W]):
// the main schedule starts afresh after W warmup steps and spans only the remaining steps, and
// LinearLR forbids a start factor of 0, so the default is LinearLR's own 1/3.
const warmup = {
  warmupEpochs: z.number().int().min(0).default(0),
  warmupStartFactor: z
    .number()
    .gt(0)
    .max(1)
    .default(1 / 3),
};

const increasing = (values: readonly number[]): boolean => values.every((v, i) => i === 0 || v > values[i - 1]!);

/** Learning-rate schedule options; `type` selects the schedule, warmup composes with any of them. */
export const ScheduleConfig = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('constant'), ...warmup }),
  z.strictObject({
    type: z.literal('step'),
    stepSize: z.number().int().min(1),
    gamma: z.number().positive().default(0.1),
    ...warmup,
  }),
  z.strictObject({
    type: z.literal('multistep'),
    milestones: z.array(z.number().int().min(1)).min(1).refine(increasing, { message: 'expected strictly increasing epochs' }),
    gamma: z.number().positive().default(0.1),
    ...warmup,
  }),
  z.strictObject({ type: z.literal('cosine'), minLr: z.number().min(0).default(0), ...warmup }),
  z.strictObject({
    type: z.literal('onecycle'),
    // Omitted means "peak at the optimizer's lr", so `--schedule onecycle` works without a config file.
    maxLr: z.number().positive().optional(),
    pctStart: z.number().gt(0).lt(1).default(0.3),
    divFactor: z.number().positive().default(25),
    finalDivFactor: z.number().positive().default(1e4),
    anneal: z.enum(['cos', 'linear']).default('cos'),
    ...warmup,
  }),
]);
/** A parsed schedule configuration, defaults filled in. */
export type ScheduleConfig = z.output<typeof ScheduleConfig>;
/** What a user may write for a schedule: defaulted fields optional. */
export type ScheduleConfigInput = z.input<typeof ScheduleConfig>;

/** The run shape a schedule is evaluated over. */
export interface ScheduleRun {
  /** The optimizer's learning rate. */
  baseLr: number;
  epochs: number;
  stepsPerEpoch: number;
}

/** A learning rate for every optimizer step of a run. */
export interface Schedule {
  readonly totalSteps: number;
  /** Learning rate to use for global optimizer step `step` (0-based, below totalSteps). */
  lrAt(step: number): number;
}

type StepFn = (step: number) => number;

/** Builds the per-step learning-rate function for a schedule configuration and run shape. */
export function createSchedule(config: ScheduleConfig, run: ScheduleRun): Schedule {
  checkRun(run);
  if (config.warmupEpochs >= run.epochs) {
    throw new ConfigError([`schedule.warmupEpochs: expected fewer than the ${run.epochs} training epochs, got ${config.warmupEpochs}`]);
  }
  const totalSteps = run.epochs * run.stepsPerEpoch;
  const warmupSteps = config.warmupEpochs * run.stepsPerEpoch;
  const main = mainSchedule(config, { ...run, epochs: run.epochs - config.warmupEpochs });
  // LinearLR scales whatever lr the main schedule starts from (OneCycle's is maxLr / divFactor).
  const peak = main(0);
  const start = config.warmupStartFactor;
  return {
    totalSteps,
    lrAt(step: number): number {
      if (!Number.isInteger(step) || step < 0 || step >= totalSteps) {
        throw new RangeError(`step must be an integer in [0, ${totalSteps}), got ${step}`);
      }
      return step < warmupSteps ? peak * (start + ((1 - start) * step) / warmupSteps) : main(step - warmupSteps);
    },
  };
}

function checkRun({ baseLr, epochs, stepsPerEpoch }: ScheduleRun): void {
  if (!(Number.isFinite(baseLr) && baseLr > 0)) {
    throw new RangeError(`baseLr must be a positive number, got ${baseLr}`);
  }
  if (!(Number.isInteger(epochs) && epochs >= 1)) {
    throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  }
  if (!(Number.isInteger(stepsPerEpoch) && stepsPerEpoch >= 1)) {
    throw new RangeError(`stepsPerEpoch must be a positive integer, got ${stepsPerEpoch}`);
  }
}

function mainSchedule(config: ScheduleConfig, { baseLr, epochs, stepsPerEpoch }: ScheduleRun): StepFn {
  const total = epochs * stepsPerEpoch;
  const epochOf = (step: number): number => Math.floor(step / stepsPerEpoch);
  switch (config.type) {
    case 'constant':
      return () => baseLr;
    case 'step':
      return (step) => baseLr * config.gamma ** Math.floor(epochOf(step) / config.stepSize);
    case 'multistep':
      return (step) => baseLr * config.gamma ** config.milestones.filter((m) => m <= epochOf(step)).length;
    case 'cosine':
      return (step) => config.minLr + ((baseLr - config.minLr) * (1 + Math.cos((Math.PI * step) / total))) / 2;
    case 'onecycle':
      return oneCycle(config, config.maxLr ?? baseLr, total);
  }
}

type OneCycleConfig = Extract<ScheduleConfig, { type: 'onecycle' }>;

// Mirrors torch's OneCycleLR (two phases): the ramp ends at the fractional step pctStart * total - 1.
function oneCycle(config: OneCycleConfig, maxLr: number, total: number): StepFn {
  const initialLr = maxLr / config.divFactor;
  const minLr = initialLr / config.finalDivFactor;
  const rampEnd = config.pctStart * total - 1;
  const lastStep = total - 1;
  if (rampEnd <= 0) {
    throw new ConfigError([
      `schedule.pctStart: the one-cycle ramp must span more than one step, ` + `but pctStart × ${total} steps = ${config.pctStart * total}`,
    ]);
  }
  const anneal =
    config.anneal === 'cos'
      ? (from: number, to: number, pct: number) => to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1)
      : (from: number, to: number, pct: number) => (to - from) * pct + from;
  return (step) =>
    step <= rampEnd ? anneal(initialLr, maxLr, step / rampEnd) : anneal(maxLr, minLr, (step - rampEnd) / (lastStep - rampEnd));
}
