/**
 * Time as a dependency: every wait and timer in the SDK goes through a Clock so tests can run the
 * retry, timeout and reconnect logic instantly and deterministically.
 */

/** Cancels a scheduled callback; calling it after the callback ran is harmless. */
export type Cancel = () => void;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolve after `ms`; reject with the signal's reason as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Run `callback` after `ms` (timeouts, idle detection). */
  schedule(ms: number, callback: () => void): Cancel;
}

/**
 * Wall-clock time and Node timers. Scheduled callbacks (timeouts) are unref'd: the request they guard
 * already keeps the process alive. Sleeps are not, since a retry in progress is work the caller awaits.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
  schedule(ms, callback) {
    const timer = setTimeout(callback, ms);
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};
