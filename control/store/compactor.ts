import type { Store } from './types.js';

export interface Compactor {
  stop(): void;
}

/** kube-apiserver's default (`DefaultCompactInterval`): history lives 5 to 10 minutes. */
export const DEFAULT_COMPACT_INTERVAL_MS = 5 * 60 * 1000;

/**
 * Compacts `store` the way kube-apiserver compacts etcd: on every tick, to the revision seen on
 * the previous tick, so history always covers at least one interval. `onError` hears failures
 * (the next tick tries again).
 */
export function startCompactor(
  store: Store,
  options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
): Compactor {
  const intervalMs = options.intervalMs ?? DEFAULT_COMPACT_INTERVAL_MS;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new Error(`compactor: intervalMs must be a positive number, got ${String(intervalMs)}`);
  }
  let previous: number | undefined;
  let running = false;
  const tick = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const current = await store.currentRevision();
      if (previous !== undefined) await store.compact(previous);
      previous = current;
    } catch (error) {
      options.onError?.(error);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
