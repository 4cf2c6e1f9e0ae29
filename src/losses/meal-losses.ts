// MEAL's losses on host tensors: the same native code the MEAL step runs, callable for checks.
import type { HostTensor, NativeDiscriminatorOptions, PoolingName, SimilarityName } from '../native.js';
import { native } from '../native.js';

export type { PoolingName, SimilarityName } from '../native.js';

/** Aligns a block [N, C, H, W] to [N, length] (pool H*W to `length`, then reduce channels); [N, K] passes through. */
export function alignBlock(block: HostTensor, options: { length: number; pooling: PoolingName }): Promise<HostTensor> {
  return native().alignBlock(block, options);
}

/** The similarity loss between an aligned student block and one or more teacher blocks (averaged as targets). */
export function similarityLoss(
  student: HostTensor,
  teachers: HostTensor[],
  options: { similarity: SimilarityName; temperature?: number },
): Promise<number> {
  return native().similarityLoss(student, teachers, options);
}

/**
 * A discriminator with the given weights (fc1.weight, fc1.bias, ...) scored on student and teacher
 * rows: its BCE loss (student [1,0], teacher [0,1]) and the generator loss (student rows as teacher).
 */
export function discriminatorLoss(
  student: HostTensor,
  teacher: HostTensor,
  weights: Record<string, HostTensor>,
  options: Partial<NativeDiscriminatorOptions> = {},
): Promise<{ discriminator: number; generator: number }> {
  return native().discriminatorLoss(student, teacher, weights, options);
}
