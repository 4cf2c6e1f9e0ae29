// Ownership by scope: what a function makes is added to a scope as it is made, and the scope frees
// it all (last made, first freed) on every path out, errors included. Node 20 has `using` through
// TypeScript but no DisposableStack; this is the part of it distillery needs.

/** A stack of things to free when the scope ends (`using scope = new DisposalScope()`). */
export class DisposalScope implements Disposable {
  private readonly releases: (() => void)[] = [];

  /** Adds `value` (anything with dispose() or [Symbol.dispose]) and returns it. */
  use<T extends { dispose(): void }>(value: T): T {
    this.releases.push(() => value.dispose());
    return value;
  }

  /** Runs `release` when the scope ends. */
  defer(release: () => void): void {
    this.releases.push(release);
  }

  /** Frees everything added, last first; every release runs even if one throws (the first error is rethrown). */
  dispose(): void {
    let failure: unknown;
    let failed = false;
    while (this.releases.length > 0) {
      try {
        this.releases.pop()!();
      } catch (error) {
        if (!failed) failure = error;
        failed = true;
      }
    }
    if (failed) throw failure;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Awaits every promise; when one rejects, disposes the values the others produced and rethrows. */
export async function allOrNone<T extends { dispose(): void }>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure === undefined) return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  for (const s of settled) if (s.status === 'fulfilled') s.value.dispose();
  throw failure.reason;
}
