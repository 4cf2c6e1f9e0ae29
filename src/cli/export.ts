// `distillery export`: one branch of a ONE checkpoint as the plain network it is, written as a
// checkpoint and as safetensors weights that load and evaluate with no trace of the other branches.
import type { ExportOptions } from '../config/commands.js';
import { DistilleryError } from '../errors.js';
import {
  CHECKPOINT_FORMAT,
  checkpointModelPrefix,
  loadModel,
  readCheckpointRecord,
  recordMetadata,
  WEIGHTS_FORMAT,
} from '../io/checkpoint.js';
import type { OutputOptions } from './options.js';
import { printResult } from './output.js';
import { refuseOverwritingInputs } from '../io/input-guard.js';

/** `base` without a .ckpt or .safetensors extension: export writes both. */
function stripExtension(base: string): string {
  return base.replace(/\.(ckpt|safetensors)$/, '');
}

/** Writes branch `options.branch` of the ONE checkpoint `input` to `<out>.ckpt` and `<out>.safetensors`. */
export async function exportCommand(input: string, options: ExportOptions, output: OutputOptions): Promise<void> {
  const record = readCheckpointRecord(input);
  const branches = record.model.branches ?? 0;
  if (branches < 2) {
    throw new DistilleryError(
      `${input} holds a plain ${record.model.arch}, not a ONE network: there are no branches to export (use it as it is, or \`distillery convert\`)`,
      'E_ARGUMENT',
    );
  }
  if (options.branch > branches) {
    throw new DistilleryError(`--branch ${options.branch}: ${input} has branches 1-${branches}`, 'E_ARGUMENT');
  }
  const base = stripExtension(options.out);
  const paths = { checkpoint: `${base}.ckpt`, weights: `${base}.safetensors` };
  refuseOverwritingInputs(
    'distillery export',
    Object.values(paths).map((path) => ({ path, what: 'the exported branch (--out)' })),
    [{ path: input, what: 'the ONE checkpoint' }],
  );
  const one = await loadModel(input, 'cpu');
  try {
    const plain = await one.exportBranch(options.branch);
    try {
      const model = plain.spec;
      const exportedFrom = { checkpoint: input, branch: options.branch };
      // The run's config stays in the checkpoint: it records the input normalisation eval needs.
      await plain.saveSafetensors(
        paths.checkpoint,
        recordMetadata({ ...record, format: CHECKPOINT_FORMAT, model, history: [], exportedFrom }),
        checkpointModelPrefix(),
      );
      await plain.saveSafetensors(paths.weights, recordMetadata({ format: WEIGHTS_FORMAT, version: 1, model, exportedFrom }));
      printResult(
        output,
        { input, branch: options.branch, model, params: plain.parameterCount, ...paths },
        `wrote branch ${options.branch} of ${input} as a plain ${model.arch} (${plain.parameterCount} params): ${paths.checkpoint}, ${paths.weights}`,
      );
    } finally {
      plain.dispose();
    }
  } finally {
    one.dispose();
  }
}
