// Which teachers a MEAL mini-batch learns from. A pure function of (seed, step), so a resumed run
// picks exactly the teachers the uninterrupted run would have.
import { DistilleryError } from '../errors.js';

/** random: one teacher per mini-batch, uniformly (official MEAL); average: all of them; round-robin: in turn. */
export type TeacherSelection = 'random' | 'average' | 'round-robin';

/** Indices of the teachers for optimizer step `step` of a run seeded with `seed`. */
export function selectTeachers(mode: TeacherSelection, count: number, seed: number, step: number): number[] {
  if (!Number.isInteger(count) || count < 1)
    throw new DistilleryError(`teacher count must be a positive integer, got ${count}`, 'E_ARGUMENT');
  switch (mode) {
    case 'average':
      return Array.from({ length: count }, (_, i) => i);
    case 'round-robin':
      return [step % count];
    case 'random':
      return [Math.floor(hashToUnit(seed, step) * count)];
  }
}

// splitmix32-style finaliser of (seed, step): uniform in [0, 1), independent across steps.
function hashToUnit(seed: number, step: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step >>> 0, 0x85ebca77) ^ 0x27d4eb2f) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}
