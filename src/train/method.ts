// The contract between the training loop and the methods above it: a method contributes its teachers
// and the native step it runs, and the loop does everything else.
import type { ResolvedRunConfig } from '../config/load.js';
import type { Model, ModelSpec } from '../models/model.js';
import type { NativeStepOptions } from '../native.js';

/** A method prepared for one run. */
export interface MethodSession {
  /** Models the method reads but does not train (frozen teachers), for reports. */
  readonly teachers: Model[];
  /** Native step options for one optimizer step at learning rate `lr`. */
  stepOptions(lr: number): NativeStepOptions;
  /** Frees the method's models. */
  dispose(): void;
}

/** Inputs every method receives. */
export interface MethodContext {
  studentSpec: ModelSpec;
  device: string;
}

/** Prepares a method for one run (loads its teachers, builds its modules). */
export type MethodFactory = (config: ResolvedRunConfig, context: MethodContext) => Promise<MethodSession> | MethodSession;
