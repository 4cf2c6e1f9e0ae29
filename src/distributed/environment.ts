// The environment PyTorch's launchers (torchrun, torch.distributed.launch) give each rank, read
// and checked: `distillery launch` sets it, and so may any cluster launcher.
import { DistilleryError } from '../errors.js';

/** Where this process sits in a data-parallel job. */
export interface RankEnvironment {
  rank: number;
  worldSize: number;
  localRank: number;
  /** Ranks on this node (LOCAL_WORLD_SIZE), which share its cores. */
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
}

function integer(env: NodeJS.ProcessEnv, name: string, min: number, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new DistilleryError(
      `${name} is not set: WORLD_SIZE > 1 needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (distillery launch sets them)`,
      'E_CONFIG',
    );
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new DistilleryError(`${name} must be an integer >= ${min}, got '${raw}'`, 'E_CONFIG');
  }
  return value;
}

/** The rank's place from RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; undefined when not distributed. */
export function rankEnvironment(env: NodeJS.ProcessEnv = process.env): RankEnvironment | undefined {
  const worldSize = integer(env, 'WORLD_SIZE', 1, 1);
  if (worldSize === 1) return undefined;
  const rank = integer(env, 'RANK', 0);
  if (rank >= worldSize)
    throw new DistilleryError(`RANK ${rank} is outside WORLD_SIZE ${worldSize} (ranks are 0..${worldSize - 1})`, 'E_CONFIG');
  const masterPort = integer(env, 'MASTER_PORT', 1);
  if (masterPort > 65535) throw new DistilleryError(`MASTER_PORT must be a port (1..65535), got ${masterPort}`, 'E_CONFIG');
  const masterAddr = env.MASTER_ADDR;
  if (masterAddr === undefined || masterAddr === '') {
    throw new DistilleryError('MASTER_ADDR is not set: the address of rank 0 (distillery launch sets it)', 'E_CONFIG');
  }
  const localWorldSize = integer(env, 'LOCAL_WORLD_SIZE', 1, worldSize);
  return { rank, worldSize, localRank: integer(env, 'LOCAL_RANK', 0, rank), localWorldSize, masterAddr, masterPort };
}

/** The rank of this process (0 when not distributed): only rank 0 logs, reports and writes checkpoints. */
export function processRank(env: NodeJS.ProcessEnv = process.env): number {
  return rankEnvironment(env)?.rank ?? 0;
}
