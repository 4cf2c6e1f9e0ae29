// Hinton knowledge distillation from one or more frozen teachers (their softened outputs averaged),
// or from the soft labels a cache replays (data.softLabels: no teacher runs).
import { z } from 'zod';

import { configFlag } from '../config/flags.js';
import type { MethodDefinition } from '../train/method.js';
import { objectiveSession } from './objective-session.js';

/** L = ceWeight · CE(labels) + kdWeight · T² · KL(teachers_T ‖ student_T). */
export const KdOptions = z.strictObject({
  temperature: z.number().positive().default(4),
  ceWeight: z.number().min(0).default(0.1),
  kdWeight: z.number().min(0).default(0.9),
});
/** Parsed KD options. */
export type KdOptions = z.output<typeof KdOptions>;

/** Hinton KD (`distill --method kd`). */
export const kd = {
  name: 'kd',
  summary: 'Hinton KD: the averaged softened teachers (or a soft-label cache) plus weighted CE',
  command: 'distill',
  teachers: 'required',
  options: KdOptions,
  flags: [
    configFlag('--temperature', 'temperature', 'number', 'distillation temperature (default 4)'),
    configFlag('--ce-weight', 'ceWeight', 'number', 'weight of the cross-entropy loss (default 0.1)'),
    configFlag('--kd-weight', 'kdWeight', 'number', 'weight of the distillation loss (default 0.9)'),
  ],
  softLabels: (options) => ({ temperature: options.temperature, needsLogits: false }),
  create: (context, options) => objectiveSession(context, 'kd', options, { withTeachers: true }),
} as const satisfies MethodDefinition<'kd', typeof KdOptions>;
