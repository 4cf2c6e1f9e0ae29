// `distillery doctor`: what this installation found (distillery and its addon, LibTorch, CUDA,
// cuDNN, distributed backends, threads, the default datasets), each with what to do when it is
// missing. Every check that can run does, whatever failed before it.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import { DATASET_DEFAULTS } from '../config/datasets.js';
import { DistilleryError } from '../errors.js';
import type { NativeAddon } from '../native.js';
import { addonChoice, addonPath, native } from '../native.js';
import { VERSION } from '../version.js';
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

/** Everything doctor checks, in display order; an addon that cannot load is one failed check, not the end. */
export function doctorChecks(): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  checks.push({ name: 'distillery', ok: true, detail: VERSION });
  checks.push({ name: 'node', ok: Number(process.versions.node.split('.')[0]) >= 20, detail: process.version, fix: 'Node.js 20 or newer' });
  let addon: NativeAddon | undefined;
  try {
    addon = native();
  } catch (error) {
    const code = error instanceof DistilleryError ? error.code : 'E_INTERNAL';
    checks.push({
      name: 'addon',
      ok: false,
      detail: `${addonPath() ?? 'no prebuild or local build found'}: ${error instanceof Error ? error.message : String(error)}`,
      fix: `${code}: the message names the step; docs/install.md explains each`,
    });
  }
  if (addon) checks.push(...nativeChecks(addon));
  checks.push(...datasetChecks());
  return checks;
}

function nativeChecks(addon: NativeAddon): DoctorCheck[] {
  const info = addon.torchInfo();
  const checks: DoctorCheck[] = [];
  const choice = addonChoice();
  const kind = { env: 'DISTILLERY_ADDON', local: 'built locally', prebuild: `prebuild ${choice?.flavour ?? ''}` }[choice?.kind ?? 'local'];
  const compiled = `LibTorch ${info.compiledVersion} ${info.builtWithCuda ? 'CUDA' : 'CPU'}`;
  checks.push({
    name: 'addon',
    ok: true,
    detail: `${kind}, compiled for ${compiled}: ${choice?.path ?? 'unknown file'}${choice?.note ? ` (${choice.note})` : ''}`,
  });
  let runtime: DoctorCheck = {
    name: 'libtorch',
    ok: true,
    detail: `${info.runtimeVersion || info.compiledVersion} (${choice?.libtorch?.source ?? info.source}) ${info.libraryPath}`,
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
    ...(backends.includes('gloo') ? {} : { fix: 'sudo apt-get install libgloo-dev, then npx distillery build' }),
  });
  return checks;
}

// Debian packages Fashion-MNIST (the default dataset); MNIST it does not.
const DATASET_FIX: Readonly<Record<keyof typeof DATASET_DEFAULTS, string>> = {
  'fashion-mnist': 'sudo apt-get install dataset-fashion-mnist',
  mnist:
    'not packaged by Debian: put train-images-idx3-ubyte.gz and the other three MNIST files (torchvision.datasets.MNIST downloads them) ' +
    'in /usr/share/datasets/mnist, or pass --data-dir',
};

function datasetChecks(): DoctorCheck[] {
  return Object.entries(DATASET_DEFAULTS).map(([name, defaults]) => {
    const present =
      existsSync(join(defaults.dataDir, 'train-images-idx3-ubyte.gz')) || existsSync(join(defaults.dataDir, 'train-images-idx3-ubyte'));
    return {
      name,
      ok: present,
      detail: present ? defaults.dataDir : `not at ${defaults.dataDir}`,
      ...(present ? {} : { fix: DATASET_FIX[name as keyof typeof DATASET_DEFAULTS] }),
    };
  });
}

/** Prints the checks on stdout; fails (exit 1) when the addon or LibTorch itself is unusable. */
export function doctorCommand(output: OutputOptions): void {
  const checks = doctorChecks();
  if (output.json) {
    process.stdout.write(`${JSON.stringify({ checks })}\n`);
  } else if (!output.quiet) {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      process.stdout.write(
        `${c.ok ? 'ok ' : '-- '} ${c.name.padEnd(width)}  ${c.detail}${c.fix && !c.ok ? `\n     ${' '.repeat(width)}  fix: ${c.fix}` : ''}\n`,
      );
    }
  }
  const addonBroken = checks.find((c) => c.name === 'addon' && !c.ok);
  if (addonBroken) throw new DistilleryError(addonBroken.detail, 'E_ADDON_MISSING');
  const broken = checks.find((c) => c.name === 'libtorch' && !c.ok);
  if (broken) throw new DistilleryError(broken.detail, 'E_LIBTORCH_MISMATCH');
}
