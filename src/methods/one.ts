// ONE (Lan, Zhu, Gong, NeurIPS 2018): the student is a multi-branch network whose gated ensemble
// teaches every branch online; no separate teacher is trained.
import type { OneConfig } from '../config/schemas.js';
import { DistilleryError } from '../errors.js';
import type { MethodContext, MethodSession } from '../train/method.js';

/**
 * The KL weight's ramp-up at `epoch` (0-based, whole epochs as in the official code):
 * exp(-5 (1 - min(e, R)/R)^2), and 1 when R is 0.
 */
export function oneRampUp(epoch: number, rampUp: number): number {
  if (rampUp === 0) return 1;
  const phase = 1 - Math.min(Math.max(epoch, 0), rampUp) / rampUp;
  return Math.exp(-5 * phase * phase);
}

/** ONE on the run's multi-branch student (built with `options.branches`). */
export function one(options: OneConfig, context: MethodContext): MethodSession {
  if ((context.studentSpec.branches ?? 0) < 2) {
    throw new DistilleryError(`method 'one' needs a multi-branch student; the run built ${context.studentSpec.arch} without branches`, 'E_ARGUMENT');
  }
  return {
    teachers: [],
    step: (batch, lr, step) =>
      context.trainer.step(batch, {
        method: 'one',
        lr,
        temperature: options.temperature,
        klWeight: options.klWeight * oneRampUp(Math.floor(step / context.stepsPerEpoch), options.rampUp),
      }),
    dispose: () => undefined,
  };
}
