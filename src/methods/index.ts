// Picks the method a run config names and builds its training run.
import type { ResolvedRunConfig } from '../config/load.js';
import type { MethodFactory } from '../train/method.js';
import { TrainingRun } from '../train/run.js';
import { kd, kdFromCache } from './kd.js';
import { meal } from './meal.js';
import { mealv2 } from './mealv2.js';
import { one } from './one.js';
import { search } from './search.js';
import { supervised } from './supervised.js';

const METHODS: Record<ResolvedRunConfig['method'], MethodFactory> = {
  supervised: (_config, context) => supervised(context),
  kd: (config, context) => (config.data.softLabels === undefined ? kd(config.teachers, config.kd, context) : kdFromCache(config.kd, context)),
  meal: (config, context) => meal(config.teachers, config.meal, context),
  mealv2: (config, context) => mealv2(config.data.softLabels === undefined ? config.teachers : [], config.meal, context),
  one: (config, context) => one(config.one, context),
  search: (config, context) => search(config.teachers, config.search, context),
};

/** A TrainingRun of `config` with the method it names (`config.method`). */
export function createRun(config: ResolvedRunConfig): TrainingRun {
  return new TrainingRun(config, METHODS[config.method]);
}
