// What most methods are: teachers loaded for the student, one native objective, and how each batch
// steps it (per-step arguments, or several native steps as MEAL's alternating updates take).
// Freed together, on every path.
import type { Model } from '../models/model.js';
import { loadTeachers, studentTarget } from '../models/teachers.js';
import type { Settings, StepStats } from '../native.js';
import type { MethodContext, MethodSession } from '../train/method.js';
import { Objective } from '../train/objective.js';

/** Per-step arguments of an objective, from the optimizer step count and the learning rate. */
export type StepArgs = (step: number, lr: number) => Settings;

/**
 * How one batch is stepped when one native step with computed arguments is not enough:
 * `stepWith(args)` runs one native step of the objective on the batch at `lr`; `teachers` is the
 * number of teachers loaded. The stats returned are the batch's.
 */
export type Stepping = (stepWith: (args: Settings) => Promise<StepStats>, lr: number, step: number, teachers: number) => Promise<StepStats>;

/**
 * Loads the context's teachers (when `withTeachers` and the run names any), builds the native
 * objective `name` over them with `settings`, and steps it once per batch with `args`, or as
 * `stepping` says; teachers are freed if building fails.
 */
export async function objectiveSession(
  context: MethodContext,
  name: string,
  settings: Settings,
  options: { withTeachers: boolean; args?: StepArgs; stepping?: Stepping },
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
  const stepping: Stepping = options.stepping ?? ((stepWith, lr, step) => stepWith(args(step, lr)));
  return {
    teachers,
    step: (batch, lr, step) => stepping((a) => context.trainer.step(batch, objective, lr, a), lr, step, teachers.length),
    dispose: () => {
      objective.dispose();
      for (const t of teachers) t.dispose();
    },
  };
}
