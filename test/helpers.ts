// Shared test utilities: the Python reference, temporary directories, the CLI, the dataset.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Dataset, Loader, Objective } from '../src/index.js';
import type { Batch, LoaderOptions, StepStats, Trainer } from '../src/index.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PYTHON = '/usr/bin/python3';
export const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/** Runs a script from test/python with the Debian python3 (torch 1.13, torchvision); returns stdout. */
export function runPython(script: string, args: string[] = [], input?: string): string {
  // Never with a sanitizer runtime preloaded for the addon (scripts/sanitize.sh): Python is not what is checked.
  const env = { ...process.env, LD_PRELOAD: '' };
  const run = spawnSync(PYTHON, [join(ROOT, 'test', 'python', script), ...args], { encoding: 'utf8', input, env });
  if (run.status !== 0) throw new Error(`${script} failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix = 'distillery-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Runs the built CLI (dist/cli.js); resolves with exit status, stdout and stderr. Asynchronous on
 * purpose: a long spawnSync blocks the test worker, which then misses vitest's RPC deadline.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

/** Loader options in file order without augmentation, raw pixel values (mean 0, std 1), one worker; `patch` overrides. */
export function loaderOptions(patch: Partial<LoaderOptions> = {}): LoaderOptions {
  return {
    batchSize: 16,
    shuffle: false,
    dropLast: false,
    seed: 0,
    pad: 0,
    flip: false,
    workers: 1,
    prefetch: 1,
    mean: [0],
    std: [1],
    ...patch,
  };
}

/** The first 32 Fashion-MNIST training images, unshuffled and unaugmented, as one batch; dispose() frees it all. */
export async function firstTrainingBatch(): Promise<{ batch: Batch; dispose: () => void }> {
  const train = await Dataset.loadIdx(FASHION_MNIST, 'train');
  const loader = new Loader(train, loaderOptions({ batchSize: 32, mean: [0.286], std: [0.353] }));
  const batch = (await loader.epoch(0).next()).value!;
  return {
    batch,
    dispose: () => {
      batch.dispose();
      loader.dispose();
      train.dispose();
    },
  };
}

/** Deterministic pseudo-random floats for test inputs. */
export function randomFloats(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 4294967296) * 4 - 2;
  });
}

/** The error `fn` throws (synchronously or by rejecting); fails the test if it does not throw. */
export async function thrown(fn: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected an error, none was thrown');
}

/** One supervised step of `trainer` on `batch` (a 'supervised' objective made and freed for it). */
export async function supervisedStep(trainer: Trainer, batch: Batch, lr: number): Promise<StepStats> {
  using objective = await Objective.create('supervised', trainer, []);
  return trainer.step(batch, objective, lr);
}
