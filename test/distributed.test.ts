// Data-parallel training on c10d Gloo: two ranks on localhost, against a single process with the
// same global batch, and the launcher's handling of a rank that dies.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ProcessGroup, rankEnvironment } from '../src/index.js';
import type { HostTensor } from '../src/index.js';
import { native } from '../src/native.js';
import { ROOT, runCli, tempDir, thrown } from './helpers.js';

const dir = tempDir('distillery-ddp-');
afterAll(() => dir.cleanup());
let nextPort = 29600 + (process.pid % 200) * 10;

function worker(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'test', 'fixtures', 'ddp-worker.mjs'), ...args], {
      env: { ...process.env, ...env },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (status) => resolve({ status: status ?? -1, stderr }));
  });
}

/** Runs the worker as 2 ranks on localhost and, with `single`, as one process with twice the batch. */
async function ranksAndSingle(name: string, batch: number, steps: number, method: string, sync: string, single = true): Promise<void> {
  const port = String(nextPort++);
  const prefix = join(dir.path, name);
  const runs = await Promise.all(
    [0, 1].map((rank) =>
      worker([prefix, String(batch), String(steps), method, sync], {
        RANK: String(rank),
        WORLD_SIZE: '2',
        LOCAL_RANK: String(rank),
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: port,
      }),
    ),
  );
  for (const run of runs) expect(run.stderr).toBe('');
  if (!single) return;
  const alone = await worker([`${prefix}-single`, String(2 * batch), String(steps), method, sync], { WORLD_SIZE: '1' });
  expect(alone.stderr).toBe('');
}

async function tensors(path: string): Promise<Record<string, HostTensor>> {
  return (await native().readSafetensors(path)).tensors;
}

/** max |a - b| over max |b|. */
function relativeDifference(a: HostTensor, b: HostTensor): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.data.length; i++) {
    worst = Math.max(worst, Math.abs(Number(a.data[i]) - Number(b.data[i])));
    scale = Math.max(scale, Math.abs(Number(b.data[i])));
  }
  return worst / Math.max(scale, 1e-12);
}

describe('distributed data parallel (2 Gloo ranks)', () => {
  it('keeps the ranks identical, and with SyncBatchNorm matches one process with the same global batch', async () => {
    await ranksAndSingle('sup4', 16, 4, 'supervised', 'sync', false);
    const [r0, r1] = await Promise.all(['sup4-rank0', 'sup4-rank1'].map((f) => tensors(join(dir.path, `${f}.ckpt`))));
    const names = Object.keys(r0!).filter((n) => n.startsWith('model.') || n.startsWith('optim.'));
    expect(names.length).toBeGreaterThan(40);
    for (const n of names) expect(Buffer.from(r1![n]!.data.buffer).equals(Buffer.from(r0![n]!.data.buffer)), n).toBe(true);

    // One step: the averaged gradient (SGD's first momentum buffer) is the single process's. Later
    // steps amplify float rounding (1e-4 here) as any change of summation order does.
    await ranksAndSingle('sync1', 16, 1, 'supervised', 'sync');
    await ranksAndSingle('nosync1', 16, 1, 'supervised', 'nosync');
    const [sync, syncSingle, local, localSingle] = await Promise.all(
      ['sync1-rank0', 'sync1-single-rank0', 'nosync1-rank0', 'nosync1-single-rank0'].map((f) => tensors(join(dir.path, `${f}.ckpt`))),
    );
    const grads = names.filter((n) => n.endsWith('momentum_buffer'));
    const worst = (a: Record<string, HostTensor>, b: Record<string, HostTensor>): number =>
      Math.max(...grads.map((n) => relativeDifference(a[n]!, b[n]!)));
    expect(worst(sync!, syncSingle!)).toBeLessThan(1e-3);
    // Without SyncBatchNorm each rank normalises with its own half of the batch: a different gradient.
    expect(worst(local!, localSingle!)).toBeGreaterThan(1e-2);
  }, 120_000);

  it('averages discriminator gradients too, so MEAL ranks stay identical (BatchNorm statistics from rank 0)', async () => {
    await ranksAndSingle('meal', 16, 4, 'meal', 'nosync', false);
    const [r0, r1] = await Promise.all(['meal-rank0', 'meal-rank1'].map((f) => tensors(join(dir.path, `${f}.ckpt`))));
    const names = Object.keys(r0!).filter((n) => !n.startsWith('rng.'));
    expect(names.some((n) => n.startsWith('meal.'))).toBe(true);
    for (const n of names) {
      expect(Buffer.from(r1![n]!.data.buffer).equals(Buffer.from(r0![n]!.data.buffer)), n).toBe(true);
    }
  }, 120_000);

  it('ends the job naming a rank that died, and the same launch with --resume continues from the checkpoint', async () => {
    const out = join(dir.path, 'killed');
    const port = String(nextPort++);
    const config = join(dir.path, 'rare-eval.json');
    writeFileSync(config, JSON.stringify({ evalEvery: 100 }));
    const args = [
      'launch',
      '--nproc-per-node',
      '2',
      '--master-port',
      port,
      '--',
      'train',
      '--config',
      config,
      '--arch',
      'resnet8',
      '--epochs',
      '30',
      '--train-limit',
      '640',
      '--batch-size',
      '32',
      '--threads',
      '1',
      '--out',
      out,
    ];
    const launched = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], { cwd: ROOT });
    let stderr = '';
    launched.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number>((resolve) => launched.on('close', (status) => resolve(status ?? -1)));
    const checkpoint = join(out, 'checkpoint.ckpt');
    for (let waited = 0; !existsSync(checkpoint); waited += 50) {
      if (waited > 90_000) throw new Error(`no checkpoint after 90 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Rank 1 is the process whose environment has this job's port and RANK=1.
    const rank1 = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .find((pid) => {
        try {
          const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
          return env.includes(`MASTER_PORT=${port}`) && env.includes('RANK=1');
        } catch {
          return false;
        }
      });
    expect(rank1).toBeDefined();
    process.kill(Number(rank1), 'SIGKILL');
    expect(await exited).toBe(1);
    expect(stderr).toContain(`rank 1 (pid ${rank1}) was killed by SIGKILL; the other ranks were stopped`);
    expect(stderr).toContain('[E_DISTRIBUTED]');

    const resumed = await runCli([...args, '--resume', '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed from .*checkpoint\.ckpt after epoch [1-9]/);
    const result = JSON.parse(resumed.stdout) as { epochs: number; worldSize: number; top1: number };
    expect(result.epochs).toBe(30);
    expect(result.worldSize).toBe(2);
    expect(result.top1).toBeGreaterThan(0.5);
  }, 240_000);
});

describe('the rank environment', () => {
  it("reads torchrun's variables and names a bad or missing one", async () => {
    expect(rankEnvironment({})).toBeUndefined();
    expect(rankEnvironment({ WORLD_SIZE: '1' })).toBeUndefined();
    expect(
      rankEnvironment({ WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: 'node0', MASTER_PORT: '29500' }),
    ).toEqual({
      rank: 3,
      worldSize: 4,
      localRank: 1,
      localWorldSize: 2,
      masterAddr: 'node0',
      masterPort: 29500,
    });
    const base = { WORLD_SIZE: '2', RANK: '0', MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29500' };
    expect((await thrown(() => rankEnvironment({ ...base, RANK: '2' }))).message).toBe('RANK 2 is outside WORLD_SIZE 2 (ranks are 0..1)');
    expect((await thrown(() => rankEnvironment({ ...base, RANK: undefined }))).message).toContain('RANK is not set');
    expect((await thrown(() => rankEnvironment({ ...base, MASTER_PORT: 'x' }))).message).toBe(
      "MASTER_PORT must be an integer >= 1, got 'x'",
    );
    expect((await thrown(() => rankEnvironment({ ...base, MASTER_ADDR: '' }))).code).toBe('E_CONFIG');
    const nccl = await thrown(() =>
      ProcessGroup.join(rankEnvironment(base)!, { backend: 'nccl', syncBatchNorm: false, bucketCapMb: 25, timeoutSeconds: 5 }, 'cpu'),
    );
    expect(nccl.code).toBe('E_CONFIG');
    expect(nccl.message).toContain('use gloo on CPU');
  });
});
