// A network of the zoo, typed: create, run, tap features, save and load weights, dispose.
import type { HostTensor, NativeModel, NativeModelInfo, NativeModelSpec, OneOutputs } from '../native.js';
import { native } from '../native.js';

/** What defines a network: the zoo name, its input channels and its classes (declared once, as the addon reads it). */
export type ModelSpec = NativeModelSpec;

/** A spec in words, the one way distillery prints one: "resnet20 (1ch, 10 classes)", "resnet20 with blocks [[16, 8], [32], [40]] (3ch, 100 classes)". */
export function describeSpec(spec: ModelSpec): string {
  const parts = [spec.arch];
  if (spec.blocks && spec.blocks.length > 0) parts.push(`with blocks [${spec.blocks.map((stage) => `[${stage.join(', ')}]`).join(', ')}]`);
  if (spec.branches) parts.push(`with ${spec.branches} ONE branches`);
  if (spec.gated) parts.push('with search gates');
  parts.push(`(${spec.inChannels}ch, ${spec.numClasses} classes)`);
  return parts.join(' ');
}

/** A network on a device. Call dispose() (or use `using`) to free its memory before GC would. */
export class Model {
  readonly handle: NativeModel;
  readonly info: NativeModelInfo;

  private constructor(handle: NativeModel) {
    this.handle = handle;
    this.info = handle.info();
  }

  /** Builds a freshly initialised network on `device` (off the JS thread); seed with setSeed() first for reproducible init. */
  static async create(spec: ModelSpec, device = 'cpu'): Promise<Model> {
    return new Model(await native().createModel(spec, device));
  }

  /** The zoo spec of this network. */
  get spec(): ModelSpec {
    const { arch, inChannels, numClasses, branches, blocks, gated } = this.info;
    return {
      arch,
      inChannels,
      numClasses,
      ...(branches > 0 ? { branches } : {}),
      ...(blocks.length > 0 ? { blocks } : {}),
      ...(gated ? { gated } : {}),
    };
  }

  /** What evaluation scores: ["logits"], or a ONE network's ["branch1", ..., "ensemble"]. */
  get outputNames(): string[] {
    return this.info.outputNames;
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return this.info.parameters;
  }

  /** Logits for a float input [N, C, H, W] (eval mode unless `training`). */
  async forward(input: HostTensor, training = false): Promise<HostTensor> {
    return this.handle.forward(input, training);
  }

  /** Output of each stage then the logits, in eval mode; names in `info.featureNames`. */
  async features(input: HostTensor): Promise<HostTensor[]> {
    return this.handle.features(input);
  }

  /** A ONE network's branch logits, gate weights and gated ensemble (eval mode unless `training`). */
  async oneOutputs(input: HostTensor, training = false): Promise<OneOutputs> {
    return this.handle.oneOutputs(input, training);
  }

  /**
   * Branch `branch` (from 1) of a ONE network as the plain network it is, with its own copy of the
   * weights: the model to deploy. Its state has the plain network's names only.
   */
  async exportBranch(branch: number): Promise<Model> {
    const { branches: _, ...plainSpec } = this.spec;
    const plain = await Model.create(plainSpec, this.info.device);
    try {
      await this.handle.copyBranch(branch, plain.handle);
    } catch (error) {
      plain.dispose();
      throw error;
    }
    return plain;
  }

  /**
   * Multiply-accumulates of one forward pass for one input of shape [C, H, W] (convolutions and
   * linear layers, as torchvision and the papers count FLOPs; every output, so all ONE branches).
   */
  async countFlops(inputShape: [number, number, number]): Promise<number> {
    return this.handle.flops({ inputShape });
  }

  /** Stores the convolution weights NHWC (PyTorch's channels_last), which tensor-core convolutions prefer; names and files are unchanged. */
  async toChannelsLast(): Promise<void> {
    return this.handle.toChannelsLast();
  }

  /** Parameter and buffer names with shapes, as saved in safetensors files. */
  stateShapes(): Record<string, number[]> {
    return this.handle.stateShapes();
  }

  /** Writes the weights (torchvision names for ImageNet ResNets) as safetensors, atomically. */
  async saveSafetensors(path: string, metadata: Record<string, string> = {}, prefix = ''): Promise<void> {
    return this.handle.saveSafetensors(path, { prefix, metadata });
  }

  /**
   * Loads safetensors weights; strict reports every missing, unexpected and mis-shaped name, except
   * the `optional` names (without prefix), which may be missing and then keep their values.
   */
  async loadSafetensors(
    path: string,
    options: { prefix?: string; strict?: boolean; optional?: string[] } = {},
  ): Promise<Record<string, string>> {
    return this.handle.loadSafetensors(path, options);
  }

  /** Frees the network now (in-flight work finishes first). */
  dispose(): void {
    this.handle.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Every architecture name the zoo builds (WRN also accepts any "wrn-D-K" with (D-4)%6 == 0). */
export function listArchs(): string[] {
  return native().listArchs();
}
