// Opens a split of the configured dataset: IDX or CIFAR binary files into memory, or an ImageFolder
// of image files with torchvision's training or evaluation transform.
import { join } from 'node:path';

import type { DataConfig } from '../config/schemas.js';
import { DistilleryError } from '../errors.js';
import type { LoaderOptions, Split } from './dataset.js';
import { Dataset } from './dataset.js';

/** The folder of a split in an ImageFolder dataset: ImageNet's train/ and val/. */
export function imageFolderSplit(dataDir: string, split: Split): string {
  return join(dataDir, split === 'train' ? 'train' : 'val');
}

/** The class count of the datasets distillery knows by name; their files must hold exactly that. */
const NAMED_CLASSES: Partial<Record<DataConfig['dataset'], number>> = { 'fashion-mnist': 10, mnist: 10, cifar10: 10, cifar100: 100 };

/** `dataset`, or E_ARGUMENT (the dataset freed) when it holds no samples: nothing can train or be scored on it. */
export function nonEmpty(dataset: Dataset, split: Split, where: string): Dataset {
  if (dataset.size > 0) return dataset;
  dataset.dispose();
  throw new DistilleryError(`the ${split} split of ${where} holds no samples: check --data-dir and the file list`, 'E_ARGUMENT');
}

/** Opens `split` of the dataset `data` describes; an empty split is E_ARGUMENT. */
export async function openSplit(data: DataConfig, split: Split): Promise<Dataset> {
  return nonEmpty(await openAnySplit(data, split), split, data.dataDir);
}

async function openAnySplit(data: DataConfig, split: Split): Promise<Dataset> {
  if (data.dataset === 'cifar10' || data.dataset === 'cifar100') {
    const dataset = await Dataset.loadCifar(data.dataDir, split);
    const found = dataset.info.numClasses;
    if (found !== NAMED_CLASSES[data.dataset]) {
      dataset.dispose();
      const other = found === 100 ? 'cifar100' : 'cifar10';
      throw new DistilleryError(
        `data.dataset is ${data.dataset}, but ${data.dataDir} holds ${other === 'cifar100' ? 'CIFAR-100' : 'CIFAR-10'} files ` +
          `(${found} classes): pass --dataset ${other}, or --data-dir the ${data.dataset === 'cifar100' ? 'CIFAR-100' : 'CIFAR-10'} folder`,
        'E_ARGUMENT',
      );
    }
    return dataset;
  }
  if (data.dataset !== 'imagefolder') return Dataset.loadIdx(data.dataDir, split, NAMED_CLASSES[data.dataset]);
  const { size, resize, scale, ratio, dctScaling } = data.image;
  const softLabels = split === 'train' ? data.softLabels : undefined;
  const list = split === 'train' ? data.lists?.train : data.lists?.val;
  return Dataset.openImageFolder({
    root: imageFolderSplit(data.dataDir, split),
    ...(list === undefined ? {} : { list }),
    train: split === 'train',
    size,
    resize,
    scale,
    ratio,
    flip: data.augment.flip,
    dctScaling,
    ...(softLabels === undefined ? {} : { softLabels }),
  });
}

/** The loader's augmentation options for `data`: pad and flip for in-memory data; image files augment themselves. */
export function augmentation(data: DataConfig): Pick<LoaderOptions, 'pad' | 'flip' | 'skipBadFiles'> {
  if (data.dataset === 'imagefolder') return { pad: 0, flip: false, skipBadFiles: data.badFiles === 'skip' };
  return { pad: data.augment.pad, flip: data.augment.flip };
}
