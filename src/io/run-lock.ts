// One run per output directory: a lock file, made atomically, naming the run that holds it. Two runs
// writing the same --out would otherwise both report success while the checkpoint holds only one of
// them. A lock whose process is gone (same host, pid not running) is stale and taken over.
import { linkSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { DistilleryError } from '../errors.js';

/** The lock file's name inside a run directory. */
export const LOCK_FILE = '.distillery.lock';

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

// Locks this process holds, with how many RunLock handles share each (a search holds its directory
// and shares the lock with the run inside it).
const held = new Map<string, number>();
let exitHookInstalled = false;

/** Whether a process with this pid runs on this host (EPERM: it runs, as another user). */
function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return typeof holder.pid === 'number' && typeof holder.host === 'string' ? holder : undefined;
  } catch {
    return undefined;
  }
}

function ioError(dir: string, error: unknown): DistilleryError {
  const reason = (error as NodeJS.ErrnoException).message ?? String(error);
  return new DistilleryError(`cannot write to the output directory ${dir}: ${reason}; choose a writable --out`, 'E_IO');
}

/** A held lock on a run directory; release() (or `using`) frees it, and so does the process's exit. */
export class RunLock implements Disposable {
  private released = false;

  private constructor(readonly path: string) {}

  /**
   * Creates `dir` if needed and locks it for `command`: E_LOCKED naming the holder when another
   * live run has it, E_IO when `dir` cannot be written (found now, not at the first checkpoint).
   */
  static acquire(dir: string, command: string): RunLock {
    const path = join(dir, LOCK_FILE);
    if (held.has(path)) {
      throw new DistilleryError(
        `${dir} is in use by another run of this process: wait for it to finish or choose another --out`,
        'E_LOCKED',
      );
    }
    const mine: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw ioError(dir, error);
    }
    // Written in full under a private name, then linked into place: link() fails if the lock exists,
    // so no reader ever sees a half-written lock and two runs cannot both win.
    const draft = `${path}.${process.pid}.draft`;
    try {
      writeFileSync(draft, `${JSON.stringify(mine)}\n`);
    } catch (error) {
      throw ioError(dir, error);
    }
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          linkSync(draft, path);
          held.set(path, 1);
          installExitHook();
          return new RunLock(path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(dir, error);
        }
        const holder = readHolder(path);
        const stale = holder !== undefined && holder.host === hostname() && !processAlive(holder.pid);
        if (!stale || attempt > 0) {
          const who = holder
            ? `${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`
            : 'another run (its lock file is unreadable)';
          throw new DistilleryError(
            `${dir} is in use by ${who}: wait for it to finish or choose another --out; ` +
              `if no such run exists any more, delete ${path}`,
            'E_LOCKED',
          );
        }
        rmSync(path, { force: true });
      }
      throw new DistilleryError(`could not lock ${dir}`, 'E_LOCKED');
    } finally {
      rmSync(draft, { force: true });
    }
  }

  /** Another handle on this lock, for a run that writes into the directory its caller locked; the lock is freed when every handle is. */
  share(): RunLock {
    if (this.released) throw new DistilleryError(`the lock on ${this.path} was released`, 'E_LOCKED');
    held.set(this.path, (held.get(this.path) ?? 0) + 1);
    return new RunLock(this.path);
  }

  /** Frees the lock if this process still holds it. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const count = held.get(this.path) ?? 0;
    if (count > 1) {
      held.set(this.path, count - 1);
      return;
    }
    held.delete(this.path);
    if (readHolder(this.path)?.pid === process.pid) rmSync(this.path, { force: true });
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // process.exit() (the CLI's second Ctrl-C, a fatal error) skips finally blocks; locks must not outlive us.
  process.on('exit', () => {
    for (const path of held.keys()) if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
    held.clear();
  });
}

/**
 * E_IO when `dir` has less free space than `bytes` (what one checkpoint of the run takes, written
 * beside the previous one before it replaces it): found before training, not after its first epoch.
 */
export function checkFreeSpace(dir: string, bytes: number): void {
  let free: number;
  try {
    const s = statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    return; // a filesystem that cannot say: the checkpoint write will report what happens
  }
  if (free < bytes) {
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    throw new DistilleryError(
      `the output directory ${dir} has ${mb(free)} free, and a checkpoint of this run takes about ${mb(bytes)}: free some space or choose another --out`,
      'E_IO',
    );
  }
}
