// A method's loss terms, built natively by name and stepped by a Trainer: the TypeScript side of the
// C++ Objective. Which objectives exist is decided in native/objectives/objectives.def alone.
import type { Model } from '../models/model.js';
import type { NativeObjective, Settings } from '../native.js';
import { native } from '../native.js';
import type { Trainer } from './trainer.js';

/** A native objective (e.g. 'kd' with its teachers and weights), ready for Trainer.step. */
export class Objective {
  /** The native objective, for Trainer.step. */
  readonly handle: NativeObjective;
  /** The name it was built by. */
  readonly name: string;

  private constructor(name: string, handle: NativeObjective) {
    this.name = name;
    this.handle = handle;
  }

  /**
   * Builds the objective registered natively as `name` for `trainer`, reading `models` (teachers,
   * in order) and `settings` (its loss options). Runs on the compute thread: building may run the
   * models (MEAL probes their block shapes).
   */
  static async create(name: string, trainer: Trainer, models: readonly Model[], settings: Settings = {}): Promise<Objective> {
    return new Objective(
      name,
      await native().createObjective(
        name,
        trainer.handle,
        models.map((m) => m.handle),
        settings,
      ),
    );
  }

  /** The names native code can build. */
  static names(): string[] {
    return native().objectiveNames();
  }

  /** What the objective found when it was built (MEAL: `teachers`, `blockLengths`). */
  info(): Settings {
    return this.handle.info();
  }

  /** Frees the native objective (state it attached to its trainer stays with the trainer). */
  dispose(): void {
    this.handle.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
