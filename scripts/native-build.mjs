#!/usr/bin/env node
// The one description of the native build that CMake (CMakeLists.txt, cmake/) and node-gyp
// (binding.gyp) both read: the source files, and where LibTorch is (the discovery order of
// docs/install.md: LIBTORCH, then LIBTORCH_USE_PYTORCH=1, then the system's).
//   node scripts/native-build.mjs sources core|addon   source files, one per line, relative to the root
//   node scripts/native-build.mjs libtorch             what was found, as JSON (or an error on stderr, exit 1)
//   node scripts/native-build.mjs gyp <field>          one binding.gyp list: include_dirs, libraries, defines, std, cflags, ldflags
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CORE = ['core', 'models', 'losses', 'io', 'data', 'train', 'distributed', 'objectives'];
const HELP = `distillery needs LibTorch 1.13 to 2.x. Provide it in one of three ways:
  1. export LIBTORCH=/path/to/libtorch   (the pytorch.org archive, or a conda/pip torch: <site-packages>/torch)
  2. export LIBTORCH_USE_PYTORCH=1       (use the torch package of the python3 on PATH)
  3. sudo apt-get install libtorch-dev   (Debian/Ubuntu system LibTorch, the default)`;

/** The .cpp files of native/<layer> for each layer, sorted, relative to the package root. */
export function sources(layers) {
  return layers.flatMap((layer) =>
    readdirSync(join(ROOT, 'native', layer))
      .filter((name) => name.endsWith('.cpp'))
      .sort()
      .map((name) => `native/${layer}/${name}`),
  );
}

function fail(message) {
  const error = new Error(`${message}\n${HELP}`);
  error.code = 'E_LIBTORCH_MISSING';
  throw error;
}

// The directory that holds share/cmake/Torch/TorchConfig.cmake (or TorchConfig.cmake itself).
function configIn(prefix) {
  for (const dir of [join(prefix, 'share', 'cmake', 'Torch'), prefix, join(prefix, 'Torch')]) {
    if (existsSync(join(dir, 'TorchConfig.cmake'))) return dir;
  }
  return undefined;
}

function locate(env) {
  if (env.LIBTORCH) {
    const config = configIn(env.LIBTORCH);
    if (!config) fail(`LibTorch not found at LIBTORCH=${env.LIBTORCH} (no share/cmake/Torch/TorchConfig.cmake there).`);
    return { source: `LIBTORCH=${env.LIBTORCH}`, config, prefix: env.LIBTORCH };
  }
  if (env.LIBTORCH_USE_PYTORCH === '1') {
    let prefix;
    for (const python of ['python3', 'python']) {
      try {
        prefix = execFileSync(python, ['-c', 'import os, torch; print(os.path.dirname(torch.__file__))'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim();
        break;
      } catch {
        // the next name, or the error below
      }
    }
    if (!prefix) fail('LIBTORCH_USE_PYTORCH=1, but no python3 on PATH can import torch.');
    const config = configIn(prefix);
    if (!config) fail(`LIBTORCH_USE_PYTORCH=1: the torch package at ${prefix} has no share/cmake/Torch (not a full torch install?).`);
    return { source: 'LIBTORCH_USE_PYTORCH=1', config, prefix };
  }
  // Where distributions put it: Debian/Ubuntu's libtorch-dev, then a LibTorch unpacked under /usr/local or /opt.
  const multiarch = readdirSync('/usr/lib').filter((d) => /-linux-gnu$/.test(d));
  for (const dir of [
    ...multiarch.map((d) => join('/usr/lib', d, 'cmake', 'Torch')),
    '/usr/share/cmake/Torch',
    '/usr/local/libtorch/share/cmake/Torch',
    '/opt/libtorch/share/cmake/Torch',
  ]) {
    if (existsSync(join(dir, 'TorchConfig.cmake'))) {
      const prefix = dir.startsWith('/usr/lib/') || dir.startsWith('/usr/share/') ? '/usr' : join(dir, '..', '..', '..');
      return { source: 'system', config: dir, prefix };
    }
  }
  fail(
    'LibTorch not found (looked via the system: no TorchConfig.cmake in /usr/lib/<arch>/cmake/Torch, /usr/share/cmake, /usr/local/libtorch or /opt/libtorch).',
  );
}

function libraryDir(prefix) {
  for (const dir of [
    join(prefix, 'lib'),
    ...readdirSync(join(prefix, 'lib'), { withFileTypes: true })
      .filter((e) => e.isDirectory() && /-linux-gnu$/.test(e.name))
      .map((e) => join(prefix, 'lib', e.name)),
  ]) {
    if (readdirSync(dir).some((f) => /^libtorch_cpu\.so/.test(f))) return dir;
  }
  fail(`LibTorch's libraries (libtorch_cpu.so) not found under ${prefix}/lib.`);
}

function version(includeDirs) {
  // torch/version.h up to PyTorch 2.7; torch/headeronly/version.h (which it includes) from 2.8.
  const parts = {};
  for (const dir of includeDirs) {
    for (const file of ['torch/version.h', 'torch/csrc/api/include/torch/version.h', 'torch/headeronly/version.h']) {
      if (!existsSync(join(dir, file))) continue;
      for (const [, name, value] of readFileSync(join(dir, file), 'utf8').matchAll(/#define TORCH_VERSION_(MAJOR|MINOR|PATCH) (\d+)/g))
        parts[name] = Number(value);
    }
  }
  if (parts.MAJOR === undefined || parts.MINOR === undefined || parts.PATCH === undefined)
    fail(`no TORCH_VERSION_MAJOR/MINOR/PATCH in torch/version.h under ${includeDirs.join(', ')}.`);
  return `${parts.MAJOR}.${parts.MINOR}.${parts.PATCH}`;
}

/** Where LibTorch is and how to build against it, found as docs/install.md says. */
export function findLibTorch(env = process.env) {
  const { source, config, prefix } = locate(env);
  const include = join(prefix, 'include');
  const includeDirs = [include, join(include, 'torch', 'csrc', 'api', 'include')];
  const found = version(includeDirs);
  const [major, minor] = found.split('.').map(Number);
  if (major < 1 || (major === 1 && minor < 13) || major >= 3) fail(`LibTorch ${found} (${source}) is not supported.`);
  const libDir = libraryDir(prefix);
  const has = (name) => readdirSync(libDir).some((f) => f.startsWith(`lib${name}.so`));
  const cuda = has('torch_cuda');
  const abi = /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(readFileSync(join(config, 'TorchConfig.cmake'), 'utf8'))?.[1];
  // What LibTorch's own targets ask of their users (USE_DISTRIBUTED, USE_C10D_GLOO, ...): CMake gets
  // these from the imported targets, node-gyp from here.
  const targets = join(config, '..', 'Caffe2', 'Caffe2Targets.cmake');
  const torchDefinitions = existsSync(targets)
    ? [...readFileSync(targets, 'utf8').matchAll(/INTERFACE_COMPILE_DEFINITIONS "([^"]*)"/g)]
        .flatMap(([, list]) => list.split(';'))
        .filter((d, i, all) => d.length > 0 && !d.startsWith('$<') && !d.startsWith('\\$<') && all.indexOf(d) === i)
    : [];
  const headerDirs = [...includeDirs, '/usr/include'];
  // The C++ standard LibTorch's headers demand (torch/all.h refuses older ones): 17 up to PyTorch
  // 2.13, 20 from 2.14. distillery's sources are C++17 and compile as either.
  const allHeader = includeDirs.map((d) => join(d, 'torch', 'all.h')).find((f) => existsSync(f));
  const cxxStandard = allHeader && /__cplusplus < 202002L/.test(readFileSync(allHeader, 'utf8')) ? 20 : 17;
  // NCCL's header: beside a pip torch (the nvidia-nccl wheel), under NCCL_ROOT, or the system's.
  const ncclInclude = cuda
    ? [
        ...includeDirs,
        ...(env.NCCL_ROOT ? [join(env.NCCL_ROOT, 'include')] : []),
        join(prefix, '..', 'nvidia', 'nccl', 'include'),
        '/usr/include',
      ].find((d) => existsSync(join(d, 'nccl.h')))
    : undefined;
  return {
    source,
    version: found,
    config,
    includeDirs,
    libDir,
    libraries: ['torch', 'torch_cpu', 'c10', ...(cuda ? ['torch_cuda', 'c10_cuda'] : [])],
    cxxFlags: abi === undefined ? [] : [`-D_GLIBCXX_USE_CXX11_ABI=${abi}`],
    cxxStandard,
    torchDefinitions,
    cuda,
    gloo: headerDirs.some((d) => existsSync(join(d, 'gloo', 'config.h'))),
    nccl: ncclInclude !== undefined,
    ncclInclude: ncclInclude ?? '',
  };
}

/** The compile definitions distillery's sources read (the same in both builds). */
export function definitions(torch) {
  return [
    `DISTILLERY_TORCH_VERSION="${torch.version}"`,
    `DISTILLERY_TORCH_SOURCE="${torch.source}"`,
    ...(torch.gloo ? ['DISTILLERY_WITH_GLOO=1'] : []),
    ...(torch.cuda ? ['DISTILLERY_WITH_CUDA=1'] : []),
    ...(torch.nccl ? ['DISTILLERY_WITH_NCCL=1', 'USE_C10D_NCCL'] : []),
  ];
}

function gyp(field, torch) {
  switch (field) {
    case 'include_dirs':
      return [...torch.includeDirs, ...(torch.ncclInclude ? [torch.ncclInclude] : [])];
    case 'libraries':
      // --no-as-needed keeps libtorch_cuda loaded although no symbol of ours names it.
      return [
        '-Wl,--no-as-needed',
        ...torch.libraries.map((l) => `-l${l}`),
        '-Wl,--as-needed',
        '-ljpeg',
        '-lpng',
        '-lz',
        '-lpthread',
        '-ldl',
      ];
    case 'defines':
      return [...definitions(torch), ...torch.torchDefinitions];
    case 'std':
      return [`-std=c++${torch.cxxStandard}`];
    case 'cflags':
      return [...torch.cxxFlags, '-Wall', '-Wextra', '-Wno-unused-parameter'];
    case 'ldflags':
      return [`-L${torch.libDir}`, `-Wl,-rpath,${torch.libDir}`];
    default:
      throw new Error(`unknown gyp field ${field}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [command, arg] = process.argv.slice(2);
  try {
    if (command === 'sources') {
      const list = arg === 'addon' ? sources(['addon']) : arg === 'core' ? sources(CORE) : sources([...CORE, 'addon']);
      console.log(list.join('\n'));
    } else if (command === 'libtorch') {
      const torch = findLibTorch();
      console.log(JSON.stringify({ ...torch, definitions: definitions(torch) }, null, 2));
    } else if (command === 'gyp') {
      // gyp splits the output as a shell would: quotes inside an item are escaped to survive.
      console.log(
        gyp(arg, findLibTorch())
          .map((item) => item.replaceAll('"', '\\"'))
          .join('\n'),
      );
    } else {
      throw new Error(`usage: node scripts/native-build.mjs sources [core|addon] | libtorch | gyp <field>`);
    }
  } catch (error) {
    console.error(`distillery: ${error.message}`);
    process.exit(1);
  }
}
