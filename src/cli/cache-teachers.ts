// `distillery cache-teachers`: writes a teacher soft-label cache that `distill --soft-labels` replays.
import type { CacheTeachersOptions } from '../config/commands.js';
import { IMAGENET_NORMALIZATION } from '../config/datasets.js';
import { cacheTeachers } from '../pipelines/cache-teachers.js';
import { setThreads } from '../runtime.js';
import type { OutputOptions } from './options.js';
import { printResult } from './output.js';

/** Caches the ensemble of `options.teachers` on `options.crops` crops of every image of `<data>/train`. */
export async function cacheTeachersCommand(options: CacheTeachersOptions, output: OutputOptions): Promise<void> {
  setThreads(options.threads);
  const started = performance.now();
  let reported = -1;
  const header = await cacheTeachers(
    {
      teachers: options.teachers,
      dataDir: options.data,
      ...(options.list === undefined ? {} : { list: options.list }),
      out: options.out,
      crops: options.crops,
      topK: options.topK,
      temperature: options.temperature,
      logits: options.logits,
      perTeacher: options.perTeacher,
      seed: options.seed,
      // torchvision's RandomResizedCrop defaults; a run replaying the cache must use the same.
      image: { size: options.imageSize, scale: [0.08, 1], ratio: [3 / 4, 4 / 3], dctScaling: true },
      flip: !options.noFlip,
      mean: [...IMAGENET_NORMALIZATION.mean],
      std: [...IMAGENET_NORMALIZATION.std],
      batchSize: options.batchSize,
      device: options.device,
      workers: options.workers,
    },
    (pass, passes, images, total) => {
      const percent = Math.floor((100 * (pass * total + images)) / (passes * total));
      if (!output.quiet && !output.json && percent !== reported) {
        reported = percent;
        process.stderr.write(`\rcaching crop ${pass + 1}/${passes}: ${images}/${total} images (${percent}%)`);
      }
    },
  );
  if (!output.quiet && !output.json) process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  printResult(
    output,
    { out: options.out, seconds, ...header },
    `wrote ${options.out}: ${header.samples} images x ${header.crops} crops, top-${header.topK} of ${header.numClasses} classes at T=${header.temperature}, in ${seconds.toFixed(1)} s`,
  );
}
