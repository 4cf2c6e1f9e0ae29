import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/errors.js';
import { createSchedule, ScheduleConfig } from '../src/train/schedules.js';

// The system interpreter carries torch; a pyenv shim earlier on PATH may not.
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/schedules_reference.py', import.meta.url));
const RELATIVE_TOLERANCE = 1e-9;

interface ReferenceCase {
  name: string;
  config: unknown;
  baseLr: number;
  epochs: number;
  stepsPerEpoch: number;
  lrs: number[];
}

function loadReference(): { torch: string; cases: ReferenceCase[] } | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.warn(
      `\n!!! SKIPPING torch schedule golden tests: ${PYTHON} cannot import torch ` +
        `(${(probe.error?.message ?? probe.stderr).trim().split('\n').pop()}) !!!\n`,
    );
    return undefined;
  }
  const run = spawnSync(PYTHON, [SCRIPT], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`${SCRIPT} failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as { torch: string; cases: ReferenceCase[] };
}

const reference = loadReference();

describe.skipIf(reference === undefined)(`learning-rate schedules match torch ${reference?.torch ?? ''}`, () => {
  it.each(reference?.cases ?? [])('$name', ({ config, baseLr, epochs, stepsPerEpoch, lrs }) => {
    const schedule = createSchedule(ScheduleConfig.parse(config), { baseLr, epochs, stepsPerEpoch });
    expect(schedule.totalSteps).toBe(lrs.length);
    lrs.forEach((expected, step) => {
      const actual = schedule.lrAt(step);
      const error = Math.abs(actual - expected) / Math.abs(expected);
      if (!(error <= RELATIVE_TOLERANCE)) {
        expect.fail(`step ${step}: lr ${actual}, torch ${expected} (relative error ${error})`);
      }
    });
  });
});

describe('schedule validation', () => {
  const run = { baseLr: 0.1, epochs: 4, stepsPerEpoch: 10 };

  it('rejects steps outside the run', () => {
    const schedule = createSchedule(ScheduleConfig.parse({ type: 'constant' }), run);
    expect(() => schedule.lrAt(40)).toThrow(RangeError);
    expect(() => schedule.lrAt(-1)).toThrow(RangeError);
    expect(() => schedule.lrAt(1.5)).toThrow(RangeError);
  });

  it('rejects warmup that leaves no epochs for the main schedule', () => {
    const config = ScheduleConfig.parse({ type: 'cosine', warmupEpochs: 4 });
    expect(() => createSchedule(config, run)).toThrow(ConfigError);
    expect(() => createSchedule(config, run)).toThrow(/schedule\.warmupEpochs/);
  });

  it('rejects a one-cycle ramp shorter than a step', () => {
    const config = ScheduleConfig.parse({ type: 'onecycle', pctStart: 0.02 });
    expect(() => createSchedule(config, run)).toThrow(/schedule\.pctStart/);
  });

  it('rejects non-increasing milestones and a zero warmup start factor', () => {
    expect(ScheduleConfig.safeParse({ type: 'multistep', milestones: [5, 5] }).success).toBe(false);
    expect(ScheduleConfig.safeParse({ type: 'cosine', warmupEpochs: 1, warmupStartFactor: 0 }).success).toBe(false);
  });
});
