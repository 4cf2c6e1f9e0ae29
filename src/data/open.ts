// Opens a split of the configured dataset: IDX or CIFAR binary files into memory, or an ImageFolder
// of image files with torchvision's training or evaluation transform.
import { join } from 'node:path';

import type { DataConfig } from '../config/schemas.js';
import type { LoaderOptions, Split } from './dataset.js';
import { Dataset } from './dataset.js';

/** The folder of a split in an ImageFolder dataset: ImageNet's train/ and val/. */
export function imageFolderSplit(dataDir: string, split: Split): string {
  return join(dataDir, split === 'train' ? 'train' : 'val');
}

/** Opens `split` of the dataset `data` describes. */
export async function openSplit(data: DataConfig, split: Split): Promise<Dataset> {
  if (data.dataset === 'cifar10' || data.dataset === 'cifar100') return Dataset.loadCifar(data.dataDir, split);
  if (data.dataset !== 'imagefolder') return Dataset.loadIdx(data.dataDir, split);
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
