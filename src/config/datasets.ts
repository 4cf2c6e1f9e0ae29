// Where each named dataset lives by default and how it is normalised (per-channel mean and std of
// its training split), so `--dataset mnist` alone is enough.

/** Defaults of a named dataset. */
export interface DatasetDefaults {
  dataDir: string;
  mean: number[];
  std: number[];
}

/** The datasets distillery knows by name ("idx" is any MNIST-format directory: pass data.dataDir). */
export const DATASET_DEFAULTS: Readonly<Record<"fashion-mnist" | "mnist", DatasetDefaults>> = {
  "fashion-mnist": { dataDir: "/usr/share/datasets/fashion-mnist", mean: [0.286], std: [0.353] },
  mnist: { dataDir: "/usr/share/datasets/mnist", mean: [0.1307], std: [0.3081] },
};

/** ImageNet's per-channel statistics, torchvision's normalisation for ImageFolder datasets. */
export const IMAGENET_NORMALIZATION = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;

/** CIFAR-10 and CIFAR-100 training-set statistics, with the usual CIFAR augmentation (pad 4, flip). */
export const CIFAR_DEFAULTS = {
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  cifar100: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] },
} as const;
