// The package as a user meets it: its version, its refusal of require(), a pack that refuses to
// ship without the compiled code and a prebuilt addon, and the packed tarball installed into a
// fresh project with install scripts off, used there by an ESM script and a strict TypeScript consumer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { VERSION, findLibTorch } from '../src/index.js';
import { ROOT, runCli, tempDir } from './helpers.js';

describe('package', () => {
  it('prints its version', async () => {
    const expected = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(VERSION).toBe(expected);
    const run = await runCli(['--version']);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(expected);
  });

  it('tells a CommonJS caller to use import()', () => {
    const run = spawnSync(process.execPath, ['-e', "require('distillery')"], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("distillery is ESM-only: load it with `const distillery = await import('distillery')`");
  });

  it('refuses to pack without dist/ or a prebuilt addon', () => {
    const empty = tempDir();
    try {
      const refused = spawnSync(process.execPath, [join(ROOT, 'scripts', 'check-pack.mjs')], { cwd: empty.path, encoding: 'utf8' });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/missing dist\/.*and prebuilds\/\*\/\*\.node/);
    } finally {
      empty.cleanup();
    }
    const packed = spawnSync(process.execPath, [join(ROOT, 'scripts', 'check-pack.mjs')], { cwd: ROOT, encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    expect(packed.stderr).toContain('linux-x64');
  });

  it('installs from its tarball with install scripts off, and an ESM script and a strict TypeScript consumer use it', () => {
    const work = tempDir();
    try {
      const pack = spawnSync('npm', ['pack', '--pack-destination', work.path, '--json', '--silent'], { cwd: ROOT, encoding: 'utf8' });
      expect(pack.status, pack.stderr).toBe(0);
      const filename = (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename;
      const project = join(work.path, 'consumer');
      mkdirSync(project);
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
      const install = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', join(work.path, filename)], {
        cwd: project,
        encoding: 'utf8',
      });
      expect(install.status, install.stderr).toBe(0);
      // Installing runs nothing, with scripts on or off: no install hooks, and no implicit
      // `node-gyp rebuild` (npm's default for a package with binding.gyp) since gypfile is false.
      const installed = JSON.parse(readFileSync(join(project, 'node_modules', 'distillery', 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
        gypfile?: boolean;
      };
      expect(Object.keys(installed.scripts).filter((name) => /^(pre|post)?install$/.test(name))).toEqual([]);
      expect(installed.gypfile).toBe(false);
      // A prebuild is all a user needs: no build tools come with the package.
      expect(existsSync(join(project, 'node_modules', 'cmake-js'))).toBe(false);
      expect(readdirSync(join(project, 'node_modules', 'distillery', 'prebuilds', `${process.platform}-${process.arch}`))).toContain(
        `distillery.${findLibTorch().flavour}.node`,
      );

      // The package's own smoke script, run from the install: it imports 'distillery' by name.
      const step = spawnSync(process.execPath, [join('node_modules', 'distillery', 'scripts', 'smoke-step.mjs')], {
        cwd: project,
        encoding: 'utf8',
      });
      expect(step.status, step.stderr).toBe(0);
      expect(JSON.parse(step.stdout)).toMatchObject({
        version: VERSION,
        count: 32,
        loss: expect.any(Number),
        addon: findLibTorch().flavour,
      });

      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            strict: true,
            exactOptionalPropertyTypes: true,
            skipLibCheck: false,
            noEmit: true,
            types: ['node'],
            typeRoots: [join(ROOT, 'node_modules', '@types')],
          },
          files: ['consumer.ts'],
        }),
      );
      writeFileSync(
        join(project, 'consumer.ts'),
        `import { ConfigError, DistilleryError, buildConfig, createRun, limits } from 'distillery';
import type { RunResult } from 'distillery';
const config = buildConfig(undefined, { method: 'kd', teachers: ['t.ckpt'], epochs: 1, kd: { temperature: 4 }, limits: { maxClasses: 10 } });
const run = createRun(config);
run.once('epoch', (e) => console.log(e.trainLoss));
export const result: Promise<RunResult> = run.execute({ signal: AbortSignal.timeout(1000) });
export const maxPixels: number = limits().maxImagePixels;
export const isConfigError = (e: unknown): boolean => e instanceof ConfigError && e instanceof DistilleryError && e.problems.length > 0;
// @ts-expect-error a misspelt key does not compile
buildConfig(undefined, { method: 'kd', batchSze: 32 });
// @ts-expect-error neither does an unknown method
buildConfig(undefined, { method: 'kdd' });
`,
      );
      const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], {
        encoding: 'utf8',
      });
      expect(tsc.status, tsc.stdout).toBe(0);
    } finally {
      work.cleanup();
    }
  }, 600_000);
});
