// DKD, Decoupled Knowledge Distillation (Zhao, Cui, Song, Qiu, Liang, CVPR 2022): KD split into a
// target-class term (TCKD) and a non-target-class term (NCKD) with independent weights alpha and
// beta, plus CE on the labels; the KD terms ramp in linearly over the first `warmup` epochs.
import { z } from 'zod';

import { configFlag } from '../config/flags.js';
import type { MethodDefinition } from '../train/method.js';
import { objectiveSession } from './objective-session.js';

/** L = ceWeight · CE + min(epoch / warmup, 1) · (alpha · TCKD + beta · NCKD); defaults are the paper's CIFAR-100 ones. */
export const DkdOptions = z.strictObject({
  temperature: z.number().positive().default(4),
  ceWeight: z.number().min(0).default(1),
  alpha: z.number().min(0).default(1),
  beta: z.number().min(0).default(8),
  /** Epochs over which the KD terms ramp in; 0: full weight at once; unset: a twelfth of the run, rounded up (the official 20 of 240). */
  warmup: z.number().int().min(0).optional(),
});
/** Parsed DKD options. */
export type DkdOptions = z.output<typeof DkdOptions>;

/**
 * The KD terms' weight in 0-based `epoch`: min((epoch + 1) / warmup, 1), as the official schedule
 * counts epochs from 1 (the first epoch already carries 1 / warmup); 1 when warmup is 0.
 */
export function dkdWarmup(epoch: number, warmup: number): number {
  return warmup === 0 ? 1 : Math.min((epoch + 1) / warmup, 1);
}

/** DKD (`distill --method dkd`). */
export const dkd = {
  name: 'dkd',
  summary: 'DKD: decoupled target-class (alpha) and non-target-class (beta) KD terms plus CE',
  command: 'distill',
  teachers: 'required',
  options: DkdOptions,
  flags: [
    configFlag('--temperature', 'temperature', 'number', 'distillation temperature (default 4)'),
    configFlag('--ce-weight', 'ceWeight', 'number', 'weight of the cross-entropy loss (default 1)'),
    configFlag('--alpha', 'alpha', 'number', 'weight of the target-class term TCKD (default 1)'),
    configFlag('--beta', 'beta', 'number', 'weight of the non-target-class term NCKD (default 8)'),
    configFlag('--warmup', 'warmup', 'int', 'epochs over which the KD terms ramp in (default: a twelfth of the run; 0: none)'),
  ],
  create: (context, options) => {
    const { temperature, ceWeight, alpha, beta } = options;
    const warmup = options.warmup ?? Math.ceil(context.config.epochs / 12);
    return objectiveSession(
      context,
      'dkd',
      { temperature, ceWeight, alpha, beta },
      {
        withTeachers: true,
        args: (step) => ({ warmup: dkdWarmup(Math.floor(step / context.stepsPerEpoch), warmup) }),
      },
    );
  },
} as const satisfies MethodDefinition<'dkd', typeof DkdOptions>;
