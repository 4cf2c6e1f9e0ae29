// What most methods are: teachers loaded for the student, one native objective, and per-step
// arguments computed from the step count. Freed together, on every path.
import type { Model } from '../models/model.js';
import { loadTeachers, studentTarget } from '../models/teachers.js';
import type { Settings } from '../native.js';
import type { MethodContext, MethodSession } from '../train/method.js';
import { Objective } from '../train/objective.js';

/** Per-step arguments of an objective, from the optimizer step count and the learning rate. */
export type StepArgs = (step: number, lr: number) => Settings;

/**
 * Loads the context's teachers (when `withTeachers`), builds the native objective `name` over them
 * with `settings`, and steps it with `args`; teachers are freed if building fails.
 */
export async function objectiveSession(
  context: MethodContext,
  name: string,
  settings: Settings,
  options: { withTeachers: boolean; args?: StepArgs },
): Promise<MethodSession> {
  const teachers: Model[] =
    options.withTeachers && context.teachers.length > 0 ? await loadTeachers(context.teachers, studentTarget(context)) : [];
  let objective: Objective;
  try {
    objective = await Objective.create(name, context.trainer, teachers, settings);
  } catch (error) {
    for (const t of teachers) t.dispose();
    throw error;
  }
  const args = options.args ?? (() => ({}));
  return {
    teachers,
    step: (batch, lr, step) => context.trainer.step(batch, objective, lr, args(step, lr)),
    dispose: () => {
      objective.dispose();
      for (const t of teachers) t.dispose();
    },
  };
}
