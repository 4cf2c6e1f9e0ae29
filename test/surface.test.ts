// The public surface stays honest: the addon exports exactly what NativeAddon declares, every export
// of the package is documented in docs/api.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { NativeAddon } from '../src/native.js';
import { LIMIT_NAMES, native } from '../src/native.js';
import { ROOT } from './helpers.js';

// Every key of NativeAddon, once: typecheck fails when this list and the type differ.
const DECLARED = {
  setErrorClass: true,
  torchInfo: true,
  checkRuntime: true,
  cudaMemory: true,
  emptyCache: true,
  setCudnnBenchmark: true,
  setThreads: true,
  limits: true,
  setLimits: true,
  manualSeed: true,
  listArchs: true,
  readMetadata: true,
  loadIdx: true,
  openImageFolder: true,
  loadCifar: true,
  evaluate: true,
  predict: true,
  evaluateOutputs: true,
  evaluateMembers: true,
  openSoftLabelWriter: true,
  writeSafetensors: true,
  readSafetensors: true,
  writeFileAtomic: true,
  kdLoss: true,
  oneLoss: true,
  alignBlock: true,
  similarityLoss: true,
  discriminatorLoss: true,
  createProcessGroup: true,
  distributedBackends: true,
  createModel: true,
  createObjective: true,
  objectiveNames: true,
  liveHandles: true,
  checkpointFormat: true,
  Loader: true,
  Batch: true,
  Trainer: true,
} as const satisfies Record<keyof NativeAddon, true>;

// Runtime names the addon also registers that the type deliberately leaves out (classes only ever
// made natively and handed back, never constructed from TypeScript).
const UNDECLARED_CLASSES = ['Dataset', 'Model', 'Objective', 'SoftLabelWriter'];

/** The names src/index.ts exports (values and types). */
function packageExports(): string[] {
  const source = readFileSync(join(ROOT, 'src', 'index.ts'), 'utf8');
  const names: string[] = [];
  for (const match of source.matchAll(/export (?:type )?\{([^}]*)\}/g)) {
    for (const item of match[1]!.split(',')) {
      const name = item
        .trim()
        .split(/\s+as\s+/)
        .at(-1)!
        .trim();
      if (name) names.push(name);
    }
  }
  return names;
}

describe('public surface', () => {
  it('the addon exports exactly what NativeAddon declares', () => {
    const real = Object.keys(native()).sort();
    expect(real).toEqual([...Object.keys(DECLARED), ...UNDECLARED_CLASSES].sort());
  });

  it('declares the limits the addon enforces, no more and no fewer', () => {
    expect(Object.keys(native().limits()).sort()).toEqual([...LIMIT_NAMES].sort());
  });

  it('every export of the package has an entry in docs/api.md', () => {
    const api = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
    const missing = packageExports().filter((name) => !new RegExp(`\`${name}\\b`).test(api));
    expect(missing).toEqual([]);
  });
});
