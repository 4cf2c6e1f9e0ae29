// Refined training labels: what a teacher ensemble says about every training sample (its averaged
// softmax), the labels the data came with, the labels to train on, and which samples to keep. One
// safetensors file, so PyTorch reads it as easily as distillery does.
import { DistilleryError } from '../errors.js';
import type { LabelNoise } from '../data/label-noise.js';
import { native } from '../native.js';

export const LABELS_FORMAT = 'distillery.labels';
const METADATA_KEY = 'distillery';

/** How the labels were made. */
export interface LabelsRecord {
  format: typeof LABELS_FORMAT;
  version: 1;
  samples: number;
  numClasses: number;
  teachers: string[];
  /** Ensemble confidence at or above which a disagreeing label is replaced or dropped. */
  threshold: number;
  mode: 'relabel' | 'drop';
  /** The synthetic noise the given labels carry, when the run injected it. */
  labelNoise?: LabelNoise;
}

/** The tensors of a labels file: N samples, K classes. */
export interface RefinedLabels {
  record: LabelsRecord;
  /** Ensemble probabilities, N x K row-major. */
  probs: Float32Array;
  /** Labels the data came with (noisy ones if noise was injected). */
  given: Int32Array;
  /** Labels to train on. */
  labels: Int32Array;
  /** 1 for samples to train on, 0 for dropped ones. */
  keep: Uint8Array;
}

/** Writes a labels file atomically. */
export async function writeLabelsFile(path: string, refined: RefinedLabels): Promise<void> {
  const { record, probs, given, labels, keep } = refined;
  await native().writeSafetensors(
    path,
    {
      probs: { data: probs, shape: [record.samples, record.numClasses] },
      given: { data: given, shape: [record.samples] },
      labels: { data: labels, shape: [record.samples] },
      keep: { data: keep, shape: [record.samples] },
    },
    { [METADATA_KEY]: JSON.stringify(record) },
  );
}

/** Reads and checks a labels file written by writeLabelsFile (E_CORRUPT_FILE naming what is wrong). */
export async function readLabelsFile(path: string): Promise<RefinedLabels> {
  const { tensors, metadata } = await native().readSafetensors(path);
  const bad = (why: string): never => {
    throw new DistilleryError(`${path} is not a distillery labels file: ${why}; make one with \`distillery refine\``, 'E_CORRUPT_FILE');
  };
  let record: LabelsRecord;
  try {
    record = JSON.parse(metadata[METADATA_KEY] ?? 'null') as LabelsRecord;
  } catch {
    return bad('its metadata is not valid JSON');
  }
  if (record?.format !== LABELS_FORMAT) return bad(`no "${LABELS_FORMAT}" record in its metadata`);
  const { probs, given, labels, keep } = tensors;
  if (!probs || !given || !labels || !keep) return bad('it lacks one of the tensors probs, given, labels, keep');
  const n = record.samples;
  const classes = record.numClasses;
  if (!Number.isSafeInteger(n) || n < 1 || !Number.isSafeInteger(classes) || classes < 2) {
    return bad(`its record's samples (${String(n)}) and numClasses (${String(classes)}) are not positive integers`);
  }
  if (probs.shape.join() !== `${n},${classes}` || [given, labels, keep].some((t) => t.shape.join() !== `${n}`)) {
    return bad(`its tensor shapes disagree with its record (${n} samples, ${classes} classes)`);
  }
  if (!(
    probs.data instanceof Float32Array &&
    given.data instanceof Int32Array &&
    labels.data instanceof Int32Array &&
    keep.data instanceof Uint8Array
  )) {
    return bad('its tensors are not F32 probs, I32 given and labels, U8 keep');
  }
  const outside = [given.data, labels.data].map((t) => t.findIndex((label) => label < 0 || label >= classes));
  if (outside.some((i) => i >= 0)) {
    const [name, t] = outside[0]! >= 0 ? ['given', given.data] : ['labels', labels.data];
    const i = outside[0]! >= 0 ? outside[0]! : outside[1]!;
    return bad(`${name}[${i}] is ${t[i]}, outside its ${classes} classes`);
  }
  const flag = keep.data.findIndex((k) => k > 1);
  if (flag >= 0) return bad(`keep[${flag}] is ${keep.data[flag]}, not 0 or 1`);
  return { record, probs: probs.data, given: given.data, labels: labels.data, keep: keep.data };
}
