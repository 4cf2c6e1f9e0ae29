// The `limits` section of a config and the --limit flag: resource limits on outside input.
import { z } from 'zod';

import type { LimitName, Limits } from '../native.js';
import { LIMIT_NAMES } from '../native.js';
import { ConfigError } from './errors.js';
import { parseCount } from './flags.js';

const limitValue = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** `limits:` in a config: any of the limits, each a positive integer; the rest keep their values. */
export const LimitsConfig = z.strictObject(
  Object.fromEntries(LIMIT_NAMES.map((name) => [name, limitValue.optional()])) as Record<LimitName, z.ZodOptional<typeof limitValue>>,
);
/** Parsed limits section. */
export type LimitsConfig = Partial<Limits>;

/** Reads one `--limit name=value` (value with an optional K, M or G suffix) into `previous`; ConfigError naming what is wrong. */
export function parseLimitFlag(text: string, previous: Partial<Limits> = {}): Partial<Limits> {
  const equals = text.indexOf('=');
  const name = text.slice(0, equals).trim();
  if (equals < 0 || !(LIMIT_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError([`--limit ${text}: expected name=value with a name among ${LIMIT_NAMES.join(', ')}`]);
  }
  const value = parseCount(text.slice(equals + 1), true) ?? Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError([`--limit ${text}: the value must be a positive integer (e.g. 400M or 4e8)`]);
  }
  return { ...previous, [name as LimitName]: value };
}
