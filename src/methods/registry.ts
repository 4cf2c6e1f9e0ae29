// The training methods, one line each. The run config's schema, the CLI's --method choices and
// flags, and createRun are all derived from this list; nothing else names a method.
import type { ConfigFlag } from '../config/flags.js';
import type { ResolvedRunConfig } from '../config/load.js';
import type { MethodDefinition } from '../train/method.js';
import { TrainingRun } from '../train/run.js';
import { dkd } from './dkd.js';
import { kd } from './kd.js';
import { meal } from './meal.js';
import { mealv2 } from './mealv2.js';
import { one } from './one.js';
import { search } from './search.js';
import { supervised } from './supervised.js';

/** Every training method, in help order. */
export const METHODS = [supervised, kd, meal, mealv2, one, search, dkd] as const;

/** A method's name, as `--method` and `method:` take it. */
export type MethodName = (typeof METHODS)[number]['name'];

/** The method registered as `name`, or undefined. */
export function methodNamed(name: string): MethodDefinition | undefined {
  return (METHODS as readonly MethodDefinition[]).find((m) => m.name === name);
}

/** The methods a command runs (`distill` runs every distillation method). */
export function methodsOf(command: MethodDefinition['command']): MethodDefinition[] {
  return (METHODS as readonly MethodDefinition[]).filter((m) => m.command === command);
}

/** A method's flags with their full config paths (`--temperature` sets `kd.temperature`). */
export function methodFlags(method: MethodDefinition): ConfigFlag[] {
  return method.flags.map((flag) => ({ ...flag, path: `${method.name}.${flag.path}` }));
}

/** A TrainingRun of `config` with the method it names (`config.method`). */
export function createRun(config: ResolvedRunConfig): TrainingRun {
  const method = methodNamed(config.method);
  if (method === undefined) throw new Error(`no method named '${config.method}' (the config was not built by buildConfig)`);
  return new TrainingRun(config, method);
}
