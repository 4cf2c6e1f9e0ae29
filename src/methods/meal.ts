// MEAL (v1): block-wise similarity to one selected teacher per mini-batch, plus discriminators that
// tell student blocks from teacher blocks. The native step does the work; this file decides which
// teachers, which phase, and the discriminator's learning rate.
import type { MealConfig } from '../config/schemas.js';
import type { NativeMeal, NativeMealOptions, StepStats } from '../native.js';
import { native } from '../native.js';
import type { MethodContext, MethodSession } from '../train/method.js';
import { loadTeachers, studentTarget } from './kd.js';
import type { TeacherSelection } from './teacher-selection.js';
import { selectTeachers } from './teacher-selection.js';

/** How a MEAL-family run is stepped, beyond the native block and loss options. */
export interface MealStepping {
  selection: TeacherSelection;
  update: 'joint' | 'grl' | 'alternating';
  discriminatorSteps: number;
  discriminatorLr: number;
}

/** A MEAL-family session: native options for the distiller, stepping policy for each batch. */
export async function mealSession(
  paths: string[],
  options: Omit<NativeMealOptions, 'inputShape'>,
  stepping: MealStepping,
  context: MethodContext,
): Promise<MethodSession> {
  // No paths: the batches replay a soft-label cache (MEAL V2 only), and no teacher is loaded.
  const teachers = paths.length === 0 ? [] : await loadTeachers(paths, studentTarget(context));
  let distiller: NativeMeal;
  try {
    distiller = new (native().Meal)(context.trainer.handle, teachers.map((t) => t.handle), { ...options, inputShape: context.inputShape });
  } catch (error) {
    for (const t of teachers) t.dispose();
    throw error;
  }
  const phase = !options.adversarial || stepping.update === 'joint' ? 'joint' : stepping.update === 'grl' ? 'grl' : 'student';
  return {
    teachers,
    async step(batch, lr, step): Promise<StepStats> {
      const common = {
        teachers: teachers.length === 0 ? [] : selectTeachers(stepping.selection, teachers.length, context.seed, step),
        lr,
        // The schedule scales both rates alike, as one optimizer with two parameter groups would.
        discriminatorLr: stepping.discriminatorLr * (lr / context.baseLr),
      };
      if (phase === 'student') {
        for (let i = 0; i < stepping.discriminatorSteps; i++) await distiller.step(batch, { ...common, phase: 'discriminator' });
      }
      return distiller.step(batch, { ...common, phase });
    },
    dispose: () => {
      distiller.dispose();
      for (const t of teachers) t.dispose();
    },
  };
}

/** MEAL with the given teachers and options. */
export async function meal(paths: string[], config: MealConfig, context: MethodContext): Promise<MethodSession> {
  return mealSession(
    paths,
    {
      blocks: config.blocks.map((b) => ({ ...b })),
      pooling: config.pooling,
      similarity: config.similarity,
      temperature: config.temperature,
      adversarial: config.adversarial,
      discriminator: { ...config.discriminator, divisors: config.discriminator.divisors ?? [2, 4] },
      ceWeight: config.ceWeight,
      teacherTrainMode: config.teacherTrainMode,
      grlScale: config.grlScale,
    },
    {
      selection: config.teacherSelection,
      update: config.update,
      discriminatorSteps: config.discriminatorSteps,
      discriminatorLr: config.discriminatorLr,
    },
    context,
  );
}
