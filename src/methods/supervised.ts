// Plain supervised training: cross-entropy on the labels (teachers are trained this way).
import type { MethodSession } from '../train/method.js';

/** Cross-entropy on ground-truth labels. */
export function supervised(): MethodSession {
  return {
    teachers: [],
    stepOptions: (lr) => ({ method: 'supervised', lr }),
    dispose: () => undefined,
  };
}
