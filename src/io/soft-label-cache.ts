// Teacher soft-label caches (FKD-style): for every training image, K crops with the teacher
// ensemble's top-k probabilities on each, so distillation replays them and no teacher runs. The
// addon lays the file out and reads it back (native/data/soft_label_cache.h is the format); this
// module describes a cache (its header), keeps a write resumable, and checks that a cache fits the
// run that wants to replay it.
import { readFileSync, renameSync, rmSync } from 'node:fs';

import { z } from 'zod';

import { DistilleryError } from '../errors.js';
import type { Model } from '../models/model.js';
import type { NativeBatch, NativeSoftLabelWriter } from '../native.js';
import { native } from '../native.js';

export const SOFT_LABEL_FORMAT = 'distillery.softlabels';

/** What a cache holds and how it was made; the file's JSON header. */
export interface SoftLabelHeader {
  format: typeof SOFT_LABEL_FORMAT;
  version: 1;
  samples: number;
  crops: number;
  topK: number;
  numClasses: number;
  /** The temperature of the ensemble's softmax: a KD run replaying the cache must use the same. */
  temperature: number;
  /** Whether records also hold the teachers' mean logits (float16, numClasses of them), which MEAL V2's discriminator needs. */
  logits: boolean;
  /** Whether records also hold each teacher's own top-k (uint16 classes, float16 probabilities), in `teachers` order. */
  perTeacher: boolean;
  seed: number;
  teachers: { path: string; arch: string }[];
  dataset: { root: string; fingerprint: string };
  transform: { size: number; scale: [number, number]; ratio: [number, number]; flip: boolean };
}

/**
 * Writes a cache pass by pass into `<path>.partial`, recording finished passes in
 * `<path>.progress`, and renames it into place when every pass is done; a writer opened again on
 * the same header resumes after the last finished pass. The records themselves are laid out by
 * the addon (native/data/soft_label_cache.*), the only definition of the format.
 */
export class SoftLabelWriter {
  private constructor(
    private readonly path: string,
    private readonly header: SoftLabelHeader,
    private readonly native: NativeSoftLabelWriter,
    /** Crop passes already in the file (0 for a fresh cache). */
    readonly passesDone: number,
  ) {}

  /** Opens `path` for `header`, resuming an unfinished cache with the same header. */
  static async open(path: string, header: SoftLabelHeader): Promise<SoftLabelWriter> {
    let saved = 0;
    try {
      const progress = JSON.parse(readFileSync(`${path}.progress`, 'utf8')) as { header: SoftLabelHeader; passes: number };
      if (JSON.stringify(progress.header) === JSON.stringify(header)) saved = progress.passes;
    } catch {
      saved = 0;
    }
    const writer = await native().openSoftLabelWriter(`${path}.partial`, header, saved > 0);
    return new SoftLabelWriter(path, header, writer, writer.resumed() ? saved : 0);
  }

  /** Runs the teachers on one batch and writes crop pass `pass` of its samples. */
  async write(pass: number, teachers: readonly Model[], batch: NativeBatch): Promise<void> {
    await this.native.write(
      pass,
      teachers.map((t) => t.handle),
      batch,
      { temperature: this.header.temperature },
    );
  }

  /** Makes pass `pass` durable and records it as done. */
  async finishPass(pass: number): Promise<void> {
    await this.native.sync();
    await native().writeFileAtomic(`${this.path}.progress`, JSON.stringify({ header: this.header, passes: pass + 1 }));
  }

  /** Moves the finished cache into place. */
  async finish(): Promise<void> {
    await this.native.close();
    this.native.dispose();
    renameSync(`${this.path}.partial`, this.path);
    rmSync(`${this.path}.progress`, { force: true });
  }

  /** Closes the file, leaving the partial cache to resume. */
  async close(): Promise<void> {
    try {
      await this.native.close();
    } finally {
      this.native.dispose();
    }
  }
}

/** What a run replaying a cache trains with, to compare with the cache's header. */
export interface SoftLabelUse {
  path: string;
  fingerprint: string;
  numClasses: number;
  temperature: number;
  /** The method needs the stored logits (MEAL V2). */
  needsLogits: boolean;
  /** Teachers the run names (none: whatever made the cache). */
  teachers: string[];
  transform: SoftLabelHeader['transform'];
}

const pair = z.tuple([z.number(), z.number()]);
const HeaderSchema = z.object({
  format: z.literal(SOFT_LABEL_FORMAT),
  version: z.literal(1),
  samples: z.number().int().positive(),
  crops: z.number().int().positive(),
  topK: z.number().int().positive(),
  numClasses: z.number().int().positive(),
  temperature: z.number(),
  logits: z.boolean(),
  perTeacher: z.boolean(),
  seed: z.number().int(),
  teachers: z.array(z.object({ path: z.string(), arch: z.string() })),
  dataset: z.object({ root: z.string(), fingerprint: z.string() }),
  transform: z.object({ size: z.number(), scale: pair, ratio: pair, flip: z.boolean() }),
}) satisfies z.ZodType<SoftLabelHeader>;

/**
 * Throws E_ARGUMENT naming the first difference between how the cache was made and how the run
 * trains, or E_CORRUPT_FILE when the header is not one cache-teachers writes.
 */
export function checkSoftLabelHeader(headerJson: string, use: SoftLabelUse): SoftLabelHeader {
  const refuse = (what: string, code: 'E_ARGUMENT' | 'E_CORRUPT_FILE' = 'E_ARGUMENT'): never => {
    throw new DistilleryError(`soft-label cache ${use.path} ${what}; make a new one with \`distillery cache-teachers\``, code);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(headerJson);
  } catch {
    return refuse('has a header that is not JSON', 'E_CORRUPT_FILE');
  }
  const claimed = (raw ?? {}) as { format?: unknown; version?: unknown };
  if (claimed.format !== SOFT_LABEL_FORMAT || claimed.version !== 1)
    refuse(`has format ${String(claimed.format)} v${String(claimed.version)}, expected ${SOFT_LABEL_FORMAT} v1`);
  const parsed = HeaderSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return refuse(`has a malformed header (${issue.path.join('.')}: ${issue.message})`, 'E_CORRUPT_FILE');
  }
  const header = parsed.data;
  if (header.dataset.fingerprint !== use.fingerprint)
    refuse(`was made for other data (${header.dataset.root}: its file list or labels differ from this dataset's)`);
  if (header.numClasses !== use.numClasses) refuse(`holds ${header.numClasses} classes, the dataset has ${use.numClasses}`);
  if (header.temperature !== use.temperature)
    refuse(`holds probabilities at temperature ${header.temperature}; this run distills at ${use.temperature}`);
  const made = header.teachers.map((t) => t.path);
  if (use.teachers.length > 0 && use.teachers.join('\n') !== made.join('\n')) {
    refuse(`was made by teachers ${made.join(', ')}; this run names ${use.teachers.join(', ')} (leave --teachers out to use the cache's)`);
  }
  if (use.needsLogits && !header.logits) refuse("holds no teacher logits, which MEAL V2's discriminator needs (cache-teachers --logits)");
  const a = header.transform;
  const b = use.transform;
  if (a.size !== b.size || a.flip !== b.flip || a.scale.join() !== b.scale.join() || a.ratio.join() !== b.ratio.join()) {
    refuse(
      `was made with crops of size ${a.size}, scale [${a.scale}], ratio [${a.ratio}], flip ${a.flip}; this run uses size ${b.size}, scale [${b.scale}], ratio [${b.ratio}], flip ${b.flip}`,
    );
  }
  return header;
}
