// `distillery search`: gates a teacher's channels and blocks, trains the gates, extracts the largest
// subnetwork within the budget, and writes it as found.json (the architecture) and
// student.safetensors (its inherited weights) for `distill --arch-spec`.
import { join, relative, dirname } from 'node:path';

import type { ResolvedRunConfig } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { Loader } from '../data/dataset.js';
import { openSplit } from '../data/open.js';
import { ARCH_FORMAT, writeArchSpec } from '../io/arch-spec.js';
import type { ArchSpecFile } from '../io/arch-spec.js';
import { WEIGHTS_FORMAT, loadModel, recordMetadata } from '../io/checkpoint.js';
import { describeSpec } from '../models/model.js';
import { chooseSubnet, extractSubnet } from '../methods/search.js';
import { formatTable } from '../report/table.js';
import { evaluate } from '../train/evaluate.js';
import type { OutputOptions } from './options.js';
import { printResult } from './output.js';
import { runWithProgress } from './run-command.js';

/** Runs the search of `config` (method 'search', one teacher) and writes what it found next to its checkpoint. */
export async function searchCommand(config: ResolvedRunConfig, output: OutputOptions): Promise<void> {
  const budget = { params: config.search.budgetParams, flops: config.search.budgetFlops };
  if (budget.params === undefined && budget.flops === undefined) {
    throw new ConfigError(['search: give a budget, --budget-params (e.g. 75000 or 0.1M) or --budget-flops (e.g. 5M)']);
  }
  const teacherPath = config.teachers[0]!;
  const result = await runWithProgress(config, output, `search ${config.model.arch}`);

  const testSet = await openSplit(config.data, 'test');
  const loader = Loader.forEvaluation(testSet, { batchSize: config.evalBatchSize, mean: config.data.mean, std: config.data.std });
  const gated = await loadModel(result.checkpoint, config.device);
  const teacher = await loadModel(teacherPath, config.device);
  try {
    const inputShape = testSet.info.shape;
    const choice = await chooseSubnet(gated, budget, inputShape);
    using student = await extractSubnet(gated, choice);
    const studentEval = await evaluate([student], loader);
    // A search run scores its teacher, as every run with teachers does.
    const teacherTop1 = result.teachers![0]!.top1;
    const weightsPath = join(config.out, 'student.safetensors');
    const foundPath = join(config.out, 'found.json');
    await student.saveSafetensors(weightsPath, recordMetadata({ format: WEIGHTS_FORMAT, version: 1, model: student.spec }));
    const found: ArchSpecFile = {
      format: ARCH_FORMAT,
      version: 1,
      description: describeSpec(student.spec),
      model: { arch: choice.spec.arch, inChannels: choice.spec.inChannels, numClasses: choice.spec.numClasses, blocks: choice.spec.blocks! },
      inputShape,
      student: { params: choice.params, flops: choice.flops, top1: studentEval.top1 },
      teacher: { path: teacherPath, arch: teacher.spec.arch, params: teacher.parameterCount, flops: await teacher.countFlops(inputShape), top1: teacherTop1 },
      budget: { ...(budget.params === undefined ? {} : { params: budget.params }), ...(budget.flops === undefined ? {} : { flops: budget.flops }) },
      threshold: choice.threshold,
      weights: relative(dirname(foundPath), weightsPath),
    };
    await writeArchSpec(foundPath, found);
    const table = formatTable(
      [
        { network: `teacher ${teacher.spec.arch}`, params: found.teacher.params, mflops: found.teacher.flops / 1e6, top1: teacherTop1 * 100 },
        { network: found.description, params: choice.params, mflops: choice.flops / 1e6, top1: studentEval.top1 * 100 },
      ],
      [{ key: 'network' }, { key: 'params' }, { key: 'mflops', header: 'MFLOPs', decimals: 2 }, { key: 'top1', header: 'top-1 % (before retraining)', decimals: 2 }],
    );
    printResult(
      output,
      { ...found, path: foundPath, checkpoint: result.checkpoint },
      `\n${table}\n\nwrote ${foundPath} and ${weightsPath}; train it with KD from the teacher:\n` +
        `  distillery distill --method kd --teachers ${teacherPath} --arch-spec ${foundPath}\n` +
        `or fine-tune its inherited weights (add --init ${weightsPath} --lr 0.01)`,
    );
  } finally {
    gated.dispose();
    teacher.dispose();
    loader.dispose();
    testSet.dispose();
  }
}
