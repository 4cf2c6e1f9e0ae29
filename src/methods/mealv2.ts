// MEAL V2: the student matches the averaged softmax of all teachers (soft cross-entropy, no labels)
// while a discriminator on logits tells it from the teachers' mean logits. From a soft-label cache
// (data.softLabels with logits) no teacher runs.
import { z } from 'zod';

import type { MethodDefinition } from '../train/method.js';
import { adversarialFlags, adversarialOptions, adversarialSettings, mealSession } from './meal.js';

/** MEAL V2's options: MEAL's adversarial ones; blocks, similarity, teacher selection and labels are fixed. */
export const MealV2Options = z.strictObject(adversarialOptions);
/** Parsed MEAL V2 options. */
export type MealV2Options = z.output<typeof MealV2Options>;

/** MEAL V2 (`distill --method mealv2`). */
export const mealv2 = {
  name: 'mealv2',
  summary: 'MEAL V2: soft CE to the averaged teachers (or a cache) with a logit discriminator, no labels',
  command: 'distill',
  teachers: 'required',
  options: MealV2Options,
  flags: [...adversarialFlags],
  // Its target is the plain averaged softmax, and the discriminator sees the mean logits.
  softLabels: () => ({ temperature: 1, needsLogits: true }),
  create: (context, options) =>
    mealSession(
      context,
      {
        ...adversarialSettings(options, [8, 64]),
        blocks: [{ name: 'logits', weight: 1, adversarialWeight: 1, discriminator: true }],
        pooling: 'avg',
        similarity: 'ce',
        temperature: 1,
        ceWeight: 0,
      },
      {
        selection: 'average',
        update: options.update,
        discriminatorSteps: options.discriminatorSteps,
        discriminatorLr: options.discriminatorLr,
      },
    ),
} as const satisfies MethodDefinition<'mealv2', typeof MealV2Options>;
