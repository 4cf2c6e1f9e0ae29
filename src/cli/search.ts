// `distillery search`: runs the student search (src/pipelines/search.ts) with progress and prints
// what it found, and how to train it.
import type { ResolvedRunConfig } from '../config/load.js';
import { searchStudent } from '../pipelines/search.js';
import { formatTable } from '../report/table.js';
import type { OutputOptions } from './options.js';
import { printResult } from './output.js';
import { executeWithProgress } from './run-command.js';

/** Runs the search of `config` (method 'search', one teacher) and prints the found student next to its teacher. */
export async function searchCommand(config: ResolvedRunConfig, output: OutputOptions): Promise<void> {
  const { found, foundPath, weightsPath, run } = await searchStudent(config, (r) =>
    executeWithProgress(r, output, `search ${config.model.arch}`),
  );
  const table = formatTable(
    [
      {
        network: `teacher ${found.teacher.arch}`,
        params: found.teacher.params,
        mflops: found.teacher.flops / 1e6,
        top1: (found.teacher.top1 ?? NaN) * 100,
      },
      {
        network: found.description,
        params: found.student.params,
        mflops: found.student.flops / 1e6,
        top1: (found.student.top1 ?? NaN) * 100,
      },
    ],
    [
      { key: 'network' },
      { key: 'params' },
      { key: 'mflops', header: 'MFLOPs', decimals: 2 },
      { key: 'top1', header: 'top-1 % (before retraining)', decimals: 2 },
    ],
  );
  printResult(
    output,
    { ...found, path: foundPath, checkpoint: run.checkpoint },
    `\n${table}\n\nwrote ${foundPath} and ${weightsPath}; train it with KD from the teacher:\n` +
      `  distillery distill --method kd --teachers ${found.teacher.path} --arch-spec ${foundPath}\n` +
      `or fine-tune its inherited weights (add --init ${weightsPath} --lr 0.01)`,
  );
}
