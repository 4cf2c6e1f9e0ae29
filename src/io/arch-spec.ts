// The architecture a student search found, as a small JSON file a person can read and the zoo can
// build again: the spec, its size and accuracy, the teacher it came from, and its inherited weights.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';

import { z } from 'zod';

import { DistilleryError } from '../errors.js';
import { native } from '../native.js';

export const ARCH_FORMAT = 'distillery.arch';

const Spec = z.object({
  arch: z.string().min(1),
  inChannels: z.number().int().positive(),
  numClasses: z.number().int().positive(),
  blocks: z
    .array(z.array(z.number().int().min(1)).min(1))
    .length(3)
    .optional(),
});

const Size = z.object({ params: z.number(), flops: z.number(), top1: z.number().optional() });

const ArchSpecSchema = z.object({
  format: z.literal(ARCH_FORMAT),
  version: z.literal(1),
  /** e.g. "resnet20 with blocks [[16, 9], [32, 20], [64]]". */
  description: z.string(),
  model: Spec,
  /** [C, H, W] the FLOPs are counted for. */
  inputShape: z.tuple([z.number(), z.number(), z.number()]),
  /** The found network: parameters, multiply-accumulates per image, test top-1 before retraining. */
  student: Size,
  teacher: Size.extend({ path: z.string(), arch: z.string() }),
  budget: z.object({ params: z.number().optional(), flops: z.number().optional() }),
  /** Effective gates below this were pruned. */
  threshold: z.number(),
  /** The inherited weights, relative to this file. */
  weights: z.string().optional(),
});

/** What `distillery search` writes (found.json). */
export type ArchSpecFile = z.output<typeof ArchSpecSchema>;

/** Writes an architecture file atomically (a temporary file renamed over the target). */
export async function writeArchSpec(path: string, spec: ArchSpecFile): Promise<void> {
  await native().writeFileAtomic(path, `${JSON.stringify(spec, null, 2)}\n`);
}

/** Reads and checks an architecture file; `weightsPath` is its weights file resolved against the file's directory. */
export async function readArchSpec(path: string): Promise<ArchSpecFile & { weightsPath?: string }> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new DistilleryError(
      `cannot read the architecture file ${path}: ${error.message}`,
      error.code === 'ENOENT' ? 'E_FILE_NOT_FOUND' : 'E_IO',
    );
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DistilleryError(
      `${path} is not JSON (${(error as Error).message}): pass the found.json that \`distillery search\` wrote`,
      'E_CORRUPT_FILE',
    );
  }
  const result = ArchSpecSchema.safeParse(parsed);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`).join('; ');
    throw new DistilleryError(`${path} is not a distillery architecture file (${problems})`, 'E_CORRUPT_FILE');
  }
  const file = result.data;
  const weights = file.weights;
  return {
    ...file,
    ...(weights === undefined ? {} : { weightsPath: isAbsolute(weights) ? weights : join(dirname(path), weights) }),
  };
}
