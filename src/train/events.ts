// A minimal typed event emitter for training progress.

/** The events a training run emits, with their payloads. */
export interface TrainingEvents {
  step: { epoch: number; step: number; batch: number; batches: number; lr: number; loss: number; images: number; seconds: number };
  epoch: { epoch: number; epochs: number; trainLoss: number; trainAccuracy: number; seconds: number };
  eval: { epoch: number; top1: number; top5: number; loss: number };
  checkpoint: { epoch: number; path: string };
  log: { message: string };
}

type Listener<T> = (payload: T) => void;

/** Subscribe with on(), emit with emit(); listeners run synchronously in registration order. */
export class TypedEmitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Listener<never>[]>();

  /** Adds a listener for `event`. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as Listener<never>);
    this.listeners.set(event, list);
    return this;
  }

  /** Adds a listener for the next `event` only. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const wrapper: Listener<Events[K]> = (payload) => {
      this.off(event, wrapper);
      listener(payload);
    };
    return this.on(event, wrapper);
  }

  /** Removes a listener added with on() (the first registration of it). */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.listeners.get(event) ?? [];
    const at = list.indexOf(listener as Listener<never>);
    if (at >= 0) list.splice(at, 1);
    return this;
  }

  /** Calls every listener of `event` with `payload`. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    // A copy: a once() listener removes itself while the list is being walked.
    for (const listener of [...(this.listeners.get(event) ?? [])]) (listener as Listener<Events[K]>)(payload);
  }
}
