// Small files written all-or-nothing from TypeScript, named as the addon names its temporaries
// (native/io/atomic_file.cpp), so either side cleans up what a killed writer of the other left.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** This host's name as temporary names carry it: letters, digits and dots only. */
export function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9.]/g, '_') || 'host';
}

/** Whether a process with this pid runs on this host (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporaries of `path` (`<path>.tmp-<host>-<pid>-<random>`) left by dead processes of this host. */
export function removeStaleTemporaries(path: string): void {
  const prefix = `${basename(path)}.tmp-${hostTag()}-`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)-/.exec(name.slice(prefix.length));
    if (match && !processAlive(Number(match[1]))) rmSync(join(dirname(path), name), { force: true });
  }
}

/** Replaces `path` with `data` atomically: a synced temporary file in the same directory, renamed over it. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  removeStaleTemporaries(path);
  const temporary = `${path}.tmp-${hostTag()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(temporary, 'wx');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
