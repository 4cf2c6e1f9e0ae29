// Synthetic label noise for noisy-data experiments, as the label-noise literature defines it
// (Co-teaching, Han et al. 2018): symmetric flips to any other class, pair flips to the next class.
import { DistilleryError } from '../errors.js';
import { seededRandom, seededSubset } from './random.js';

/** symmetric: a flipped label becomes any other class uniformly; pairflip: class c becomes (c + 1) mod K. */
export type LabelNoiseType = 'symmetric' | 'pairflip';

/** What to corrupt: the kind of flip, the fraction of samples flipped, and the seed choosing them. */
export interface LabelNoise {
  type: LabelNoiseType;
  rate: number;
  seed: number;
}

/**
 * Flips exactly round(rate * N) labels, chosen by `seed` (so the realised rate is the asked one, not
 * a random draw around it); returns the new labels and which samples were flipped.
 */
export function injectLabelNoise(labels: Int32Array, numClasses: number, noise: LabelNoise): { labels: Int32Array; flipped: Uint8Array } {
  if (!(noise.rate >= 0 && noise.rate <= 1))
    throw new DistilleryError(`label noise rate must be in [0, 1], got ${noise.rate}`, 'E_ARGUMENT');
  if (numClasses < 2) throw new DistilleryError(`label noise needs at least 2 classes, got ${numClasses}`, 'E_ARGUMENT');
  const out = Int32Array.from(labels);
  const flipped = new Uint8Array(labels.length);
  const count = Math.round(noise.rate * labels.length);
  if (count === 0) return { labels: out, flipped };
  const random = seededRandom(noise.seed ^ 0x0e15e);
  for (const i of seededSubset(labels.length, count, noise.seed)) {
    const label = out[i]!;
    out[i] = noise.type === 'pairflip' ? (label + 1) % numClasses : (label + 1 + Math.floor(random() * (numClasses - 1))) % numClasses;
    flipped[i] = 1;
  }
  return { labels: out, flipped };
}
