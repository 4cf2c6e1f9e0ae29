/** Stable error codes; docs/errors.md explains each and how to fix it. */
export type ErrorCode =
  | 'E_ARGUMENT'
  | 'E_SHAPE'
  | 'E_FILE_NOT_FOUND'
  | 'E_CORRUPT_FILE'
  | 'E_IO'
  | 'E_LOCKED'
  | 'E_OVERWRITE'
  | 'E_WEIGHTS'
  | 'E_NAN_LOSS'
  | 'E_DEVICE'
  | 'E_DISPOSED'
  | 'E_DISTRIBUTED'
  | 'E_LIMIT'
  | 'E_BUILD'
  | 'E_TORCH'
  | 'E_OUT_OF_MEMORY'
  | 'E_INTERNAL'
  | 'E_CONFIG'
  | 'E_CHECKPOINT'
  | 'E_INTERRUPTED'
  | 'E_ADDON_MISSING'
  | 'E_LIBTORCH_MISSING'
  | 'E_LIBTORCH_MISMATCH';

/** Every error distillery raises, native or not: `code` is stable, the message names the bad input. */
export class DistilleryError extends Error {
  readonly code: ErrorCode;

  constructor(message: string, code: ErrorCode) {
    super(message);
    this.name = 'DistilleryError';
    this.code = code;
  }
}

/** True when `error` is a DistilleryError with the given code (or any code when omitted). */
export function isDistilleryError(error: unknown, code?: ErrorCode): error is DistilleryError {
  return error instanceof DistilleryError && (code === undefined || error.code === code);
}
