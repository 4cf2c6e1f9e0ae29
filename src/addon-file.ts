// Chooses the addon file to load and makes its LibTorch loadable. In order: DISTILLERY_ADDON's
// file; a local build (build/Release, what `distillery build` writes) unless PREBUILDS_ONLY is set;
// else the prebuild whose flavour (LibTorch minor version, CPU or CUDA major) fits the LibTorch
// found here. Prebuilds carry no RUNPATH, since the build machine's paths mean nothing on a user's:
// the LibTorch libraries found here are loaded by absolute path first, and the dynamic loader then
// resolves the addon's dependencies (libtorch_cpu.so, libc10.so, ...) to them by soname.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { DistilleryError } from './errors.js';
import { findLibTorch, type LibTorchInstall } from './libtorch.js';

/** Which addon file loads, why, and on what. */
export interface AddonChoice {
  path: string;
  /** `env`: DISTILLERY_ADDON; `local`: built on this machine; `prebuild`: shipped in the package. */
  kind: 'env' | 'local' | 'prebuild';
  /** A prebuild's flavour, e.g. "torch-2.13-cpu". */
  flavour?: string;
  /** The LibTorch found here; undefined when none was found (an env or local build may still load). */
  libtorch?: LibTorchInstall;
  /** Why a CUDA LibTorch runs a CPU prebuild, when it does. */
  note?: string;
}

interface TagParser {
  parseTags(file: string): { file: string } | undefined;
  matchTags(runtime: string, abi: string): (tags: object) => boolean;
  compareTags(runtime: string): (a: object, b: object) => number;
}

const PREBUILD = /^distillery\.(torch-\d+\.\d+-(?:cpu|cu\d+|cuunknown))\./;
// dlopen flags: resolve everything now, and keep the library loaded when Node closes its handle.
const RTLD_NOW = 2;
const RTLD_NODELETE = 0x1000;

/** The prebuilds shipped for this platform and architecture, by flavour. */
export function prebuildFlavours(root: string): Map<string, string> {
  const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const found = new Map<string, string>();
  if (!existsSync(dir)) return found;
  // node-gyp-build's tag rules keep out files for another runtime, ABI or libc.
  const tags = createRequire(import.meta.url)('node-gyp-build') as TagParser;
  const fits = tags.matchTags('node', process.versions.modules);
  const candidates = readdirSync(dir)
    .map((name) => tags.parseTags(name))
    .filter((parsed): parsed is { file: string } => parsed !== undefined && fits(parsed))
    .sort(tags.compareTags('node'));
  for (const { file } of candidates) {
    const flavour = PREBUILD.exec(file)?.[1];
    if (flavour && !found.has(flavour)) found.set(flavour, join(dir, file));
  }
  return found;
}

function noPrebuild(libtorch: LibTorchInstall, available: Map<string, string>): DistilleryError {
  const have = available.size > 0 ? [...available.keys()].join(', ') : 'none';
  const kind = libtorch.cuda === undefined ? 'CPU' : `CUDA ${libtorch.cuda}`;
  return new DistilleryError(
    `no prebuilt addon fits LibTorch ${libtorch.version} ${kind} (${libtorch.source}, ${libtorch.libDir}): it needs ${libtorch.flavour}, ` +
      `the package has ${have}; run \`npx distillery build\` to compile one against it (a few minutes; docs/install.md)`,
    'E_ADDON_MISSING',
  );
}

/** The addon file to load here and the LibTorch it runs on; throws E_ADDON_MISSING or E_LIBTORCH_MISSING saying what to do. */
export function chooseAddon(root: string, env: NodeJS.ProcessEnv = process.env): AddonChoice {
  let libtorch: LibTorchInstall | undefined;
  let notFound: unknown;
  try {
    libtorch = findLibTorch(env);
  } catch (error) {
    notFound = error;
  }
  const withTorch = <T extends object>(choice: T): T & { libtorch?: LibTorchInstall } => (libtorch ? { ...choice, libtorch } : choice);
  if (env.DISTILLERY_ADDON) return withTorch({ path: env.DISTILLERY_ADDON, kind: 'env' as const });
  const local = join(root, 'build', 'Release', 'distillery.node');
  if (env.PREBUILDS_ONLY !== '1' && existsSync(local)) return withTorch({ path: local, kind: 'local' as const });
  if (!libtorch) throw notFound;
  const available = prebuildFlavours(root);
  const exact = available.get(libtorch.flavour);
  if (exact) return { path: exact, kind: 'prebuild', flavour: libtorch.flavour, libtorch };
  const cpu = libtorch.flavour.replace(/-cu\w+$/, '-cpu');
  const fallback = libtorch.cuda !== undefined ? available.get(cpu) : undefined;
  if (fallback) {
    return {
      path: fallback,
      kind: 'prebuild',
      flavour: cpu,
      libtorch,
      note: `no ${libtorch.flavour} prebuild, so this CUDA LibTorch runs the CPU prebuild (no GPU); \`npx distillery build\` compiles one with CUDA`,
    };
  }
  throw noPrebuild(libtorch, available);
}

/** Loads a prebuild's LibTorch libraries from where they were found, so that the addon's sonames resolve to them. */
export function preloadLibTorch(choice: AddonChoice): void {
  if (choice.kind !== 'prebuild' || !choice.libtorch) return;
  const { libDir } = choice.libtorch;
  const files = readdirSync(libDir);
  const wanted = ['libc10', 'libtorch_cpu', ...(choice.flavour?.endsWith('-cpu') ? [] : ['libc10_cuda', 'libtorch_cuda']), 'libtorch'];
  for (const base of wanted) {
    const file = files.filter((name) => name.startsWith(`${base}.so`) && /^\.so(\.\d+)*$/.test(name.slice(base.length))).sort()[0];
    if (!file) continue;
    try {
      process.dlopen({ exports: {} }, join(libDir, file), RTLD_NOW | RTLD_NODELETE);
    } catch (error) {
      // Node refuses a library that is not an addon after loading it; NODELETE keeps it loaded.
      const message = error instanceof Error ? error.message : String(error);
      if (!message.includes('did not self-register')) {
        throw new DistilleryError(`LibTorch's ${join(libDir, file)} does not load: ${message.split('\n')[0]}`, 'E_LIBTORCH_MISSING');
      }
    }
  }
}
