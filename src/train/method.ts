// The contract between the training loop and the methods above it: a method declares itself (name,
// options, flags, what it needs) and, for one run, contributes its teachers and how one batch is
// stepped; the loop does everything else and names no method.
import type { z } from 'zod';

import type { ConfigFlag } from '../config/flags.js';
import type { CommonRunConfig } from '../config/schemas.js';
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
  /** The run's common options (its method's own come separately, typed). */
  config: CommonRunConfig;
  studentSpec: ModelSpec;
  device: string;
  /** The student's trainer: methods build their objectives for it. */
  trainer: Trainer;
  /** One sample's [C, H, W]. */
  inputShape: [number, number, number];
  seed: number;
  /** Optimizer steps per epoch, so methods can turn `step` into an epoch. */
  stepsPerEpoch: number;
  /** The optimizer's configured learning rate; lr / baseLr is the schedule's factor, which methods apply to a second rate. */
  baseLr: number;
  /** Teacher checkpoints to load (empty when the batches replay a soft-label cache instead). */
  teachers: string[];
}

/** Which `distillery` command runs a method. */
export type MethodCommand = 'train' | 'distill' | 'search';

/** What a method needs from `teachers`. */
export type TeacherNeed = 'none' | 'required' | 'one';

/** What a soft-label cache must hold for a method to replay it instead of running teachers. */
export interface SoftLabelNeeds {
  /** The temperature its probabilities must have been stored at. */
  temperature: number;
  /** Whether it must hold the teachers' mean logits (cache-teachers --logits). */
  needsLogits: boolean;
}

/**
 * One training method, self-described: the registry (src/methods/registry.ts) derives the run
 * config's schema, the CLI's `--method` choices and flags, and createRun from these.
 */
export interface MethodDefinition<Name extends string = string, Options extends z.ZodType = z.ZodType> {
  /** As `--method` and `method:` take it. */
  readonly name: Name;
  /** One line for `--help`. */
  readonly summary: string;
  readonly command: MethodCommand;
  readonly teachers: TeacherNeed;
  /** The method's config section, under its name (`kd: {...}`); absent: it has no options. */
  readonly options?: Options;
  /** Flags that set keys of the section (their paths are relative to it). */
  readonly flags: readonly ConfigFlag[];
  /** Present when a soft-label cache (data.softLabels) can stand in for the teachers. */
  softLabels?(options: z.output<Options>): SoftLabelNeeds;
  /** The student the method trains, from the one the config names (ONE adds branches, search gates). */
  studentSpec?(spec: ModelSpec, options: z.output<Options>): ModelSpec;
  /** Prepares the method for one run: loads its teachers, builds its objective. */
  create(context: MethodContext, options: z.output<Options>): Promise<MethodSession>;
}
