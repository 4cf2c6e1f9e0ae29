// Plain supervised training: cross-entropy on the labels (teachers are trained this way).
import type { MethodContext, MethodSession } from '../train/method.js';

/** Cross-entropy on ground-truth labels. */
export function supervised(context: MethodContext): MethodSession {
  return {
    teachers: [],
    step: (batch, lr) => context.trainer.step(batch, { method: 'supervised', lr }),
    dispose: () => undefined,
  };
}
