// `distillery doctor`: what this installation found (LibTorch, CUDA, cuDNN, distributed backends,
// threads, the default datasets), each with what to do when it is missing.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import { DATASET_DEFAULTS } from '../config/datasets.js';
import { DistilleryError } from '../errors.js';
import { native } from '../native.js';
import type { OutputOptions } from './options.js';

/** One finding: `ok` false means the feature is unavailable, `fix` says how to get it. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

function version(n: number, parts: number[]): string {
  // cuDNN 9.1.0 is 90100, CUDA 12.4 is 12040: split by the given divisors.
  const out: number[] = [];
  let rest = n;
  for (const d of parts) {
    out.push(Math.floor(rest / d));
    rest %= d;
  }
  return out.join('.');
}

/** Everything doctor checks, in display order; throws only when the addon cannot load. */
export function doctorChecks(): DoctorCheck[] {
  const addon = native();
  const info = addon.torchInfo();
  const checks: DoctorCheck[] = [];
  checks.push({ name: 'node', ok: Number(process.versions.node.split('.')[0]) >= 20, detail: process.version, fix: 'Node.js 20 or newer' });
  let runtime: DoctorCheck = {
    name: 'libtorch',
    ok: true,
    detail: `${info.runtimeVersion || info.compiledVersion} (${info.source}) ${info.libraryPath}`,
  };
  try {
    addon.checkRuntime();
  } catch (error) {
    runtime = { ...runtime, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
  checks.push(runtime);
  checks.push({ name: 'threads', ok: true, detail: `${info.threads} intra-op threads on ${availableParallelism()} cores (--threads)` });
  const cudaFix = info.builtWithCuda
    ? 'no GPU visible to this CUDA LibTorch: check nvidia-smi and CUDA_VISIBLE_DEVICES'
    : 'built against a CPU-only LibTorch: rebuild with LIBTORCH=<CUDA libtorch> or LIBTORCH_USE_PYTORCH=1 (docs/install.md)';
  checks.push({
    name: 'cuda',
    ok: info.cudaAvailable,
    detail: info.cudaAvailable
      ? `${info.cudaDeviceCount} device(s), CUDA runtime ${version(info.cudaRuntimeVersion, [1000, 10])}`
      : info.builtWithCuda
        ? 'CUDA LibTorch, no device'
        : 'not in this LibTorch',
    ...(info.cudaAvailable ? {} : { fix: cudaFix }),
  });
  info.devices.forEach((d, i) =>
    checks.push({
      name: `cuda:${i}`,
      ok: true,
      detail: `${d.name}, ${(d.totalMemory / 2 ** 30).toFixed(1)} GiB, compute capability ${d.capability}`,
    }),
  );
  if (info.cudaAvailable) {
    checks.push({
      name: 'cudnn',
      ok: info.cudnnAvailable,
      detail: info.cudnnAvailable ? version(info.cudnnVersion, [10000, 100, 1]) : 'not found',
      ...(info.cudnnAvailable ? {} : { fix: 'install cuDNN for this CUDA version' }),
    });
  }
  const backends = addon.distributedBackends();
  checks.push({
    name: 'distributed',
    ok: backends.length > 0,
    detail: backends.length > 0 ? `c10d ${backends.join(', ')} (distillery launch)` : 'no c10d backend',
    ...(backends.includes('gloo') ? {} : { fix: 'sudo apt-get install libgloo-dev, then DISTILLERY_FORCE_BUILD=1 npm rebuild distillery' }),
  });
  for (const [name, defaults] of Object.entries(DATASET_DEFAULTS)) {
    const present =
      existsSync(join(defaults.dataDir, 'train-images-idx3-ubyte.gz')) || existsSync(join(defaults.dataDir, 'train-images-idx3-ubyte'));
    checks.push({
      name,
      ok: present,
      detail: present ? defaults.dataDir : `not at ${defaults.dataDir}`,
      ...(present ? {} : { fix: `sudo apt-get install dataset-${name}` }),
    });
  }
  return checks;
}

/** Prints the checks; fails (exit 1) when LibTorch itself is unusable. */
export function doctorCommand(output: OutputOptions): void {
  const checks = doctorChecks();
  if (output.json) {
    process.stdout.write(`${JSON.stringify({ checks })}\n`);
  } else if (!output.quiet) {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      process.stderr.write(
        `${c.ok ? 'ok ' : '-- '} ${c.name.padEnd(width)}  ${c.detail}${c.fix && !c.ok ? `\n     ${' '.repeat(width)}  fix: ${c.fix}` : ''}\n`,
      );
    }
  }
  const broken = checks.find((c) => c.name === 'libtorch' && !c.ok);
  if (broken) throw new DistilleryError(broken.detail, 'E_LIBTORCH_MISMATCH');
}
