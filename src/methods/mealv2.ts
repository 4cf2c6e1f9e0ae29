// MEAL V2: the student matches the averaged softmax of all teachers (soft cross-entropy, no labels)
// while a discriminator on logits tells it from the teachers' mean logits.
import type { MealConfig } from '../config/schemas.js';
import type { MethodContext, MethodSession } from '../train/method.js';
import { mealSession } from './meal.js';

/** MEAL V2 with the given teachers (none: from a soft-label cache); blocks, similarity, teacher selection and labels are fixed, the other `meal` options apply. */
export async function mealv2(paths: string[], config: MealConfig, context: MethodContext): Promise<MethodSession> {
  return mealSession(
    paths,
    {
      blocks: [{ name: 'logits', weight: 1, adversarialWeight: 1, discriminator: true }],
      pooling: 'avg',
      similarity: 'ce',
      temperature: 1,
      adversarial: config.adversarial,
      discriminator: { ...config.discriminator, divisors: config.discriminator.divisors ?? [8, 64] },
      ceWeight: 0,
      teacherTrainMode: config.teacherTrainMode,
      grlScale: config.grlScale,
    },
    {
      selection: 'average',
      update: config.update,
      discriminatorSteps: config.discriminatorSteps,
      discriminatorLr: config.discriminatorLr,
    },
    context,
  );
}
