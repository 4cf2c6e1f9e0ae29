// The contract between the training loop and the methods above it: a method contributes its teachers
// and how one batch is stepped, and the loop does everything else.
import type { ResolvedRunConfig } from '../config/load.js';
import type { Batch } from '../data/dataset.js';
import type { Model, ModelSpec } from '../models/model.js';
import type { StepStats } from '../native.js';
import type { Trainer } from './trainer.js';

/** A method prepared for one run. */
export interface MethodSession {
  /** Models the method reads but does not train (frozen teachers, in `config.teachers` order), for reports. */
  readonly teachers: Model[];
  /** Trains on one batch at learning rate `lr`; `step` counts optimizer steps since the run began. */
  step(batch: Batch, lr: number, step: number): Promise<StepStats>;
  /** Frees the method's models and native state. */
  dispose(): void;
}

/** Inputs every method receives. */
export interface MethodContext {
  studentSpec: ModelSpec;
  device: string;
  /** The student's trainer; methods with state of their own attach it here so checkpoints carry it. */
  trainer: Trainer;
  /** One sample's [C, H, W]. */
  inputShape: [number, number, number];
  seed: number;
  /** Optimizer steps per epoch, so methods can turn `step` into an epoch. */
  stepsPerEpoch: number;
  /** The optimizer's configured learning rate; lr / baseLr is the schedule's factor, which methods apply to a second rate. */
  baseLr: number;
}

/** Prepares a method for one run (loads its teachers, builds its modules). */
export type MethodFactory = (config: ResolvedRunConfig, context: MethodContext) => Promise<MethodSession> | MethodSession;
