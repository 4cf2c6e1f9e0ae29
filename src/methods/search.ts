// Student search (Gu & Tresp, ECAI 2020): gates on a teacher's inner channels and residual blocks
// learn which parts the teacher's function needs, under an L1 penalty. This is the gate training;
// choosing and extracting the subnetwork within a budget is src/pipelines/search.ts.
import { z } from 'zod';

import { configFlag } from '../config/flags.js';
import { DistilleryError } from '../errors.js';
import { sameNetwork } from '../io/checkpoint.js';
import { describeSpec } from '../models/model.js';
import type { MethodDefinition } from '../train/method.js';
import { objectiveSession } from './objective-session.js';

/** Student search: gates trained with T² KL(teacher ‖ gated) + l1 · |gates|, then a budget. */
export const SearchOptions = z
  .strictObject({
    /** T of the KL from the teacher. */
    temperature: z.number().positive().default(4),
    /** lambda, the weight of the gates' L1 norm. */
    l1: z.number().min(0).default(5e-2),
    /** Extract the largest subnetwork with at most this many parameters... */
    budgetParams: z.number().positive().optional(),
    /** ...or at most this many multiply-accumulates per image. */
    budgetFlops: z.number().positive().optional(),
  })
  .refine((search) => search.budgetParams === undefined || search.budgetFlops === undefined, {
    path: ['budgetFlops'],
    message: "give one budget: 'search.budgetParams' or 'search.budgetFlops', not both",
  });
/** Parsed search options. */
export type SearchOptions = z.output<typeof SearchOptions>;

/** The search phase (`distillery search`): the run's student is the teacher's gated copy, initialised from it. */
export const search = {
  name: 'search',
  summary: "student search: gates on the teacher's channels and blocks, L1-penalised; then the largest subnetwork within a budget",
  command: 'search',
  teachers: 'one',
  options: SearchOptions,
  flags: [
    configFlag('--budget-params', 'budgetParams', 'count', 'at most this many parameters (e.g. 75000, 0.1M)'),
    configFlag('--budget-flops', 'budgetFlops', 'count', 'at most this many multiply-accumulates per image (e.g. 5M)'),
    configFlag('--l1', 'l1', 'number', "weight of the gates' L1 norm (default 5e-2)"),
  ],
  studentSpec: (spec) => ({ ...spec, gated: true }),
  create: async (context, options) => {
    const session = await objectiveSession(context, 'search', { temperature: options.temperature, l1: options.l1 }, { withTeachers: true });
    const teacher = session.teachers[0]!;
    if (!sameNetwork(teacher.spec, context.studentSpec)) {
      session.dispose();
      throw new DistilleryError(
        `student search gates the teacher's own network: the teacher is ${describeSpec(teacher.spec)}, the run's model ${describeSpec(context.studentSpec)}`,
        'E_ARGUMENT',
      );
    }
    return session;
  },
} as const satisfies MethodDefinition<'search', typeof SearchOptions>;
