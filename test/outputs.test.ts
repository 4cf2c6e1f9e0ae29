// Nothing written is lost: commands refuse to write over their own inputs, a run locks its --out,
// temporaries of killed writers are cleaned up, and an unwritable --out is found before training.
import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RunLock } from '../src/io/run-lock.js';
import { runCli, tempDir, thrown } from './helpers.js';

/** This host as temporary file names carry it (docs/architecture.md: letters, digits and dots). */
const HOST_TAG = hostname().replace(/[^A-Za-z0-9.]/g, '_');

const TINY = ['--arch', 'resnet8', '--epochs', '1', '--train-limit', '200', '--batch-size', '50'];

/** The error a --json command printed. */
function jsonError(stdout: string): { code: string; message: string } {
  return (JSON.parse(stdout) as { error: { code: string; message: string } }).error;
}

/** A process that runs until killed: its pid is a live one that is not ours. */
function sleeper(): { pid: number; stop: () => Promise<void> } {
  const child = spawn('sleep', ['300']);
  return {
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => resolve());
        child.kill();
      }),
  };
}

describe('outputs', () => {
  const dir = tempDir();
  const teacherDir = join(dir.path, 'teacher');
  const teacher = join(teacherDir, 'checkpoint.ckpt');
  let teacherBytes: Buffer;

  beforeAll(async () => {
    const run = await runCli(['train', ...TINY, '--out', teacherDir, '--json']);
    expect(run.status, run.stderr).toBe(0);
    teacherBytes = readFileSync(teacher);
  }, 120_000);
  afterAll(() => dir.cleanup());

  it('refuses to write over an input, by any name, and leaves it byte for byte', async () => {
    const symlink = join(dir.path, 'link.ckpt');
    const hardlink = join(dir.path, 'hard.ckpt');
    symlinkSync(teacher, symlink);
    linkSync(teacher, hardlink);
    const attempts = [
      ['convert', teacher, teacher],
      ['convert', teacher, symlink],
      ['convert', symlink, hardlink],
      ['distill', '--teachers', teacher, ...TINY, '--out', teacherDir],
      ['train', '--init', teacher, ...TINY, '--out', teacherDir],
      ['refine', '--teachers', teacher, '--out', hardlink],
    ];
    for (const args of attempts) {
      const run = await runCli([...args, '--json']);
      expect(run.status, args.join(' ')).not.toBe(0);
      expect(jsonError(run.stdout), args.join(' ')).toMatchObject({
        code: 'E_OVERWRITE',
        message: expect.stringContaining('over its input'),
      });
      expect(readFileSync(teacher).equals(teacherBytes), args.join(' ')).toBe(true);
    }
  });

  it('locks --out against a second run, and takes over a lock whose process is gone', async () => {
    const out = join(dir.path, 'locked');
    const other = sleeper();
    const lock = join(out, '.distillery.lock');
    mkdirSync(out, { recursive: true });
    writeFileSync(lock, JSON.stringify({ pid: other.pid, host: hostname(), command: 'distillery train', since: '2026-12-03T00:00:00Z' }));
    const refused = await runCli(['train', ...TINY, '--out', out, '--json']);
    expect(refused.status).not.toBe(0);
    expect(jsonError(refused.stdout)).toMatchObject({ code: 'E_LOCKED', message: expect.stringContaining(`pid ${other.pid}`) });
    expect(existsSync(join(out, 'checkpoint.ckpt'))).toBe(false);

    await other.stop();
    // What killed writers leave beside the checkpoint: the dead process's temporary goes, a live one's stays.
    const dead = join(out, `checkpoint.ckpt.tmp-${HOST_TAG}-${other.pid}-0badcafe`);
    const live = join(out, `checkpoint.ckpt.tmp-${HOST_TAG}-${process.pid}-0goodcafe`);
    const elsewhere = join(out, `checkpoint.ckpt.tmp-some.other.host-${other.pid}-0badcafe`);
    for (const path of [dead, live, elsewhere]) writeFileSync(path, 'partial');
    const taken = await runCli(['train', ...TINY, '--out', out, '--json']);
    expect(taken.status, taken.stderr).toBe(0);
    expect(existsSync(join(out, 'checkpoint.ckpt'))).toBe(true);
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(elsewhere)).toBe(true);
  }, 120_000);

  it('lets one run of a process hold a directory at a time', async () => {
    const out = join(dir.path, 'sdk');
    const first = RunLock.acquire(out, 'first');
    expect(await thrown(() => RunLock.acquire(out, 'second'))).toMatchObject({ code: 'E_LOCKED' });
    const shared = first.share();
    first.release();
    expect(existsSync(join(out, '.distillery.lock'))).toBe(true);
    shared.release();
    expect(existsSync(join(out, '.distillery.lock'))).toBe(false);
    RunLock.acquire(out, 'third').release();
  });

  it('finds an --out it cannot write before reading any data', async () => {
    const file = join(dir.path, 'a-file');
    writeFileSync(file, 'not a directory');
    const run = await runCli(['train', ...TINY, '--out', join(file, 'run'), '--json']);
    expect(run.status).not.toBe(0);
    expect(jsonError(run.stdout)).toMatchObject({ code: 'E_IO', message: expect.stringContaining('cannot write to the output directory') });
  });
});
