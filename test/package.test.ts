// The package as a user meets it: its version, its refusal of require(), and a pack that refuses to
// ship without the compiled code and a prebuilt addon.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { VERSION } from '../src/index.js';
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
});
