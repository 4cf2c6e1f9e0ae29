// Runs the teacher ensemble once over K random crops of every training image and stores its top-k
// probabilities with each crop's box, so that distillation replays them instead of running teachers.
import { Dataset, Loader } from '../data/dataset.js';
import { imageFolderSplit } from '../data/open.js';
import type { SoftLabelHeader } from '../io/soft-label-cache.js';
import { SOFT_LABEL_FORMAT, SoftLabelWriter } from '../io/soft-label-cache.js';
import { native } from '../native.js';
import { loadTeachers } from '../models/teachers.js';

/** What `cacheTeachers` needs: the teachers, the ImageFolder, and how many crops and labels to keep. */
export interface CacheTeachersOptions {
  teachers: string[];
  /** The dataset folder: its train/ split is cached. */
  dataDir: string;
  /** A `path,label` list of the training files (relative to dataDir/train), as the run's `data.lists.train`. */
  list?: string;
  out: string;
  crops: number;
  topK: number;
  /** The softmax temperature of the stored probabilities (the KD temperature that will replay them; 1 for MEAL V2). */
  temperature: number;
  /** Also store the teachers' mean logits (MEAL V2's discriminator input). */
  logits: boolean;
  /** Also store each teacher's own top-k probabilities. */
  perTeacher: boolean;
  seed: number;
  image: { size: number; scale: [number, number]; ratio: [number, number]; dctScaling: boolean };
  flip: boolean;
  mean: number[];
  std: number[];
  batchSize: number;
  device: string;
  workers: number;
}

/** Progress of a cache being written: crop pass and images done in it. */
export type CacheProgress = (pass: number, passes: number, images: number, total: number) => void;

/** Writes the cache (resuming an unfinished one with the same settings); returns its header. */
export async function cacheTeachers(options: CacheTeachersOptions, onProgress: CacheProgress = () => {}): Promise<SoftLabelHeader> {
  const { size, scale, ratio, dctScaling } = options.image;
  const dataset = await Dataset.openImageFolder({
    root: imageFolderSplit(options.dataDir, 'train'),
    ...(options.list === undefined ? {} : { list: options.list }),
    train: true,
    size,
    scale,
    ratio,
    flip: options.flip,
    dctScaling,
  });
  const teachers = await loadTeachers(options.teachers, {
    device: options.device,
    inChannels: 3,
    numClasses: dataset.info.numClasses,
    against: 'the dataset',
  });
  const loader = new Loader(dataset, {
    batchSize: options.batchSize,
    shuffle: false,
    dropLast: false,
    seed: options.seed,
    pad: 0,
    flip: false,
    workers: options.workers,
    prefetch: 4,
    mean: options.mean,
    std: options.std,
  });
  const header: SoftLabelHeader = {
    format: SOFT_LABEL_FORMAT,
    version: 1,
    samples: dataset.size,
    crops: options.crops,
    topK: options.topK,
    numClasses: dataset.info.numClasses,
    temperature: options.temperature,
    logits: options.logits,
    perTeacher: options.perTeacher,
    seed: options.seed,
    teachers: teachers.map((t, i) => ({ path: options.teachers[i]!, arch: t.spec.arch })),
    dataset: { root: dataset.info.root ?? '', fingerprint: dataset.info.fingerprint ?? '' },
    transform: { size, scale, ratio, flip: options.flip },
  };
  const writer = SoftLabelWriter.open(options.out, header);
  const handles = teachers.map((t) => t.handle);
  try {
    // Pass k draws the crops a loader seeded with `seed` draws in epoch k, which is what replay uses.
    for (let pass = writer.passesDone; pass < options.crops; pass++) {
      let images = 0;
      for await (const batch of loader.epoch(pass)) {
        try {
          const soft = await native().softTargets(handles, batch, { temperature: options.temperature, topK: options.topK });
          writer.write(pass, {
            indices: batch.indices().data,
            crops: batch.crops()!.data,
            classes: soft.classes.data,
            halfBits: soft.halfBits.data,
            logitHalfBits: soft.logitHalfBits.data,
            teacherClasses: soft.teacherClasses.data,
            teacherHalfBits: soft.teacherHalfBits.data,
          });
          images += batch.size();
        } finally {
          batch.dispose();
        }
        onProgress(pass, options.crops, images, dataset.size);
      }
      writer.finishPass(pass);
    }
    writer.finish();
  } catch (error) {
    writer.close();
    throw error;
  } finally {
    loader.dispose();
    for (const t of teachers) t.dispose();
    dataset.dispose();
  }
  return header;
}
