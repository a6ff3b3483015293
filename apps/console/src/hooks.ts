import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  /** Fetch again now (after an action), without waiting for the next tick. */
  readonly refresh: () => void;
}

/**
 * Loads `load()` now and again every `intervalMs(data)` milliseconds while the page shows (the
 * dashboard's live updates: rounds poll every second while one is open). A new `key` restarts.
 */
export function usePolling<T>(
  key: string,
  load: () => Promise<T>,
  intervalMs: (data: T | undefined) => number,
): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const latest = useRef({ load, intervalMs });
  latest.current = { load, intervalMs };
  useEffect(() => {
    setData(undefined);
    setError(undefined);
  }, [key]);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      let value: T | undefined;
      try {
        value = await latest.current.load();
        if (stopped) return;
        setData(value);
        setError(undefined);
      } catch (err) {
        if (stopped) return;
        setError((err as Error).message);
      }
      timer = setTimeout(() => void run(), latest.current.intervalMs(value));
    };
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [key, tick]);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, refresh };
}
