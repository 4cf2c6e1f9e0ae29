// DKD, Decoupled Knowledge Distillation (Zhao, Cui, Song, Qiu, Liang, CVPR 2022): KD split into a
// target-class term (TCKD) and a non-target-class term (NCKD) with independent weights alpha and
// beta, plus CE on the labels; the KD terms ramp in linearly over the first `warmup` epochs.
import { z } from 'zod';

import { configFlag } from '../config/flags.js';
import type { MethodDefinition } from '../train/method.js';
import { objectiveSession } from './objective-session.js';

/**
 * L = ceWeight · CE + min((epoch + 1) / warmup, 1) · (alpha · TCKD + beta · NCKD). Defaults are the
 * paper's ImageNet setting, chosen by measurement (bench/dkd-accuracy.mjs, docs/methods.md): on
 * Fashion-MNIST it gains 2.7 points over the student alone and 1.1 over KD, where the CIFAR-100
 * setting (alpha 1, beta 8, T 4) gains 2.1 ramped over the whole run and loses 4.8 ramped over one epoch.
 */
export const DkdOptions = z.strictObject({
  temperature: z.number().positive().default(1),
  ceWeight: z.number().min(0).default(1),
  alpha: z.number().min(0).default(0.5),
  beta: z.number().min(0).default(0.5),
  /** Epochs over which the KD terms ramp in linearly (1: full weight from the first epoch; the CIFAR setting needs about 20). */
  warmup: z.number().int().min(1).default(1),
});
/** Parsed DKD options. */
export type DkdOptions = z.output<typeof DkdOptions>;

/**
 * The KD terms' weight in 0-based `epoch`: min((epoch + 1) / warmup, 1), as the official schedule
 * counts epochs from 1 (the first epoch already carries 1 / warmup).
 */
export function dkdWarmup(epoch: number, warmup: number): number {
  return Math.min((epoch + 1) / warmup, 1);
}

/** DKD (`distill --method dkd`). */
export const dkd = {
  name: 'dkd',
  summary: 'DKD: decoupled target-class (alpha) and non-target-class (beta) KD terms plus CE',
  command: 'distill',
  teachers: 'required',
  options: DkdOptions,
  flags: [
    configFlag('--temperature', 'temperature', 'number', 'distillation temperature (default 1)'),
    configFlag('--ce-weight', 'ceWeight', 'number', 'weight of the cross-entropy loss (default 1)'),
    configFlag('--alpha', 'alpha', 'number', 'weight of the target-class term TCKD (default 0.5)'),
    configFlag('--beta', 'beta', 'number', 'weight of the non-target-class term NCKD (default 0.5)'),
    configFlag('--warmup', 'warmup', 'int', 'epochs over which the KD terms ramp in (default 1: none)'),
  ],
  create: (context, options) => {
    const { temperature, ceWeight, alpha, beta, warmup } = options;
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
