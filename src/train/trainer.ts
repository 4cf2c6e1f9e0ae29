// A student and its optimizer, stepped by one fused native call per batch of any objective.
import type { OptimizerConfig } from '../config/schemas.js';
import type { Batch } from '../data/dataset.js';
import type { DistributedConfig, LossScaleConfig } from '../config/schemas.js';
import type { ProcessGroup } from '../distributed/process-group.js';
import type { Model } from '../models/model.js';
import type { NativeOptimizerOptions, NativeTrainer, Precision, Settings, StepStats } from '../native.js';
import { native } from '../native.js';
import type { Objective } from './objective.js';

function nativeOptimizer(config: OptimizerConfig): NativeOptimizerOptions {
  if (config.type === 'sgd') {
    const { type, lr, momentum, nesterov, weightDecay, noDecayBnBias } = config;
    return { type, lr, momentum, nesterov, weightDecay, noDecayBnBias };
  }
  const { type, lr, betas, eps, weightDecay, noDecayBnBias } = config;
  return { type, lr, betas, eps, weightDecay, noDecayBnBias };
}

/** Steps a student: forward, loss, backward and optimizer update in one async native call. */
export class Trainer {
  /** The native trainer, for methods that attach state to it (MEAL's discriminators). */
  readonly handle: NativeTrainer;

  constructor(student: Model, optimizer: OptimizerConfig) {
    this.handle = new (native().Trainer)(student.handle, nativeOptimizer(optimizer));
  }

  /**
   * One optimizer step of `objective` on `batch` at learning rate `lr`, with the objective's
   * per-step `args` (MEAL's phase and teachers, ONE's ramped weight); rejects with E_NAN_LOSS
   * (weights untouched) on a non-finite loss.
   */
  async step(batch: Batch, objective: Objective, lr: number, args: Settings = {}): Promise<StepStats> {
    return this.handle.step(batch, objective.handle, { ...args, lr });
  }

  /**
   * Runs forward passes under autocast at `precision`; with loss scaling (default on for fp16) a
   * step whose gradients overflow is skipped and reported (`StepStats.skipped`). Call before
   * loading a checkpoint, whose loss scale it then restores.
   */
  async setPrecision(precision: Precision, lossScale?: LossScaleConfig): Promise<void> {
    const scaling = lossScale?.enabled ?? precision === 'fp16';
    if (!scaling) return this.handle.setPrecision({ precision });
    const { initScale, growthFactor, backoffFactor, growthInterval } = lossScale ?? {
      initScale: 65536,
      growthFactor: 2,
      backoffFactor: 0.5,
      growthInterval: 2000,
    };
    return this.handle.setPrecision({ precision, lossScale: { initScale, growthFactor, backoffFactor, growthInterval } });
  }

  /**
   * Makes this trainer one rank of data-parallel training (every rank calls it, after loading any
   * checkpoint): rank 0's weights everywhere, then gradients averaged over the ranks every step.
   */
  async distribute(group: ProcessGroup, options: Pick<DistributedConfig, 'syncBatchNorm' | 'bucketCapMb'>): Promise<void> {
    return this.handle.distribute(group.handle, { syncBatchNorm: options.syncBatchNorm, bucketCapMb: options.bucketCapMb });
  }

  /** Atomically writes weights, optimizer and RNG state with `metadata`. */
  async saveCheckpoint(path: string, metadata: Record<string, string>): Promise<void> {
    return this.handle.saveCheckpoint(path, metadata);
  }

  /** Restores a checkpoint written by saveCheckpoint and returns its metadata. */
  async loadCheckpoint(path: string): Promise<Record<string, string>> {
    return this.handle.loadCheckpoint(path);
  }

  /** Frees the optimizer state (the student stays alive). */
  dispose(): void {
    this.handle.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
