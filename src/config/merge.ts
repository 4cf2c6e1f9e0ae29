/** A partial, not yet validated configuration: from a config file, flags or code. */
export type ConfigPatch = Readonly<Record<string, unknown>>;

/**
 * Overlays `patch` on `base`: mappings merge key by key, anything else (lists included) replaces,
 * and `undefined` leaves the base value alone.
 */
export function mergeConfig(base: ConfigPatch, patch: ConfigPatch): ConfigPatch {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const current = merged[key];
    const mergeable = isMapping(current) && isMapping(value) && sameVariant(current, value);
    merged[key] = mergeable ? mergeConfig(current, value) : value;
  }
  return merged;
}

function isMapping(value: unknown): value is ConfigPatch {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// A patch that switches a section's `type` (e.g. --optimizer adamw over an sgd file) replaces the
// section: the old variant's keys (momentum, milestones…) would be unknown keys to the new one.
function sameVariant(base: ConfigPatch, patch: ConfigPatch): boolean {
  return patch['type'] === undefined || base['type'] === undefined || patch['type'] === base['type'];
}
