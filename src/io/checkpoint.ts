// The checkpoint format: one safetensors file holding "model.*" weights, "optim.*" optimizer state,
// the RNG state, and a JSON record (spec, config, progress) in the metadata under "distillery".
import { existsSync } from 'node:fs';

import { DistilleryError } from '../errors.js';
import type { ModelSpec } from '../models/model.js';
import { Model } from '../models/model.js';
import { native } from '../native.js';

/** The prefix of the student's tensors in a trainer checkpoint (`model.`), as the native trainer writes it. */
export function checkpointModelPrefix(): string {
  return native().checkpointFormat().modelPrefix;
}

export const CHECKPOINT_FORMAT = 'distillery.checkpoint';
export const WEIGHTS_FORMAT = 'distillery.weights';
const METADATA_KEY = 'distillery';

/** One evaluation on the test split, as recorded in the checkpoint's history. */
export interface EpochRecord {
  epoch: number;
  top1: number;
  top5: number;
  loss: number;
  trainLoss: number;
  trainAccuracy: number;
  seconds: number;
}

/** What a checkpoint says about itself. */
export interface CheckpointRecord {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  model: ModelSpec;
  /** Epochs completed. */
  epoch: number;
  step: number;
  trainSeconds: number;
  trainImages: number;
  config: unknown;
  history: EpochRecord[];
  /** Set by `distillery export`: the ONE checkpoint and branch this network was taken from. */
  exportedFrom?: ExportSource;
}

/** Where an exported network came from. */
export interface ExportSource {
  checkpoint: string;
  branch: number;
}

/** What a plain weights file written by distillery says about itself. */
export interface WeightsRecord {
  format: typeof WEIGHTS_FORMAT;
  version: 1;
  model: ModelSpec;
  exportedFrom?: ExportSource;
}

/** Serialises a record into safetensors metadata. */
export function recordMetadata(record: CheckpointRecord | WeightsRecord): Record<string, string> {
  return { [METADATA_KEY]: JSON.stringify(record) };
}

/** Reads the distillery record of a safetensors file, or undefined for a foreign file. */
export function readRecord(path: string): CheckpointRecord | WeightsRecord | undefined {
  if (!existsSync(path)) throw new DistilleryError(`no such file: ${path}`, 'E_FILE_NOT_FOUND');
  const raw = native().readMetadata(path)[METADATA_KEY];
  if (raw === undefined) return undefined;
  try {
    const record = JSON.parse(raw) as { format?: unknown };
    if (record.format !== CHECKPOINT_FORMAT && record.format !== WEIGHTS_FORMAT) throw new Error(`unknown format ${String(record.format)}`);
    return record as CheckpointRecord | WeightsRecord;
  } catch (error) {
    throw new DistilleryError(`${path}: unreadable distillery metadata (${(error as Error).message})`, 'E_CORRUPT_FILE');
  }
}

/** The input normalisation a checkpoint was trained with, when it records one. */
export function trainedNormalization(path: string): { mean: number[]; std: number[] } | undefined {
  const record = readRecord(path);
  if (record?.format !== CHECKPOINT_FORMAT) return undefined;
  const data = (record.config as { data?: { mean?: unknown; std?: unknown } } | null)?.data;
  const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');
  return data && numbers(data.mean) && numbers(data.std) ? { mean: data.mean, std: data.std } : undefined;
}

/** Reads a checkpoint's record; fails unless `path` is a distillery checkpoint. */
export function readCheckpointRecord(path: string): CheckpointRecord {
  const record = readRecord(path);
  if (record?.format !== CHECKPOINT_FORMAT) {
    throw new DistilleryError(
      `${path} is not a distillery checkpoint (no "${METADATA_KEY}" checkpoint record in its metadata)`,
      'E_CHECKPOINT',
    );
  }
  return record;
}

/**
 * Builds the network stored in a checkpoint or a weights file. Foreign safetensors files (for
 * example a torchvision state_dict) need `spec`, since they do not say what network they hold;
 * files written by distillery say so themselves, and `spec` is ignored for them.
 */
export async function loadModel(path: string, device = 'cpu', spec?: ModelSpec): Promise<Model> {
  const record = readRecord(path);
  const modelSpec = record?.model ?? spec;
  if (modelSpec === undefined) {
    throw new DistilleryError(
      `${path} does not say which network it holds: pass the architecture (--arch, --in-channels, --num-classes)`,
      'E_ARGUMENT',
    );
  }
  const model = await Model.create(modelSpec, device);
  try {
    await model.loadSafetensors(path, { prefix: record?.format === CHECKPOINT_FORMAT ? checkpointModelPrefix() : '', strict: true });
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** Same network: arch, channels, classes, ONE branches and searched blocks (search gates aside). */
export function sameNetwork(a: ModelSpec, b: ModelSpec): boolean {
  return (
    a.arch === b.arch &&
    a.inChannels === b.inChannels &&
    a.numClasses === b.numClasses &&
    (a.branches ?? 0) === (b.branches ?? 0) &&
    JSON.stringify(a.blocks ?? null) === JSON.stringify(b.blocks ?? null)
  );
}

/**
 * Loads the weights of a checkpoint or safetensors file into `model` (strict), e.g. to initialise a
 * student. With `ignoreGates`, the model's search gates may be absent from the file (a teacher's
 * weights loaded into its gated copy); every other tensor must still be there.
 */
export async function loadWeightsInto(model: Model, path: string, options: { ignoreGates?: boolean } = {}): Promise<void> {
  const record = readRecord(path);
  const spec = model.spec;
  const saved = record?.model;
  if (saved && !sameNetwork(saved, spec)) {
    const branches = (s: ModelSpec): string => (s.branches ? `, ${s.branches} ONE branches` : '');
    throw new DistilleryError(
      `${path} holds ${saved.arch} (${saved.inChannels}ch, ${saved.numClasses} classes${branches(saved)}), ` +
        `not ${spec.arch} (${spec.inChannels}ch, ${spec.numClasses} classes${branches(spec)}): initialise from weights of the same network` +
        (saved.branches ? ' (`distillery export` turns a ONE branch into a plain network)' : ''),
      'E_WEIGHTS',
    );
  }
  const prefix = record?.format === CHECKPOINT_FORMAT ? checkpointModelPrefix() : '';
  const optional = options.ignoreGates ? model.handle.gateNames() : [];
  await model.loadSafetensors(path, { prefix, strict: true, optional });
}
