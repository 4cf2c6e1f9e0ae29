// `distillery build`: compiles the addon against the LibTorch found on this machine, for when no
// prebuild fits (or install scripts were off). It says what it found and how long it will take,
// shows progress, leaves only the addon (build/Release/distillery.node) and removes the rest.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DistilleryError } from '../errors.js';
import { formatDuration } from '../report/progress.js';
import type { OutputOptions } from './options.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Measured on a 2-core VM: a translation unit of the core takes about 40 s of one core (LibTorch's
// headers dominate); the estimate only has to say minutes, not seconds.
const SECONDS_PER_FILE = 40;

/** What scripts/native-build.mjs found. */
interface FoundLibTorch {
  source: string;
  version: string;
  libDir: string;
  cuda: boolean;
}

function script(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [join(ROOT, 'scripts', 'native-build.mjs'), ...args], { cwd: ROOT, encoding: 'utf8' });
}

function need(tool: string, install: string): void {
  if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new DistilleryError(`building the addon needs ${tool}: ${install}`, 'E_BUILD');
  }
}

/** How to run cmake-js: the one installed with distillery (a clone, or a project that added it), else fetched by npm on demand, so that users of a prebuild never install it. */
function cmakeJsCommand(): string[] {
  try {
    return [process.execPath, createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js')];
  } catch {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> })
      .devDependencies['cmake-js'];
    return ['npm', 'exec', '--yes', `--package=cmake-js@${version ?? 'latest'}`, '--', 'cmake-js'];
  }
}

/** Compiles the addon with cmake-js in a scratch tree, keeps build/Release/distillery.node, and checks that it loads. */
export async function buildCommand(options: { jobs: number; keep: boolean }, output: OutputOptions): Promise<void> {
  const say = (line: string): void => {
    if (!output.quiet) process.stderr.write(`${line}\n`);
  };
  const found = script('libtorch');
  if (found.status !== 0) throw new DistilleryError(found.stderr.replace(/^distillery: /, '').trim(), 'E_LIBTORCH_MISSING');
  const torch = JSON.parse(found.stdout) as FoundLibTorch;
  need('cmake', 'sudo apt-get install cmake');
  need('g++', 'sudo apt-get install g++');
  const cmakeJs = cmakeJsCommand();
  const files = script('sources').stdout.trim().split('\n').length;
  const jobs = options.jobs;
  say(
    `distillery build: LibTorch ${torch.version} ${torch.cuda ? 'CUDA' : 'CPU'} (${torch.source}, ${torch.libDir}); ` +
      `${files} files on ${jobs} cores, about ${formatDuration((1000 * files * SECONDS_PER_FILE) / jobs)}`,
  );

  const tree = join(ROOT, 'build-distillery');
  rmSync(tree, { recursive: true, force: true });
  const started = Date.now();
  const log: string[] = [];
  const status = await new Promise<number>((resolve) => {
    const child = spawn(cmakeJs[0]!, [...cmakeJs.slice(1), 'compile', '--out', tree], {
      cwd: ROOT,
      env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: String(jobs) },
    });
    let pending = '';
    const onData = (chunk: Buffer): void => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        log.push(line);
        const step = /^\[(\d+)\/(\d+)\]/.exec(line);
        if (!step || output.quiet) continue;
        const [done, total] = [Number(step[1]), Number(step[2])];
        const eta = done > 0 ? formatDuration(((Date.now() - started) / done) * (total - done)) : '-';
        const text = `compiling ${done}/${total} (${Math.floor((100 * done) / total)}%), ${eta} left`;
        if (process.stderr.isTTY) process.stderr.write(`\r${text.padEnd(60)}`);
        else if (done % 10 === 0 || done === total) process.stderr.write(`${text}\n`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => resolve(code ?? 1));
  });
  if (process.stderr.isTTY && !output.quiet) process.stderr.write('\n');
  const built = join(tree, 'Release', 'distillery.node');
  if (status !== 0 || !existsSync(built)) {
    throw new DistilleryError(
      `the build failed (cmake-js exit ${status}); its last lines:\n${log.slice(-25).join('\n')}\n` +
        `the build tree is kept in ${tree} for a look; docs/install.md lists what the build needs`,
      'E_BUILD',
    );
  }
  const target = join(ROOT, 'build', 'Release', 'distillery.node');
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(built, target);
  if (!options.keep) rmSync(tree, { recursive: true, force: true });
  const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(target)}).checkRuntime()`], { encoding: 'utf8' });
  if (check.status !== 0) throw new DistilleryError(`the addon built, but does not load: ${check.stderr.trim()}`, 'E_BUILD');
  say(`distillery build: ${target} built in ${formatDuration(Date.now() - started)}${options.keep ? ` (build tree kept in ${tree})` : ''}`);
  if (output.json) process.stdout.write(`${JSON.stringify({ addon: target, libtorch: torch, seconds: (Date.now() - started) / 1000 })}\n`);
}
