/** Requests run ahead, results consumed in order: how every method keeps igx's workers busy and its sums deterministic. */

type Settled<T> = { value: T } | { error: unknown };

export interface OrderedBatches<T> {
  count: number;
  /** Requests started beyond the one being consumed (0: one at a time). */
  ahead: number;
  request(index: number): Promise<T>;
  /** Takes the results in index order; it owns (and frees) each value it is given. */
  consume(value: T, index: number): void | Promise<void>;
  /** Frees a result that arrived after a failure and will not be consumed. */
  dispose(value: T): void;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs request(0 … count − 1) with up to `ahead` of them in flight past the one consumed, and consumes
 * the results in index order, so what is added up does not depend on which request finished first.
 */
export async function consumeInOrder<T>(batches: OrderedBatches<T>): Promise<void> {
  // Settled at once, so a request that fails while an earlier one is awaited is no unhandled rejection.
  const pending: Promise<Settled<T>>[] = [];
  const requestUpTo = (last: number): void => {
    while (pending.length < batches.count && pending.length <= last) {
      const index = pending.length;
      pending.push(
        Promise.resolve()
          .then(() => batches.request(index))
          .then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          ),
      );
    }
  };
  let consumed = 0;
  try {
    for (; consumed < batches.count; consumed += 1) {
      requestUpTo(consumed + batches.ahead);
      const settled = await (pending[consumed] as Promise<Settled<T>>);
      if ('error' in settled) throw settled.error;
      await batches.consume(settled.value, consumed);
      // Let timers (progress bars, signals) run between batches.
      await yieldToEventLoop();
    }
  } catch (err) {
    // Requests already started may still resolve: free what they return, without waiting for them.
    for (const later of pending.slice(consumed + 1)) {
      void later.then((settled) => {
        if ('value' in settled) batches.dispose(settled.value);
      });
    }
    throw err;
  }
}
