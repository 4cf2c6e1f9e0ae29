// Noisy-data refinement: a teacher ensemble reads every training sample; where it confidently
// disagrees with the given label, the label is replaced by the ensemble's (relabel) or the sample
// is left out (drop). The student then trains on what remains (MEAL with ceWeight > 0, or plain CE).
import { nonEmpty } from '../data/open.js';
import { Dataset, Loader } from '../data/dataset.js';
import type { LabelNoise } from '../data/label-noise.js';
import { injectLabelNoise } from '../data/label-noise.js';
import { DistilleryError } from '../errors.js';
import { trainedNormalization } from '../io/checkpoint.js';
import { loadTeachers } from '../models/teachers.js';
import type { LabelsRecord } from '../io/labels-file.js';
import { LABELS_FORMAT, writeLabelsFile } from '../io/labels-file.js';
import type { Model } from '../models/model.js';
import { native } from '../native.js';
import { refuseOverwritingInputs } from '../io/input-guard.js';

/** What `refineLabels` reads and decides with. */
export interface RefineOptions {
  teachers: string[];
  dataDir: string;
  /** The labels file to write. */
  out: string;
  /** Ensemble confidence at or above which a disagreeing label is acted on. */
  threshold: number;
  mode: 'relabel' | 'drop';
  /** Noise to inject into the given labels first (the same noise a run with this setting trains on). */
  labelNoise?: LabelNoise;
  device: string;
  batchSize: number;
  /** Normalisation when the first teacher's checkpoint does not record one. */
  mean: number[];
  std: number[];
}

/** What refinement did; accuracies against the dataset's own labels are known only when noise was injected. */
export interface RefineResult {
  path: string;
  samples: number;
  kept: number;
  relabelled: number;
  dropped: number;
  /** Fraction of given labels the ensemble's top-1 agrees with. */
  agreement: number;
  /** With injected noise: fraction of given labels that are correct. */
  givenAccuracy?: number;
  /** With injected noise and at least one kept sample: fraction of kept samples whose training label is correct. */
  refinedAccuracy?: number;
}

/** Scores the training split with the teachers' averaged softmax and writes refined labels to `options.out`. */
export async function refineLabels(options: RefineOptions): Promise<RefineResult> {
  if (options.teachers.length === 0)
    throw new DistilleryError('refine needs at least one teacher checkpoint (--teachers a.ckpt,b.ckpt)', 'E_ARGUMENT');
  refuseOverwritingInputs(
    'distillery refine',
    [{ path: options.out, what: 'the labels file (--out)' }],
    options.teachers.map((path) => ({ path, what: '--teachers' })),
  );
  if (!(options.threshold >= 0 && options.threshold <= 1))
    throw new DistilleryError(`threshold must be in [0, 1], got ${options.threshold}`, 'E_ARGUMENT');
  const dataset = nonEmpty(await Dataset.loadIdx(options.dataDir, 'train'), 'train', options.dataDir);
  const numClasses = dataset.info.numClasses;
  const clean = dataset.labels();
  const given = options.labelNoise ? injectLabelNoise(clean, numClasses, options.labelNoise).labels : clean;
  const normalization = trainedNormalization(options.teachers[0]!) ?? { mean: options.mean, std: options.std };
  const loader = Loader.forEvaluation(dataset, { batchSize: options.batchSize, ...normalization });
  let teachers: Model[] = [];
  const probs = new Float32Array(dataset.size * numClasses);
  try {
    teachers = await loadTeachers(options.teachers, {
      device: options.device,
      inChannels: dataset.info.shape[0],
      numClasses,
      against: 'the dataset',
    });
    const handles = teachers.map((t) => t.handle);
    for await (const batch of loader.epoch(0)) {
      try {
        const p = await native().predict(handles, batch);
        const indices = batch.indices().data;
        for (let r = 0; r < indices.length; r++) probs.set(p.data.subarray(r * numClasses, (r + 1) * numClasses), indices[r]! * numClasses);
      } finally {
        batch.dispose();
      }
    }
  } finally {
    for (const t of teachers) t.dispose();
    loader.dispose();
    dataset.dispose();
  }

  const labels = Int32Array.from(given);
  const keep = new Uint8Array(given.length).fill(1);
  let agree = 0;
  let acted = 0;
  for (let i = 0; i < given.length; i++) {
    const row = probs.subarray(i * numClasses, (i + 1) * numClasses);
    let top = 0;
    for (let c = 1; c < numClasses; c++) if (row[c]! > row[top]!) top = c;
    if (top === given[i]) {
      agree++;
    } else if (row[top]! >= options.threshold) {
      acted++;
      if (options.mode === 'relabel') labels[i] = top;
      else keep[i] = 0;
    }
  }
  const record: LabelsRecord = {
    format: LABELS_FORMAT,
    version: 1,
    samples: given.length,
    numClasses,
    teachers: options.teachers,
    threshold: options.threshold,
    mode: options.mode,
    ...(options.labelNoise ? { labelNoise: options.labelNoise } : {}),
  };
  await writeLabelsFile(options.out, { record, probs, given, labels, keep });
  const kept = keep.reduce((s, k) => s + k, 0);
  const result: RefineResult = {
    path: options.out,
    samples: given.length,
    kept,
    relabelled: options.mode === 'relabel' ? acted : 0,
    dropped: options.mode === 'drop' ? acted : 0,
    agreement: agree / given.length,
  };
  if (options.labelNoise) {
    let givenCorrect = 0;
    let refinedCorrect = 0;
    for (let i = 0; i < given.length; i++) {
      if (given[i] === clean[i]) givenCorrect++;
      if (keep[i] && labels[i] === clean[i]) refinedCorrect++;
    }
    result.givenAccuracy = givenCorrect / given.length;
    if (kept > 0) result.refinedAccuracy = refinedCorrect / kept;
  }
  return result;
}
