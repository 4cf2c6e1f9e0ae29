// ONE (Lan, Zhu, Gong, NeurIPS 2018): the student is a multi-branch network whose gated ensemble
// teaches every branch online; no separate teacher is trained.
import { z } from 'zod';

import { configFlag } from '../config/flags.js';
import type { MethodDefinition } from '../train/method.js';
import { objectiveSession } from './objective-session.js';

/** ONE: m branches over a shared trunk, a gate, online distillation from the gated ensemble. */
export const OneOptions = z.strictObject({
  /** m: copies of the last stage, each with its own classifier (3 in the official code). */
  branches: z.number().int().min(2).default(3),
  /** T of the KL from the ensemble to every branch. */
  temperature: z.number().positive().default(3),
  /** R, epochs of the ramp-up w(e) = exp(-5 (1 - min(e, R)/R)^2) of the KL weight; 0: full weight from the start. */
  rampUp: z.number().int().min(0).default(80),
  /** The KL weight once ramped up. */
  klWeight: z.number().min(0).default(1),
});
/** Parsed ONE options. */
export type OneOptions = z.output<typeof OneOptions>;

/**
 * The KL weight's ramp-up at `epoch` (0-based, whole epochs as in the official code):
 * exp(-5 (1 - min(e, R)/R)^2), and 1 when R is 0.
 */
export function oneRampUp(epoch: number, rampUp: number): number {
  if (rampUp === 0) return 1;
  const phase = 1 - Math.min(Math.max(epoch, 0), rampUp) / rampUp;
  return Math.exp(-5 * phase * phase);
}

/** ONE (`distill --method one`): the run's student gets `branches` branches and a gate. */
export const one = {
  name: 'one',
  summary: 'ONE: a multi-branch student taught online by its own gated ensemble (no teachers)',
  command: 'distill',
  teachers: 'none',
  options: OneOptions,
  flags: [
    configFlag('--branches', 'branches', 'int', 'number of branches (default 3)'),
    configFlag('--ramp-up', 'rampUp', 'int', 'epochs over which the KL weight ramps up (0: none; default 80)'),
    configFlag('--one-temperature', 'temperature', 'number', 'temperature of the KL from the ensemble (default 3)'),
  ],
  studentSpec: (spec, options) => ({ ...spec, branches: options.branches }),
  create: (context, options) =>
    objectiveSession(
      context,
      'one',
      { temperature: options.temperature },
      {
        withTeachers: false,
        args: (step) => ({ klWeight: options.klWeight * oneRampUp(Math.floor(step / context.stepsPerEpoch), options.rampUp) }),
      },
    ),
} as const satisfies MethodDefinition<'one', typeof OneOptions>;
