// The Hinton KD loss on host tensors: the same native code the KD step runs, callable for checks.
import type { HostTensor } from '../native.js';
import { native } from '../native.js';
import type { KdLossOptions } from '../native.js';

/** { total, ce, kd } for student logits, teacher logits and labels ([N, C], [N, C] each, [N]). */
export function kdLoss(
  student: HostTensor,
  teachers: HostTensor[],
  labels: HostTensor,
  options: KdLossOptions,
): Promise<{ total: number; ce: number; kd: number }> {
  return native().kdLoss(student, teachers, labels, options);
}
