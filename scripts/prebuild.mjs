#!/usr/bin/env node
// Builds the prebuilt addon for the LibTorch found here (docs/install.md's order) with prebuildify,
// named for its flavour: prebuilds/<platform>-<arch>/distillery.<flavour>.node, e.g.
// distillery.torch-2.13-cpu.node. Other flavours already in prebuilds/ (built against other
// LibTorches, here or elsewhere) stay. Then it checks that the new file is what a user with this
// LibTorch would load, and that it reports the version and CUDA build its name says.
//   node scripts/prebuild.mjs [--if-needed]   (--if-needed: only when no addon loads here yet)
// Needs dist/ (npm run build:ts), cmake, g++ and cmake-js (a devDependency).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { findLibTorch } = await import(join(root, 'dist', 'libtorch.js'));

function loadedInfo(env) {
  const probe = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const n = await import('./dist/native.js'); const i = n.native().torchInfo(); console.log(JSON.stringify({ ...i, choice: n.addonChoice() }))",
    ],
    { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  return probe.status === 0 ? JSON.parse(probe.stdout) : { error: probe.stderr.trim().split('\n').slice(-3).join('\n') };
}

if (process.argv.includes('--if-needed') && !loadedInfo({}).error) {
  console.error('distillery: an addon loads here already; no prebuild built');
  process.exit(0);
}
const torch = findLibTorch();
console.error(`distillery: building the ${torch.flavour} prebuild against LibTorch ${torch.version} (${torch.source}, ${torch.libDir})`);
const build = spawnSync(
  'npx',
  [
    '--no-install',
    'prebuildify',
    '--napi',
    '--strip',
    '--name',
    `distillery.${torch.flavour}`,
    '--node-gyp',
    './scripts/cmake-js-as-node-gyp.sh',
  ],
  // The build finds LibTorch again (scripts/native-build.mjs); name it, since prebuildify puts
  // node's own directory (/usr/bin) first on PATH, where another python3 may be.
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, DISTILLERY_FLAVOUR: torch.flavour, ...(torch.source === 'system' ? {} : { LIBTORCH: torch.prefix }) },
  },
);
if (build.status !== 0) process.exit(build.status ?? 1);

const info = loadedInfo({ PREBUILDS_ONLY: '1', DISTILLERY_ADDON: '' });
const problems = [];
if (info.error) problems.push(`it does not load: ${info.error}`);
else {
  if (info.choice.flavour !== torch.flavour) problems.push(`the loader chose ${info.choice.path} (${info.choice.flavour})`);
  const compiled = info.compiledVersion.split('.').slice(0, 2).join('.');
  if (!torch.flavour.startsWith(`torch-${compiled}-`)) problems.push(`it was compiled against LibTorch ${info.compiledVersion}`);
  if (info.builtWithCuda !== (torch.cuda !== undefined)) problems.push(`it was built ${info.builtWithCuda ? 'with' : 'without'} CUDA`);
}
if (problems.length > 0) {
  console.error(`distillery: the ${torch.flavour} prebuild is wrong: ${problems.join('; ')}`);
  process.exit(1);
}
console.error(`distillery: ${info.choice.path} loads against LibTorch ${info.runtimeVersion}`);
