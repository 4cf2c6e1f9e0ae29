// Plain supervised training: cross-entropy on the labels (teachers are trained this way).
import type { MethodDefinition } from '../train/method.js';
import { objectiveSession } from './objective-session.js';

/** Cross-entropy on ground-truth labels (`distillery train`). */
export const supervised = {
  name: 'supervised',
  summary: 'cross-entropy on the labels (how teachers are trained)',
  command: 'train',
  teachers: 'none',
  flags: [],
  create: (context) => objectiveSession(context, 'supervised', {}, { withTeachers: false }),
} as const satisfies MethodDefinition<'supervised'>;
