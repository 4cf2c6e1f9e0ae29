// A small seeded generator for choices made in TypeScript (training subsets), so they are the same
// on every platform and Node version.

/** mulberry32: a 32-bit state generator returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct indices of [0, size), chosen by `seed`, in increasing order. */
export function seededSubset(size: number, count: number, seed: number): Int32Array {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`subset size must be a positive integer, got ${count}`);
  if (count >= size) return Int32Array.from({ length: size }, (_, i) => i);
  const random = seededRandom(seed ^ 0x5eed5eed);
  const order = Int32Array.from({ length: size }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (size - i));
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  return order.slice(0, count).sort();
}
