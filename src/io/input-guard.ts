// A command never writes over one of its own inputs: `convert X X`, a distill run whose --out holds
// a teacher it reads, a cache written over a teacher. Paths are compared as files (symlinks
// resolved, hard links by device and inode), not as strings.
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

import { DistilleryError } from '../errors.js';

/** A file a command reads or writes, with what the user called it (the flag or argument). */
export interface NamedPath {
  path: string;
  what: string;
}

/** A file's identity: device and inode when it exists (any name of it matches), else its resolved path. */
function identity(path: string): string {
  try {
    const s = statSync(path);
    return `inode:${s.dev}:${s.ino}`;
  } catch {
    // Not there yet: the same file as an input only if its resolved directory and name match one.
    try {
      return `path:${join(realpathSync(dirname(resolve(path))), basename(path))}`;
    } catch {
      return `path:${resolve(path)}`;
    }
  }
}

/** E_OVERWRITE naming both when an output of `command` is the same file as one of its inputs. */
export function refuseOverwritingInputs(command: string, outputs: readonly NamedPath[], inputs: readonly NamedPath[]): void {
  const read = new Map<string, NamedPath>();
  for (const input of inputs) read.set(identity(input.path), input);
  for (const output of outputs) {
    const input = read.get(identity(output.path));
    if (input !== undefined) {
      throw new DistilleryError(
        `${command} would write ${output.what} (${output.path}) over its input ${input.what} (${input.path}): ` +
          'nothing was written; choose another output path',
        'E_OVERWRITE',
      );
    }
  }
}
