// The ONE loss on host tensors: the same native code the ONE step runs, with its gradients, for checks.
import type { HostTensor, OneLossOptions } from '../native.js';
import { native } from '../native.js';

/** The ONE loss and its gradients with respect to each branch's logits and the ensemble's. */
export interface OneLossResult {
  total: number;
  /** sum_i CE(z_i, y) + CE(z_e, y). */
  ce: number;
  /** sum_i T^2 KL(softmax(z_e / T) || softmax(z_i / T)), before the klWeight. */
  kl: number;
  gradBranches: HostTensor[];
  gradEnsemble: HostTensor;
}

/** ONE's loss for branch logits z_i ([N, C] each), ensemble logits z_e ([N, C]) and labels ([N]). */
export function oneLoss(branches: HostTensor[], ensemble: HostTensor, labels: HostTensor, options: OneLossOptions): Promise<OneLossResult> {
  return native().oneLoss(branches, ensemble, labels, options);
}
