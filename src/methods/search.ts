// Student search (Gu & Tresp, ECAI 2020, as this project defines it): gates on a teacher's inner
// channels and residual blocks learn which parts the teacher's function needs, under an L1 penalty;
// a parameter or FLOP budget then picks the pruning threshold, and the surviving subnetwork is
// extracted as a plain network of the zoo with the teacher's weights.
import type { SearchConfig } from '../config/schemas.js';
import { DistilleryError } from '../errors.js';
import { sameNetwork } from '../io/checkpoint.js';
import type { ModelSpec } from '../models/model.js';
import { Model, describeSpec } from '../models/model.js';
import type { MethodContext, MethodSession } from '../train/method.js';
import { loadTeachers, studentTarget } from './kd.js';

/** The search phase: the run's student is the teacher's gated copy (`gated: true`), initialised from it. */
export async function search(paths: string[], options: SearchConfig, context: MethodContext): Promise<MethodSession> {
  const teachers = await loadTeachers(paths, studentTarget(context));
  const teacher = teachers[0]!;
  if (!sameNetwork(teacher.spec, context.studentSpec)) {
    teachers.forEach((t) => t.dispose());
    throw new DistilleryError(`student search gates the teacher's own network: the teacher is ${describeSpec(teacher.spec)}, the run's model ${describeSpec(context.studentSpec)}`, 'E_ARGUMENT');
  }
  return {
    teachers,
    step: (batch, lr) => context.trainer.step(batch, { method: 'search', lr, teacher: teacher.handle, temperature: options.temperature, l1: options.l1 }),
    dispose: () => teachers.forEach((t) => t.dispose()),
  };
}

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
  using probe = Model.create(spec);
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
  const student = Model.create(choice.spec, gated.info.device);
  try {
    await gated.handle.extractSubnet(choice.threshold, student.handle);
  } catch (error) {
    student.dispose();
    throw error;
  }
  return student;
}
