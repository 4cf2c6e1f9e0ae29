// Runs the teacher ensemble once over K random crops of every training image and stores its top-k
// probabilities with each crop's box, so that distillation replays them instead of running teachers.
import { Dataset, Loader } from '../data/dataset.js';
import { imageFolderSplit } from '../data/open.js';
import type { SoftLabelHeader } from '../io/soft-label-cache.js';
import { SOFT_LABEL_FORMAT, SoftLabelWriter } from '../io/soft-label-cache.js';
import { loadTeachers } from '../models/teachers.js';
import { DisposalScope } from '../scope.js';
import { refuseOverwritingInputs } from '../io/input-guard.js';

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
  refuseOverwritingInputs(
    'distillery cache-teachers',
    ['', '.partial', '.progress'].map((suffix) => ({ path: `${options.out}${suffix}`, what: 'the cache (--out)' })),
    [
      ...options.teachers.map((path) => ({ path, what: '--teachers' })),
      ...(options.list === undefined ? [] : [{ path: options.list, what: 'the file list (--list)' }]),
    ],
  );
  using scope = new DisposalScope();
  const dataset = scope.use(
    await Dataset.openImageFolder({
      root: imageFolderSplit(options.dataDir, 'train'),
      ...(options.list === undefined ? {} : { list: options.list }),
      train: true,
      size,
      scale,
      ratio,
      flip: options.flip,
      dctScaling,
    }),
  );
  const teachers = await loadTeachers(options.teachers, {
    device: options.device,
    inChannels: 3,
    numClasses: dataset.info.numClasses,
    against: 'the dataset',
  });
  for (const t of teachers) scope.use(t);
  const loader = scope.use(
    new Loader(dataset, {
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
    }),
  );
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
  let writer: SoftLabelWriter | undefined;
  try {
    writer = await SoftLabelWriter.open(options.out, header);
    // Pass k draws the crops a loader seeded with `seed` draws in epoch k, which is what replay uses.
    for (let pass = writer.passesDone; pass < options.crops; pass++) {
      let images = 0;
      for await (const batch of loader.epoch(pass)) {
        try {
          await writer.write(pass, teachers, batch);
          images += batch.size();
        } finally {
          batch.dispose();
        }
        onProgress(pass, options.crops, images, dataset.size);
      }
      await writer.finishPass(pass);
    }
    const done = writer;
    writer = undefined;
    await done.finish();
  } finally {
    // An unfinished cache is left as it is, to resume; the error that stopped it is the one thrown.
    await writer?.close().catch(() => undefined);
  }
  return header;
}
