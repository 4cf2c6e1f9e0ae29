// Hinton knowledge distillation from one or more frozen teachers (their softened outputs averaged).
import { ConfigError } from '../config/errors.js';
import { DistilleryError, isDistilleryError } from '../errors.js';
import { loadModel } from '../io/checkpoint.js';
import type { Model } from '../models/model.js';
import type { MethodContext, MethodSession } from '../train/method.js';

/** Hinton KD hyper-parameters: L = ceWeight * CE + kdWeight * T^2 * KL(teachers || student). */
export interface KdOptions {
  temperature: number;
  ceWeight: number;
  kdWeight: number;
}

/** Loads teacher checkpoints and checks they fit the student's inputs and classes. */
export async function loadTeachers(paths: string[], context: MethodContext): Promise<Model[]> {
  if (paths.length === 0) throw new ConfigError(['teachers: distillation needs at least one teacher: pass --teachers a.ckpt,b.ckpt']);
  const teachers: Model[] = [];
  try {
    for (const [i, path] of paths.entries()) {
      let teacher: Model;
      try {
        teacher = await loadModel(path, context.device);
      } catch (error) {
        if (isDistilleryError(error)) throw new DistilleryError(`teacher ${i + 1} (${path}): ${error.message}`, error.code);
        throw error;
      }
      teachers.push(teacher);
      const { inChannels, numClasses } = teacher.spec;
      if (inChannels !== context.studentSpec.inChannels || numClasses !== context.studentSpec.numClasses) {
        throw new DistilleryError(
          `teacher ${i + 1} (${path}) takes ${inChannels} channel(s) and predicts ${numClasses} classes, ` +
            `the student ${context.studentSpec.inChannels} and ${context.studentSpec.numClasses}: teachers must be trained on the same dataset`,
          'E_SHAPE',
        );
      }
    }
  } catch (error) {
    for (const t of teachers) t.dispose();
    throw error;
  }
  return teachers;
}

/** Hinton KD with the given teachers. */
export async function kd(paths: string[], options: KdOptions, context: MethodContext): Promise<MethodSession> {
  const teachers = await loadTeachers(paths, context);
  const handles = teachers.map((t) => t.handle);
  return {
    teachers,
    step: (batch, lr) => context.trainer.step(batch, { method: 'kd', lr, teachers: handles, ...options }),
    dispose: () => teachers.forEach((t) => t.dispose()),
  };
}
