// One rank's membership of a c10d process group (Gloo on CPU, NCCL on CUDA).
import type { DistributedConfig } from '../config/schemas.js';
import { DistilleryError } from '../errors.js';
import type { NativeProcessGroup } from '../native.js';
import { native } from '../native.js';
import type { RankEnvironment } from './environment.js';

/** A joined process group; collectives run in call order on every rank, after the steps queued before them. */
export class ProcessGroup {
  readonly handle: NativeProcessGroup;
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: string;

  private constructor(handle: NativeProcessGroup) {
    this.handle = handle;
    const info = handle.info();
    this.rank = info.rank;
    this.worldSize = info.worldSize;
    this.backend = info.backend;
  }

  /** Joins the group every rank of `env` joins, for a rank training on `device`; resolves when all have (rendezvous at MASTER_ADDR:MASTER_PORT). */
  static async join(env: RankEnvironment, config: DistributedConfig, device: string): Promise<ProcessGroup> {
    const backend = config.backend === 'auto' ? (device.startsWith('cuda') ? 'nccl' : 'gloo') : config.backend;
    if (backend === 'nccl' && !device.startsWith('cuda')) {
      throw new DistilleryError(`distributed.backend nccl runs on CUDA devices, but device is '${device}': use gloo on CPU`, 'E_CONFIG');
    }
    const handle = await native().createProcessGroup({
      backend,
      rank: env.rank,
      worldSize: env.worldSize,
      masterAddr: env.masterAddr,
      masterPort: env.masterPort,
      timeoutMs: Math.round(config.timeoutSeconds * 1000),
      device,
    });
    return new ProcessGroup(handle);
  }

  /** The element-wise sum of `values` over all ranks. */
  async allReduce(values: Float64Array | number[]): Promise<Float64Array> {
    return this.handle.allReduce(values instanceof Float64Array ? values : Float64Array.from(values));
  }

  /** Resolves when every rank has called it. */
  async barrier(): Promise<void> {
    return this.handle.barrier();
  }

  /** Leaves the group (after the last collective). */
  dispose(): void {
    this.handle.dispose();
  }
}
