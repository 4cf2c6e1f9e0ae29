// Which addon file loads: the LibTorch found at run time (from its libraries alone), the prebuild
// whose flavour fits it, and the messages when none does. LibTorch installs of other versions are
// laid out as the real ones are (a pip package's version.py, an archive's build-version, Debian's
// sonames), with empty library files: choosing reads names and version records, never loads them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { chooseAddon, prebuildFlavours } from '../src/addon-file.js';
import { DistilleryError } from '../src/errors.js';
import { findLibTorch, flavourOf } from '../src/libtorch.js';
import { addonChoice, torchInfo } from '../src/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

function files(root: string, entries: Record<string, string>): string {
  for (const [name, text] of Object.entries(entries)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

const archive = (name: string, version: string, cuda: boolean): string =>
  files(join(dir.path, name), {
    'build-version': `${version}\n`,
    'lib/libc10.so': '',
    'lib/libtorch_cpu.so': '',
    'lib/libtorch.so': '',
    ...(cuda ? { 'lib/libtorch_cuda.so': '', 'lib/libc10_cuda.so': '' } : {}),
  });

const packageRoot = (flavours: string[]): string =>
  files(
    join(dir.path, `package-${flavours.join('+') || 'none'}`),
    Object.fromEntries(flavours.map((f) => [`prebuilds/${process.platform}-${process.arch}/distillery.${f}.node`, ''])),
  );

function thrown(action: () => unknown): DistilleryError {
  try {
    action();
  } catch (error) {
    if (error instanceof DistilleryError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('finding LibTorch at run time', () => {
  it('reads the version and CUDA build of an archive, a pip package and a versioned soname', () => {
    const cuda = archive('libtorch-cu130', '2.14.1+cu130', true);
    expect(findLibTorch({ LIBTORCH: cuda })).toEqual({
      source: `LIBTORCH=${cuda}`,
      prefix: cuda,
      libDir: join(cuda, 'lib'),
      version: '2.14.1',
      cuda: '13',
      flavour: 'torch-2.14-cu13',
    });
    const pip = files(join(dir.path, 'site-packages', 'torch'), {
      'version.py': "__version__ = '2.13.0+cpu'\ndebug = False\ncuda: Optional[str] = None\n",
      'lib/libtorch_cpu.so': '',
    });
    expect(findLibTorch({ LIBTORCH: pip })).toMatchObject({ version: '2.13.0', cuda: undefined, flavour: 'torch-2.13-cpu' });
    const pipCuda = files(join(dir.path, 'cuda-site', 'torch'), {
      'version.py': "__version__ = '2.14.1'\ncuda: Optional[str] = '12.8'\n",
      'lib/libtorch_cpu.so': '',
      'lib/libtorch_cuda.so': '',
    });
    expect(findLibTorch({ LIBTORCH: pipCuda }).flavour).toBe('torch-2.14-cu12');
    const debian = files(join(dir.path, 'debian'), { 'lib/libtorch_cpu.so.1.13': '', 'lib/libtorch_cpu.so': '' });
    expect(findLibTorch({ LIBTORCH: debian })).toMatchObject({ version: '1.13', flavour: 'torch-1.13-cpu' });
    expect(flavourOf('2.9.0', undefined)).toBe('torch-2.9-cpu');
  });

  it('finds the system LibTorch by its libraries, and names where it looked when there is none', () => {
    // This machine has Debian's libtorch 1.13 (the embedded default).
    expect(findLibTorch({})).toMatchObject({ source: 'system', flavour: 'torch-1.13-cpu' });
    const empty = files(join(dir.path, 'empty'), { README: 'no libraries here' });
    const error = thrown(() => findLibTorch({ LIBTORCH: empty }));
    expect(error.code).toBe('E_LIBTORCH_MISSING');
    expect(error.message).toContain(`LIBTORCH=${empty} holds no lib/libtorch_cpu.so`);
    expect(error.message).toContain('LIBTORCH_USE_PYTORCH=1');
    const noVersion = files(join(dir.path, 'no-version'), { 'lib/libtorch_cpu.so': '' });
    expect(thrown(() => findLibTorch({ LIBTORCH: noVersion })).message).toContain('does not say its version');
  });
});

describe('choosing the addon file', () => {
  const cpu213 = archive('libtorch-2.13', '2.13.0+cpu', false);
  const cu214 = archive('libtorch-2.14-cu130', '2.14.1+cu130', true);
  const root = packageRoot(['torch-1.13-cpu', 'torch-2.13-cpu', 'torch-2.14-cu13']);

  it('picks the prebuild of the LibTorch found, by flavour', () => {
    expect([...prebuildFlavours(root).keys()].sort()).toEqual(['torch-1.13-cpu', 'torch-2.13-cpu', 'torch-2.14-cu13']);
    const choice = chooseAddon(root, { LIBTORCH: cpu213 });
    expect(choice).toMatchObject({ kind: 'prebuild', flavour: 'torch-2.13-cpu' });
    expect(choice.path).toMatch(/distillery\.torch-2\.13-cpu\.node$/);
    expect(chooseAddon(root, { LIBTORCH: cu214 }).flavour).toBe('torch-2.14-cu13');
    expect(chooseAddon(root, {}).flavour).toBe('torch-1.13-cpu');
  });

  it('runs a CUDA LibTorch without a CUDA prebuild on the CPU one of its version, and says so', () => {
    const cpuOnly = packageRoot(['torch-2.14-cpu']);
    const choice = chooseAddon(cpuOnly, { LIBTORCH: cu214 });
    expect(choice.flavour).toBe('torch-2.14-cpu');
    expect(choice.note).toContain('npx distillery build');
  });

  it('names the LibTorch, the flavour it needs and the ones there are when none fits', () => {
    const old = archive('libtorch-2.12', '2.12.0+cpu', false);
    const error = thrown(() => chooseAddon(root, { LIBTORCH: old }));
    expect(error.code).toBe('E_ADDON_MISSING');
    expect(error.message).toContain('LibTorch 2.12.0 CPU');
    expect(error.message).toContain('it needs torch-2.12-cpu, the package has torch-1.13-cpu, torch-2.13-cpu, torch-2.14-cu13');
    expect(error.message).toContain('npx distillery build');
    expect(thrown(() => chooseAddon(packageRoot([]), {})).message).toContain('the package has none');
  });

  it('prefers DISTILLERY_ADDON, then a local build unless PREBUILDS_ONLY=1', () => {
    const local = files(join(dir.path, 'with-local'), {
      'build/Release/distillery.node': '',
      [`prebuilds/${process.platform}-${process.arch}/distillery.torch-1.13-cpu.node`]: '',
    });
    expect(chooseAddon(local, { DISTILLERY_ADDON: '/x/other.node' })).toMatchObject({ kind: 'env', path: '/x/other.node' });
    expect(chooseAddon(local, {})).toMatchObject({ kind: 'local', path: join(local, 'build', 'Release', 'distillery.node') });
    expect(chooseAddon(local, { PREBUILDS_ONLY: '1' })).toMatchObject({ kind: 'prebuild', flavour: 'torch-1.13-cpu' });
  });

  it('loaded the addon this suite runs on through the same choice', () => {
    const choice = addonChoice();
    expect(choice).toBeDefined();
    const compiled = torchInfo().compiledVersion.split('.').slice(0, 2).join('.');
    if (choice!.kind === 'prebuild') expect(choice!.flavour).toBe(`torch-${compiled}-cpu`);
    expect(choice!.path).toMatch(/\.node$/);
  });
});
