// Teacher checkpoints loaded for a method or a pipeline, checked against the data they will see.
import { ConfigError } from '../config/errors.js';
import { DistilleryError, isDistilleryError } from '../errors.js';
import { loadModel } from '../io/checkpoint.js';
import type { Model, ModelSpec } from './model.js';

/** What teachers must fit: the device to load them on and the inputs and classes of the data. */
export interface TeacherTarget {
  device: string;
  inChannels: number;
  numClasses: number;
  /** Who else sees that data, for the message when a teacher does not fit ("the student", "the dataset"). */
  against: string;
}

/** Loads teacher checkpoints and checks they take the data's inputs and predict its classes. */
export async function loadTeachers(paths: string[], target: TeacherTarget): Promise<Model[]> {
  if (paths.length === 0) throw new ConfigError(['teachers: distillation needs at least one teacher: pass --teachers a.ckpt,b.ckpt']);
  const teachers: Model[] = [];
  try {
    for (const [i, path] of paths.entries()) {
      let teacher: Model;
      try {
        teacher = await loadModel(path, target.device);
      } catch (error) {
        if (isDistilleryError(error)) throw new DistilleryError(`teacher ${i + 1} (${path}): ${error.message}`, error.code);
        throw error;
      }
      teachers.push(teacher);
      const { inChannels, numClasses } = teacher.spec;
      if (inChannels !== target.inChannels || numClasses !== target.numClasses) {
        throw new DistilleryError(
          `teacher ${i + 1} (${path}) takes ${inChannels} channel(s) and predicts ${numClasses} classes, ` +
            `${target.against} ${target.inChannels} and ${target.numClasses}: teachers must be trained on the same dataset`,
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

/** What a distillation method's teachers must fit: its student. */
export function studentTarget(context: { studentSpec: ModelSpec; device: string }): TeacherTarget {
  const { inChannels, numClasses } = context.studentSpec;
  return { device: context.device, inChannels, numClasses, against: 'the student' };
}
