// `distillery launch`: starts one distillery process per rank of this node with the environment
// torchrun gives its workers, relays their output, and ends the whole job when one rank fails,
// naming it, as torchrun's elastic agent does.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import type { LaunchOptions } from '../config/commands.js';
import { DistilleryError } from '../errors.js';

/** The commands whose runs join a process group; any other would run once per rank, side by side. */
const DATA_PARALLEL: ReadonlySet<string> = new Set(['train', 'distill']);

/** How long ranks get to stop cleanly after another failed, before they are killed. */
const GRACE_MS = 10_000;

interface RankProcess {
  rank: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** Runs `command` (a distillery command line) once per local rank; resolves when all ranks succeed. */
export async function launchCommand(options: LaunchOptions, command: string[]): Promise<void> {
  if (command.length === 0) {
    throw new DistilleryError(
      'launch needs the command each rank runs, after --: distillery launch --nproc-per-node 2 -- distill ...',
      'E_ARGUMENT',
    );
  }
  if (!DATA_PARALLEL.has(command[0]!)) {
    throw new DistilleryError(
      `launch runs 'train' or 'distill' data-parallel; '${command[0]}' has no distributed mode (run it once, without launch)`,
      'E_ARGUMENT',
    );
  }
  const worldSize = options.nprocPerNode * options.nnodes;
  const script = process.argv[1]!;
  const ranks: RankProcess[] = [];
  for (let local = 0; local < options.nprocPerNode; local++) {
    const rank = options.nodeRank * options.nprocPerNode + local;
    const env = {
      ...process.env,
      RANK: String(rank),
      WORLD_SIZE: String(worldSize),
      LOCAL_RANK: String(local),
      LOCAL_WORLD_SIZE: String(options.nprocPerNode),
      GROUP_RANK: String(options.nodeRank),
      MASTER_ADDR: options.masterAddr,
      MASTER_PORT: String(options.masterPort),
    };
    // Rank 0 owns the terminal (progress, results); the others' output is prefixed with their rank.
    const child = spawn(process.execPath, [...process.execArgv, script, ...command], {
      env,
      stdio: rank === 0 ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      // Their own process group: a terminal's Ctrl-C reaches the launcher only, which forwards it once.
      detached: true,
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => process.stderr.write(`[rank ${rank}] ${line}\n`));
    }
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
      child.on('error', (error) => {
        process.stderr.write(`distillery launch: rank ${rank} could not start: ${error.message}\n`);
        resolve({ code: 127, signal: null });
      });
    });
    ranks.push({ rank, child, exited });
  }

  const forward = (signal: NodeJS.Signals) => () => {
    for (const r of ranks) if (r.child.exitCode === null) r.child.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const pending = new Map(ranks.map((r) => [r.rank, r.exited.then((exit) => ({ ...exit, r }))]));
    let failure: { rank: number; pid: number | undefined; how: string; code: number | null } | undefined;
    while (pending.size > 0) {
      const { code, signal, r } = await Promise.race(pending.values());
      pending.delete(r.rank);
      if ((code === 0 && signal === null) || failure) continue;
      failure = { rank: r.rank, pid: r.child.pid, how: describeExit(code, signal), code };
      for (const other of pending.keys()) ranks.find((x) => x.rank === other)?.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const other of pending.keys()) ranks.find((x) => x.rank === other)?.child.kill('SIGKILL');
      }, GRACE_MS);
      timer.unref();
    }
    if (failure) {
      const interrupted = failure.code === 130;
      throw new DistilleryError(
        `rank ${failure.rank} (pid ${failure.pid}) ${failure.how}${interrupted ? ' (interrupted)' : ''}; the other ranks were stopped. ` +
          "Rank 0 writes the run's checkpoint each epoch: rerun the same launch command with --resume to continue from it",
        interrupted ? 'E_INTERRUPTED' : 'E_DISTRIBUTED',
      );
    }
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
