// Finds the LibTorch this process will run on, when the addon loads, in the order the build uses
// (docs/install.md): LIBTORCH, then LIBTORCH_USE_PYTORCH=1 (the torch package of the python3 on
// PATH), then the system's. Only the shared libraries and the version matter here, not headers or
// CMake files, so a runtime-only LibTorch (a pip wheel, Debian's libtorch1.13) is enough to pick a
// prebuilt addon for it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { DistilleryError } from './errors.js';

/** A LibTorch found on this machine. */
export interface LibTorchInstall {
  /** How it was found: `LIBTORCH=<dir>`, `LIBTORCH_USE_PYTORCH=1` or `system`. */
  source: string;
  /** Its root: the torch package's or archive's directory, or /usr for the system's. */
  prefix: string;
  /** The directory holding libtorch_cpu.so. */
  libDir: string;
  /** Its version, e.g. "2.13.0" (major.minor where only the library's soname tells it). */
  version: string;
  /** The CUDA major version of a CUDA build (e.g. "13"), "unknown" when a CUDA build does not say; undefined for a CPU build. */
  cuda: string | undefined;
  /** The prebuild flavour that runs on it, e.g. "torch-2.13-cpu" or "torch-2.14-cu13". */
  flavour: string;
}

/** How to provide LibTorch, for every message that says none was found. */
export const LIBTORCH_HELP =
  'provide LibTorch 1.13 to 2.x in one of three ways: `sudo apt-get install libtorch-dev` (the system one), ' +
  'export LIBTORCH_USE_PYTORCH=1 (the torch package of the python3 on PATH, e.g. `pip install torch`), ' +
  'or export LIBTORCH=/path/to/libtorch (a pytorch.org archive); see docs/install.md';

function missing(message: string): DistilleryError {
  return new DistilleryError(`${message}; ${LIBTORCH_HELP}`, 'E_LIBTORCH_MISSING');
}

function hasTorchCpu(dir: string): boolean {
  try {
    return readdirSync(dir).some((name) => /^libtorch_cpu\.so(\.\d+)*$/.test(name));
  } catch {
    return false;
  }
}

function readIfExists(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** The version and CUDA build of the LibTorch at `prefix` (with libraries in `libDir`), from whichever record it keeps. */
function describe(prefix: string, libDir: string): { version: string; cuda: string | undefined } {
  let version: string | undefined;
  let cuda: string | undefined;
  const files = readdirSync(libDir);
  // A pip/conda torch package says both in version.py; a pytorch.org archive in build-version ("2.14.1+cu130").
  const python = readIfExists(join(prefix, 'version.py'));
  if (python) {
    version = /^__version__\s*=\s*['"]([^'"]+)['"]/m.exec(python)?.[1];
    cuda = /^cuda\b[^=]*=\s*['"](\d+)\./m.exec(python)?.[1];
  }
  version ??= readIfExists(join(prefix, 'build-version'))?.trim();
  if (version === undefined) {
    for (const file of [
      'include/torch/headeronly/version.h',
      'include/torch/version.h',
      'include/torch/csrc/api/include/torch/version.h',
    ]) {
      const text = readIfExists(join(prefix, file));
      const part = (name: string): string | undefined => text && new RegExp(`#define TORCH_VERSION_${name} (\\d+)`).exec(text)?.[1];
      if (part('MAJOR') && part('MINOR') && part('PATCH')) {
        version = `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
        break;
      }
    }
  }
  // Debian's libraries carry the version in their soname: libtorch_cpu.so.1.13.
  version ??= files.map((name) => /^libtorch_cpu\.so\.(\d+\.\d+(?:\.\d+)?)$/.exec(name)?.[1]).find((found) => found !== undefined);
  if (version === undefined)
    throw missing(`the LibTorch in ${libDir} does not say its version (no version.py, build-version, torch/version.h or versioned soname)`);
  const suffix = /\+cu(\d+)\d$/.exec(version);
  cuda ??= suffix?.[1];
  const isCuda = files.some((name) => /^libtorch_cuda\.so(\.\d+)*$/.test(name));
  return { version: version.replace(/\+.*$/, ''), cuda: isCuda ? (cuda ?? 'unknown') : undefined };
}

/** The prebuild flavour for a LibTorch version and CUDA build: LibTorch's C++ ABI is only stable within a minor version. */
export function flavourOf(version: string, cuda: string | undefined): string {
  const [major, minor] = version.split('.');
  return `torch-${major}.${minor}-${cuda === undefined ? 'cpu' : `cu${cuda}`}`;
}

function install(source: string, prefix: string, libDir: string): LibTorchInstall {
  const { version, cuda } = describe(prefix, libDir);
  return { source, prefix, libDir, version, cuda, flavour: flavourOf(version, cuda) };
}

function pythonTorchDir(): string | undefined {
  // find_spec locates the package without importing it (importing torch takes a second or more).
  const code =
    "import importlib.util, os; s = importlib.util.find_spec('torch'); print(os.path.dirname(s.origin) if s and s.origin else '')";
  for (const python of ['python3', 'python']) {
    const run = spawnSync(python, ['-c', code], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const dir = run.status === 0 ? run.stdout.trim() : '';
    if (dir) return dir;
  }
  return undefined;
}

/** The LibTorch this process uses, found as docs/install.md says; throws E_LIBTORCH_MISSING naming where it looked. */
export function findLibTorch(env: NodeJS.ProcessEnv = process.env): LibTorchInstall {
  if (env.LIBTORCH) {
    const prefix = env.LIBTORCH;
    const libDir = join(prefix, 'lib');
    if (!hasTorchCpu(libDir)) throw missing(`LIBTORCH=${prefix} holds no lib/libtorch_cpu.so`);
    return install(`LIBTORCH=${prefix}`, prefix, libDir);
  }
  if (env.LIBTORCH_USE_PYTORCH === '1') {
    const prefix = pythonTorchDir();
    if (!prefix) throw missing('LIBTORCH_USE_PYTORCH=1, but no python3 on PATH has the torch package');
    const libDir = join(prefix, 'lib');
    if (!hasTorchCpu(libDir)) throw missing(`LIBTORCH_USE_PYTORCH=1: the torch package at ${prefix} holds no lib/libtorch_cpu.so`);
    return install('LIBTORCH_USE_PYTORCH=1', prefix, libDir);
  }
  const multiarch = existsSync('/usr/lib') ? readdirSync('/usr/lib').filter((name) => /-linux-gnu$/.test(name)) : [];
  for (const libDir of [...multiarch.map((name) => join('/usr/lib', name)), '/usr/lib']) {
    if (hasTorchCpu(libDir)) return install('system', '/usr', libDir);
  }
  for (const prefix of ['/usr/local/libtorch', '/opt/libtorch']) {
    if (hasTorchCpu(join(prefix, 'lib'))) return install('system', prefix, join(prefix, 'lib'));
  }
  throw missing(
    'LibTorch not found (LIBTORCH and LIBTORCH_USE_PYTORCH unset; no libtorch_cpu.so in /usr/lib, /usr/local/libtorch or /opt/libtorch)',
  );
}
