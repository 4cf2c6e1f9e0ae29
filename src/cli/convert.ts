// `distillery convert`: a checkpoint to plain safetensors weights (torchvision names for ImageNet
// ResNets), or safetensors weights to a checkpoint that `distill --teachers` and `eval` accept.
import { DistilleryError } from '../errors.js';
import type { ConvertOptions } from '../config/commands.js';
import { CHECKPOINT_FORMAT, checkpointModelPrefix, loadModel, readRecord, recordMetadata } from '../io/checkpoint.js';
import type { OutputOptions } from './options.js';
import { printResult } from './output.js';
import { refuseOverwritingInputs } from '../io/input-guard.js';

/** Converts `input` into `output`; the direction follows from what `input` is. */
export async function convertCommand(input: string, output: string, options: ConvertOptions, out: OutputOptions): Promise<void> {
  refuseOverwritingInputs('distillery convert', [{ path: output, what: 'its output' }], [{ path: input, what: 'the file to convert' }]);
  const record = readRecord(input);
  const toWeights = record?.format === CHECKPOINT_FORMAT;
  if (!toWeights && record === undefined && options.arch === undefined) {
    throw new DistilleryError(
      `${input} is a safetensors file without distillery metadata: pass --arch (and --in-channels, --num-classes) to say which network it holds`,
      'E_ARGUMENT',
    );
  }
  const spec = record?.model ?? { arch: options.arch as string, inChannels: options.inChannels, numClasses: options.numClasses };
  const model = await loadModel(input, 'cpu', record === undefined ? spec : undefined);
  try {
    if (toWeights) {
      await model.saveSafetensors(output, recordMetadata({ format: 'distillery.weights', version: 1, model: model.spec }));
    } else {
      const metadata = recordMetadata({
        format: CHECKPOINT_FORMAT,
        version: 1,
        model: model.spec,
        epoch: 0,
        step: 0,
        trainSeconds: 0,
        trainImages: 0,
        config: null,
        history: [],
      });
      await model.saveSafetensors(output, metadata, checkpointModelPrefix());
    }
  } finally {
    model.dispose();
  }
  printResult(
    out,
    { input, output, kind: toWeights ? 'weights' : 'checkpoint', model: spec },
    `wrote ${output} (${toWeights ? 'safetensors weights' : 'checkpoint'} of ${spec.arch})`,
  );
}
