// What a resumed run would change about how its checkpoint was trained: the settings that shape
// the optimisation itself, compared leaf by leaf.

function leaves(value: unknown, path: string, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) leaves(inner, path ? `${path}.${key}` : key, out);
  } else {
    out.set(path, JSON.stringify(value));
  }
}

/**
 * "path: saved -> now" for every setting that shapes the optimisation (the method, its own section,
 * the optimizer and the schedule) and differs between the checkpoint's config and this run's.
 */
export function resumeChanges(saved: unknown, now: { method: string }): string[] {
  const before = new Map<string, string>();
  const after = new Map<string, string>();
  const savedConfig = (saved !== null && typeof saved === 'object' ? saved : {}) as Record<string, unknown>;
  const nowConfig = now as Record<string, unknown>;
  for (const section of ['method', now.method, 'optimizer', 'schedule']) {
    leaves(savedConfig[section], section, before);
    leaves(nowConfig[section], section, after);
  }
  const changes: string[] = [];
  for (const path of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(path) ?? 'unset';
    const is = after.get(path) ?? 'unset';
    if (was !== is) changes.push(`${path}: ${was} -> ${is}`);
  }
  return changes;
}
