// Student search as a whole: train the gates (the 'search' method), then pick the largest subnetwork
// within a parameter or FLOP budget, extract it with its inherited weights, and write found.json and
// student.safetensors for `distill --arch-spec`.
import { dirname, join, relative } from 'node:path';

import { ConfigError } from '../config/errors.js';
import type { ResolvedRunConfig } from '../config/load.js';
import { Loader } from '../data/dataset.js';
import { openSplit } from '../data/open.js';
import { DistilleryError } from '../errors.js';
import type { ArchSpecFile } from '../io/arch-spec.js';
import { ARCH_FORMAT, writeArchSpec } from '../io/arch-spec.js';
import { WEIGHTS_FORMAT, loadModel, recordMetadata } from '../io/checkpoint.js';
import type { ModelSpec } from '../models/model.js';
import { Model, describeSpec } from '../models/model.js';
import { evaluate } from '../train/evaluate.js';
import type { RunResult, TrainingRun } from '../train/run.js';
import { createRun } from '../methods/registry.js';
import { refuseOverwritingInputs } from '../io/input-guard.js';
import { RunLock } from '../io/run-lock.js';

/** A budget: at most `params` parameters or at most `flops` multiply-accumulates per image. */
export interface SearchBudget {
  params?: number;
  flops?: number;
}

/** The subnetwork a threshold keeps, with its size. */
export interface SubnetChoice {
  threshold: number;
  spec: ModelSpec;
  params: number;
  flops: number;
}

/** The plain spec and size of what `gated` keeps at `threshold`. */
async function choiceAt(gated: Model, threshold: number, inputShape: [number, number, number]): Promise<SubnetChoice> {
  const { arch, inChannels, numClasses } = gated.spec;
  const spec: ModelSpec = { arch, inChannels, numClasses, blocks: gated.handle.planSubnet(threshold).blocks };
  using probe = await Model.create(spec);
  return { threshold, spec, params: probe.parameterCount, flops: await probe.countFlops(inputShape) };
}

/**
 * The largest subnetwork of a trained gated network within `budget`: the lowest threshold on the
 * effective gates whose extracted network fits. Throws E_ARGUMENT naming the smallest reachable
 * size when even the smallest subnetwork does not fit.
 */
export async function chooseSubnet(gated: Model, budget: SearchBudget, inputShape: [number, number, number]): Promise<SubnetChoice> {
  if ((budget.params === undefined) === (budget.flops === undefined)) {
    throw new DistilleryError('give one budget: parameters (--budget-params) or FLOPs (--budget-flops)', 'E_ARGUMENT');
  }
  const fits = (c: SubnetChoice): boolean => (budget.params !== undefined ? c.params <= budget.params : c.flops <= budget.flops!);
  // Threshold t keeps the channels whose gate is >= t: 0 keeps all, each distinct gate value prunes
  // everything below it, and a value above the largest prunes as far as the network allows.
  const values = [...new Set(gated.handle.gateValues())];
  const candidates = [0, ...values, 2 * (values.at(-1) ?? 0) + 1];
  const smallest = await choiceAt(gated, candidates.at(-1)!, inputShape);
  if (!fits(smallest)) {
    throw new DistilleryError(
      `no subnetwork of ${gated.spec.arch} fits the budget (${budget.params !== undefined ? `${budget.params} parameters` : `${budget.flops} FLOPs`}): ` +
        `the smallest has ${smallest.params} parameters and ${smallest.flops} FLOPs`,
      'E_ARGUMENT',
    );
  }
  let lo = 0;
  let hi = candidates.length - 1;
  let best = smallest;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const choice = await choiceAt(gated, candidates[mid]!, inputShape);
    if (fits(choice)) {
      best = choice;
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return best;
}

/** The plain network `gated` keeps at `choice.threshold`, its weights inherited and the gates folded in. */
export async function extractSubnet(gated: Model, choice: SubnetChoice): Promise<Model> {
  const student = await Model.create(choice.spec, gated.info.device);
  try {
    await gated.handle.extractSubnet(choice.threshold, student.handle);
  } catch (error) {
    student.dispose();
    throw error;
  }
  return student;
}

/** What a search found and where it wrote it. */
export interface SearchResult {
  /** The found.json written, as read back by `distill --arch-spec`. */
  found: ArchSpecFile;
  foundPath: string;
  weightsPath: string;
  /** The gate-training run. */
  run: RunResult;
}

/**
 * Runs the search of `config` (method 'search', one teacher, a budget): trains the gates with
 * `execute` (default: run.execute(); the CLI adds progress), extracts the largest subnetwork within
 * the budget and writes found.json and student.safetensors into `config.out`.
 */
export async function searchStudent(
  config: ResolvedRunConfig,
  execute: (run: TrainingRun) => Promise<RunResult> = (run) => run.execute(),
): Promise<SearchResult> {
  if (config.method !== 'search') throw new DistilleryError(`searchStudent runs method 'search', got '${config.method}'`, 'E_ARGUMENT');
  const budget = { params: config.search.budgetParams, flops: config.search.budgetFlops };
  if (budget.params === undefined && budget.flops === undefined) {
    throw new ConfigError(['search: give a budget, --budget-params (e.g. 75000 or 0.1M) or --budget-flops (e.g. 5M)']);
  }
  const teacherPath = config.teachers[0]!;
  refuseOverwritingInputs(
    'distillery search',
    ['checkpoint.ckpt', 'found.json', 'student.safetensors'].map((name) => ({ path: join(config.out, name), what: name })),
    [{ path: teacherPath, what: '--teachers' }],
  );
  // Held from the gate training to found.json, so no other run writes this directory in between.
  using lock = RunLock.acquire(config.out, 'distillery search');
  const result = await execute(createRun(config).writeUnder(lock));

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
      model: {
        arch: choice.spec.arch,
        inChannels: choice.spec.inChannels,
        numClasses: choice.spec.numClasses,
        blocks: choice.spec.blocks!,
      },
      inputShape,
      student: { params: choice.params, flops: choice.flops, top1: studentEval.top1 },
      teacher: {
        path: teacherPath,
        arch: teacher.spec.arch,
        params: teacher.parameterCount,
        flops: await teacher.countFlops(inputShape),
        top1: teacherTop1,
      },
      budget: {
        ...(budget.params === undefined ? {} : { params: budget.params }),
        ...(budget.flops === undefined ? {} : { flops: budget.flops }),
      },
      threshold: choice.threshold,
      weights: relative(dirname(foundPath), weightsPath),
    };
    await writeArchSpec(foundPath, found);
    return { found, foundPath, weightsPath, run: result };
  } finally {
    gated.dispose();
    teacher.dispose();
    loader.dispose();
    testSet.dispose();
  }
}
