// Teacher soft-label caches (FKD-style): for every training image, K crops with the teacher
// ensemble's top-k probabilities on each, so distillation replays them and no teacher runs. The
// native loader reads the file (native/data/soft_label_cache.h documents the layout); this module
// writes it, resumably, and checks that a cache fits the run that wants to replay it.
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
  ftruncateSync,
} from 'node:fs';

import { DistilleryError } from '../errors.js';

export const SOFT_LABEL_FORMAT = 'distillery.softlabels';
const MAGIC = Buffer.from('DSTLSOFT', 'latin1');

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

/** Bytes of one record: int32 top, left, height, width, flip; uint16 classes; float16 probabilities; float16 logits; per-teacher top-k. */
export function softRecordBytes(topK: number, logits: number, teachers: number): number {
  return 5 * 4 + 4 * topK + 2 * logits + 4 * topK * teachers;
}

/** What one batch contributes to a cache pass, as softTargets returns it (flat row-major arrays). */
export interface SoftLabelRows {
  indices: ArrayLike<number>;
  crops: ArrayLike<number>;
  classes: ArrayLike<number>;
  halfBits: ArrayLike<number>;
  logitHalfBits: ArrayLike<number>;
  teacherClasses: ArrayLike<number>;
  teacherHalfBits: ArrayLike<number>;
}

function headerBytes(header: SoftLabelHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const unpadded = 16 + json.length;
  return Buffer.concat([MAGIC, length, json, Buffer.alloc((8 - (unpadded % 8)) % 8)]);
}

/**
 * Writes a cache pass by pass into `<path>.partial`, recording finished passes in
 * `<path>.progress`, and renames it into place when every pass is done; a writer opened again on
 * the same header resumes after the last finished pass.
 */
export class SoftLabelWriter {
  readonly passesDone: number;
  private readonly fd: number;
  private readonly dataOffset: number;
  private readonly recordBytes: number;

  private constructor(
    private readonly path: string,
    private readonly header: SoftLabelHeader,
    passesDone: number,
  ) {
    const head = headerBytes(header);
    this.dataOffset = head.length;
    this.recordBytes = softRecordBytes(header.topK, header.logits ? header.numClasses : 0, header.perTeacher ? header.teachers.length : 0);
    const partial = `${path}.partial`;
    const fresh = passesDone === 0;
    this.fd = openSync(partial, fresh ? 'w' : 'r+');
    if (fresh) {
      writeSync(this.fd, head, 0, head.length, 0);
      ftruncateSync(this.fd, this.dataOffset + header.samples * header.crops * this.recordBytes);
    }
    this.passesDone = passesDone;
  }

  /** Opens `path` for `header`, resuming an unfinished cache with the same header. */
  static open(path: string, header: SoftLabelHeader): SoftLabelWriter {
    const progress = `${path}.progress`;
    let done = 0;
    if (existsSync(`${path}.partial`) && existsSync(progress)) {
      try {
        const saved = JSON.parse(readFileSync(progress, 'utf8')) as { header: SoftLabelHeader; passes: number };
        if (JSON.stringify(saved.header) === JSON.stringify(header)) done = saved.passes;
      } catch {
        done = 0;
      }
    }
    return new SoftLabelWriter(path, header, done);
  }

  /** Writes crop pass `pass` of one batch's samples. */
  write(pass: number, rows: SoftLabelRows): void {
    const { topK, crops: passes, numClasses } = this.header;
    const logits = this.header.logits ? numClasses : 0;
    const teachers = this.header.perTeacher ? this.header.teachers.length : 0;
    const batch = rows.indices.length;
    const record = Buffer.alloc(this.recordBytes);
    for (let i = 0; i < batch; i++) {
      for (let j = 0; j < 5; j++) record.writeInt32LE(rows.crops[i * 5 + j]!, 4 * j);
      let at = 20;
      const put = (classes: ArrayLike<number>, bits: ArrayLike<number>, row: number) => {
        for (let j = 0; j < topK; j++) record.writeUInt16LE(classes[row * topK + j]!, at + 2 * j);
        for (let j = 0; j < topK; j++) record.writeUInt16LE(bits[row * topK + j]! & 0xffff, at + 2 * topK + 2 * j);
        at += 4 * topK;
      };
      put(rows.classes, rows.halfBits, i);
      for (let j = 0; j < logits; j++) record.writeUInt16LE(rows.logitHalfBits[i * logits + j]! & 0xffff, at + 2 * j);
      at += 2 * logits;
      for (let t = 0; t < teachers; t++) put(rows.teacherClasses, rows.teacherHalfBits, t * batch + i);
      writeSync(this.fd, record, 0, record.length, this.dataOffset + (rows.indices[i]! * passes + pass) * this.recordBytes);
    }
  }

  /** Makes pass `pass` durable and records it as done. */
  finishPass(pass: number): void {
    fsyncSync(this.fd);
    const progress = `${this.path}.progress`;
    writeFileSync(`${progress}.tmp`, JSON.stringify({ header: this.header, passes: pass + 1 }));
    renameSync(`${progress}.tmp`, progress);
  }

  /** Moves the finished cache into place. */
  finish(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(`${this.path}.partial`, this.path);
    rmSync(`${this.path}.progress`, { force: true });
  }

  /** Closes the file, leaving the partial cache to resume. */
  close(): void {
    closeSync(this.fd);
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

/** Throws E_ARGUMENT naming the first difference between how the cache was made and how the run trains. */
export function checkSoftLabelHeader(headerJson: string, use: SoftLabelUse): SoftLabelHeader {
  const header = JSON.parse(headerJson) as SoftLabelHeader;
  const refuse = (what: string) => {
    throw new DistilleryError(`soft-label cache ${use.path} ${what}; make a new one with \`distillery cache-teachers\``, 'E_ARGUMENT');
  };
  if (header.format !== SOFT_LABEL_FORMAT || header.version !== 1)
    refuse(`has format ${header.format} v${header.version}, expected ${SOFT_LABEL_FORMAT} v1`);
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
