// Where each named dataset lives by default and how it is normalised (per-channel mean and std of
// its training split), so `--dataset mnist` alone is enough.

/** Defaults of a named dataset. */
export interface DatasetDefaults {
  dataDir: string;
  mean: number[];
  std: number[];
}

/** The datasets distillery knows by name ("idx" is any MNIST-format directory: pass data.dataDir). */
export const DATASET_DEFAULTS: Readonly<Record<'fashion-mnist' | 'mnist', DatasetDefaults>> = {
  'fashion-mnist': { dataDir: '/usr/share/datasets/fashion-mnist', mean: [0.286], std: [0.353] },
  mnist: { dataDir: '/usr/share/datasets/mnist', mean: [0.1307], std: [0.3081] },
};

/** ImageNet's per-channel statistics, torchvision's normalisation for ImageFolder datasets. */
export const IMAGENET_NORMALIZATION = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;

/** What naming a dataset fills in where the user left it unset, and, without a default directory, what data.dataDir must hold. */
export interface NamedDataset {
  defaults: { dataDir?: string; mean?: number[]; std?: number[]; augment?: { pad: number; flip: boolean } };
  dirHint?: string;
}

/** Every name but "fashion-mnist", whose settings are the schema's own defaults. */
export const NAMED_DATASETS: Readonly<Record<'mnist' | 'idx' | 'cifar10' | 'cifar100' | 'imagefolder', NamedDataset>> = {
  mnist: { defaults: { ...DATASET_DEFAULTS.mnist } },
  idx: { defaults: {}, dirHint: 'the directory holding the IDX files' },
  // The training sets' statistics, with the usual CIFAR augmentation.
  cifar10: {
    defaults: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616], augment: { pad: 4, flip: true } },
    dirHint: 'the folder holding the CIFAR binary files, e.g. cifar-10-batches-bin',
  },
  cifar100: {
    defaults: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762], augment: { pad: 4, flip: true } },
    dirHint: 'the folder holding the CIFAR binary files, e.g. cifar-100-binary',
  },
  imagefolder: {
    defaults: { mean: [...IMAGENET_NORMALIZATION.mean], std: [...IMAGENET_NORMALIZATION.std], augment: { pad: 0, flip: true } },
    dirHint: 'the folder holding train/ and val/, one subfolder per class in each',
  },
};
