// Picks the method a run config names and builds its training run.
import type { ResolvedRunConfig } from '../config/load.js';
import type { MethodFactory } from '../train/method.js';
import { TrainingRun } from '../train/run.js';
import { kd } from './kd.js';
import { supervised } from './supervised.js';

const METHODS: Record<ResolvedRunConfig['method'], MethodFactory> = {
  supervised: () => supervised(),
  kd: (config, context) => kd(config.teachers, config.kd, context),
};

/** A TrainingRun of `config` with the method it names (`config.method`). */
export function createRun(config: ResolvedRunConfig): TrainingRun {
  return new TrainingRun(config, METHODS[config.method]);
}
