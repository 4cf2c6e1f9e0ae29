import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { VERSION, torchInfo } from '../src/index.js';
import { FASHION_MNIST, runCli, runPython, tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('distillery CLI', () => {
  it('measures the image loader with bench-loader --json, and names a missing folder', async () => {
    const images = join(dir.path, 'images');
    const files = JSON.parse(runPython('image_reference.py', ['write', images])) as string[];
    const run = await runCli(['bench-loader', '--data', images, '--threads', '2', '--size', '32', '--epochs', '3', '--json']);
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as { images: number; imagesPerSecond: number; meanScale: number; megabytesPerSecond: number };
    expect(result.images).toBe(3 * files.length);
    expect(result.imagesPerSecond).toBeGreaterThan(0);
    expect(result.megabytesPerSecond).toBeGreaterThan(0);
    expect(result.meanScale).toBeGreaterThan(0);
    expect(result.meanScale).toBeLessThanOrEqual(1);
    const missing = await runCli(['bench-loader', '--data', join(dir.path, 'nowhere'), '--json']);
    expect(missing.status).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'E_FILE_NOT_FOUND', message: expect.stringContaining('nowhere') } });
  });

  it('prints exactly one JSON object with --json', async () => {
    const out = join(dir.path, 'train');
    const run = await runCli([
      'train',
      '--arch',
      'resnet8',
      '--epochs',
      '1',
      '--train-limit',
      '500',
      '--batch-size',
      '50',
      '--out',
      out,
      '--json',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    for (const key of ['top1', 'top5', 'loss', 'params', 'imagesPerSecond', 'seconds', 'checkpoint']) expect(result).toHaveProperty(key);
    expect(result.checkpoint).toBe(join(out, 'checkpoint.ckpt'));
    expect(result.top1).toBeGreaterThanOrEqual(0);
    expect(result.top1).toBeLessThanOrEqual(1);

    const evaluated = await runCli(['eval', join(out, 'checkpoint.ckpt'), '--data-dir', FASHION_MNIST, '--json']);
    expect(evaluated.status, evaluated.stderr).toBe(0);
    expect(JSON.parse(evaluated.stdout)).toMatchObject({ top1: result.top1, count: 10000 });
  });

  it('builds the same config from a file as from flags, and names an unknown key', async () => {
    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'model:\n  arch: resnet8\ndata:\n  augmnt: {}\n');
    const run = await runCli(['train', '--config', bad, '--json']);
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'E_CONFIG', message: expect.stringContaining('data.augmnt') } });
    expect(run.stderr).toContain('augment');
  });

  it('refuses a supervised config in distill', async () => {
    const file = join(dir.path, 'sup.yaml');
    writeFileSync(file, 'method: supervised\n');
    const run = await runCli(['distill', '--config', file, '--json']);
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'E_CONFIG', message: expect.stringContaining('distillery train') } });
  });

  it('treats a usage error as a config error', async () => {
    const run = await runCli(['train', '--epochz', '3', '--json']);
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'E_CONFIG', message: expect.stringContaining('--epochz') } });
  });

  it('distills with MEAL from the command line, reporting teachers and ensemble in --json', async () => {
    const teacher = await runCli([
      'train',
      '--arch',
      'resnet8',
      '--epochs',
      '1',
      '--train-limit',
      '500',
      '--out',
      join(dir.path, 't'),
      '--json',
      '--quiet',
    ]);
    expect(teacher.status, teacher.stderr).toBe(0);
    const ckpt = (JSON.parse(teacher.stdout) as { checkpoint: string }).checkpoint;
    const args = [
      'distill',
      '--method',
      'meal',
      '--teachers',
      `${ckpt},${ckpt}`,
      '--arch',
      'resnet8',
      '--epochs',
      '1',
      '--train-limit',
      '300',
    ];
    const run = await runCli([
      ...args,
      '--blocks',
      'stage3,logits',
      '--update',
      'alternating',
      '--out',
      join(dir.path, 'meal'),
      '--json',
      '--quiet',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { method: string; teachers: { top1: number }[]; ensemble: { top1: number } };
    expect(result.method).toBe('meal');
    expect(result.teachers).toHaveLength(2);
    expect(result.ensemble.top1).toBeCloseTo(result.teachers[0]!.top1, 6);
    const bad = await runCli([...args, '--blocks', 'layer9', '--out', join(dir.path, 'meal-bad'), '--json']);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      error: { code: 'E_ARGUMENT', message: expect.stringContaining("'layer9' is not a block") },
    });
  });

  it('trains with ONE, then exports a branch that evaluates exactly as the run reported it, with no trace of the others', async () => {
    const run = await runCli([
      'distill',
      '--method',
      'one',
      '--arch',
      'resnet8',
      '--branches',
      '2',
      '--ramp-up',
      '0',
      '--epochs',
      '1',
      '--train-limit',
      '500',
      '--out',
      join(dir.path, 'one'),
      '--json',
      '--quiet',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { checkpoint: string; outputs: { name: string; top1: number }[] };
    expect(result.outputs.map((o) => o.name)).toEqual(['branch1', 'branch2', 'ensemble']);
    const base = join(dir.path, 'one-branch2');
    const exported = await runCli(['export', result.checkpoint, '--branch', '2', '--out', `${base}.ckpt`, '--json']);
    expect(exported.status, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({
      checkpoint: `${base}.ckpt`,
      weights: `${base}.safetensors`,
      model: { arch: 'resnet8' },
    });
    for (const file of [`${base}.ckpt`, `${base}.safetensors`]) {
      const scored = await runCli(['eval', file, '--json']);
      expect(scored.status, scored.stderr).toBe(0);
      expect((JSON.parse(scored.stdout) as { top1: number }).top1).toBe(result.outputs[1]!.top1);
    }
    const file = readFileSync(`${base}.safetensors`);
    const keys = Object.keys(JSON.parse(file.subarray(8, 8 + Number(file.readBigUInt64LE(0))).toString()) as object);
    expect(keys.some((k) => k.startsWith('branches.') || k.startsWith('gate.'))).toBe(false);
    const tooFar = await runCli(['export', result.checkpoint, '--branch', '3', '--out', base, '--json']);
    expect(tooFar.status).toBe(1);
    expect(JSON.parse(tooFar.stdout)).toMatchObject({ error: { code: 'E_ARGUMENT', message: expect.stringContaining('branches 1-2') } });
  });

  it('names a missing teacher checkpoint', async () => {
    const missing = join(dir.path, 'teacher-that-does-not-exist.ckpt');
    const run = await runCli([
      'distill',
      '--method',
      'kd',
      '--teachers',
      missing,
      '--epochs',
      '1',
      '--train-limit',
      '100',
      '--out',
      join(dir.path, 'kd'),
      '--json',
    ]);
    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'E_FILE_NOT_FOUND', message: expect.stringContaining(missing) } });
  });

  it('runs the quickstart end to end (teachers, ensemble, student alone, KD, MEAL) on a small budget', async () => {
    const out = join(dir.path, 'quickstart');
    const args = [
      'quickstart',
      '--out',
      out,
      '--teachers',
      'resnet8,resnet8',
      '--student',
      'resnet8',
      '--teacher-epochs',
      '2',
      '--student-epochs',
      '2',
      '--train-limit',
      '3000',
      '--json',
    ];
    const run = await runCli(args);
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { rows: { role: string; top1: number; params: number }[]; kdGain: number; mealGain: number };
    expect(result.rows.map((r) => r.role)).toEqual([
      'teacher 1',
      'teacher 2',
      'teacher ensemble',
      'student alone',
      'student + KD',
      'student + MEAL',
    ]);
    for (const row of result.rows) expect(row.top1).toBeGreaterThan(0.2);
    expect(result.rows[2]!.params).toBe(result.rows[0]!.params + result.rows[1]!.params);
    // A second run finds the finished runs in --out and only re-evaluates.
    const again = await runCli(args);
    expect(again.status, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as typeof result).rows.map((r) => r.top1)).toEqual(result.rows.map((r) => r.top1));
  }, 400_000);

  it('documents every command in --help', async () => {
    for (const command of ['train', 'distill', 'refine', 'eval', 'convert', 'export', 'search', 'quickstart', 'launch', 'doctor']) {
      const run = await runCli([command, '--help']);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`distillery ${command}`);
    }
    expect((await runCli(['train', '--help'])).stdout).toContain('--train-limit');
    expect((await runCli(['distill', '--help'])).stdout).toMatch(/--method <method>[^]*"kd",\s+"meal",\s+"mealv2",\s+"one",\s+"dkd"/);
  });

  it('shows each method its own flags: train none of a method, distill the chosen method', async () => {
    const train = (await runCli(['train', '--help'])).stdout;
    for (const flag of ['--blocks', '--branches', '--budget-params', '--temperature', '--update']) expect(train).not.toContain(flag);
    const kd = (await runCli(['distill', '--help'])).stdout;
    expect(kd).toContain('--kd-weight');
    expect(kd).not.toContain('--blocks');
    const meal = (await runCli(['distill', '--method', 'meal', '--help'])).stdout;
    expect(meal).toContain('--blocks');
    expect(meal).toContain('--discriminator-lr');
    expect(meal).not.toContain('--kd-weight');
    expect((await runCli(['distill', '--method=dkd', '--help'])).stdout).toMatch(/--beta <value>/);
    const search = (await runCli(['search', '--help'])).stdout;
    expect(search).toContain('--budget-params');
    expect(search).not.toContain('--blocks');
    const foreign = await runCli(['distill', '--method', 'kd', '--teachers', 'a.ckpt', '--blocks', 'logits', '--json']);
    expect(foreign.status).toBe(2);
    expect(JSON.parse(foreign.stdout)).toMatchObject({
      error: { code: 'E_CONFIG', message: "--blocks: not an option of method 'kd' (it belongs to 'meal')" },
    });
  });

  it('doctor reports LibTorch, CUDA, the c10d backends and the default dataset', async () => {
    const run = await runCli(['doctor', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const { checks } = JSON.parse(run.stdout) as { checks: { name: string; ok: boolean; detail: string; fix?: string }[] };
    const find = (name: string) => checks.find((c) => c.name === name)!;
    expect(find('libtorch').ok).toBe(true);
    // Whatever LibTorch the addon was built for (Debian's 1.13, or pip's 2.x under scripts/test-pytorch.sh).
    expect(find('libtorch').detail.startsWith(`${torchInfo().compiledVersion} `)).toBe(true);
    expect(find('libtorch').detail).toContain('libtorch');
    expect(find('distributed').detail).toContain('gloo');
    expect(find('fashion-mnist').ok).toBe(true);
    // This machine's LibTorch is CPU-only: the check says so and how to get CUDA.
    expect(find('cuda').ok).toBe(false);
    expect(find('cuda').fix).toContain('LIBTORCH');
    expect(find('distillery').detail).toBe(VERSION);
    expect(find('addon').detail).toMatch(
      /^(prebuild torch-\d+\.\d+-cpu|built locally|DISTILLERY_ADDON), compiled for LibTorch \S+ CPU: \/.*\.node$/,
    );
    // Without a usable addon the other checks still run, and the output goes to stdout.
    const broken = await runCli(['doctor'], { DISTILLERY_ADDON: join(dir.path, 'missing.node') });
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(/-- {2}addon +.*missing\.node: the distillery native addon \S*missing\.node does not load/);
    expect(broken.stdout).toMatch(/ok {2}fashion-mnist/);
  });

  it('build names a LibTorch it cannot find and a bad --jobs before compiling anything', async () => {
    const missing = await runCli(['build', '--json'], { LIBTORCH: join(dir.path, 'no-libtorch') });
    expect(missing.status).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      error: {
        code: 'E_LIBTORCH_MISSING',
        message: expect.stringMatching(/LibTorch not found at LIBTORCH=.*no-libtorch[^]*LIBTORCH_USE_PYTORCH=1/),
      },
    });
    const jobs = await runCli(['build', '--jobs', '0']);
    expect(jobs.status).toBe(2);
    expect(jobs.stderr).toContain("--jobs: expected a positive integer, got '0'");
  });

  it('launch refuses a bad rank layout, a missing command and one with no distributed mode, naming them', async () => {
    const noCommand = await runCli(['launch', '--nproc-per-node', '2']);
    expect(noCommand.status).not.toBe(0);
    expect(noCommand.stderr).toContain("missing required argument 'command'");
    const badNode = await runCli(['launch', '--nproc-per-node', '2', '--nnodes', '2', '--node-rank', '2', '--', 'train']);
    expect(badNode.status).toBe(2);
    expect(badNode.stderr).toContain('--node-rank: must be below --nnodes');
    const notParallel = await runCli(['launch', '--nproc-per-node', '2', '--', 'cache-teachers', '--teachers', 'a.ckpt']);
    expect(notParallel.status).toBe(1);
    expect(notParallel.stderr).toContain("'cache-teachers' has no distributed mode");
  });
});
