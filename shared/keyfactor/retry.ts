// Retry policy for Command calls: exponential backoff with full jitter, Retry-After honoured, and a per-host concurrency cap.

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is treated as a failure rather than a wait (the scan would stall). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 120_000,
};

/** Delay before attempt `attempt + 1` (attempt counts from 1): full jitter over an exponentially growing window. */
export function backoffDelayMs(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(window / 2 + (random() * window) / 2);
}

/** Parses Retry-After (delta-seconds or an HTTP date) into milliseconds; undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Date.parse reads '-5' as a year; an HTTP date always names its weekday or month.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** A counting semaphore: at most `limit` holders at once, FIFO for waiters. */
export class Semaphore {
  #active = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`concurrency limit must be >= 1, got ${limit}`);
  }

  get active(): number {
    return this.#active;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    else this.#active += 1;
    try {
      return await task();
    } finally {
      const next = this.#waiters.shift();
      // Hand the slot straight to the next waiter so a newcomer cannot overtake it.
      if (next) next();
      else this.#active -= 1;
    }
  }
}

const hostSemaphores = new Map<string, Semaphore>();

/** One semaphore per Command host and process, so several clients (or scans) together still respect the cap. */
export function semaphoreForHost(host: string, limit: number): Semaphore {
  const key = `${host.toLowerCase()}#${limit}`;
  let semaphore = hostSemaphores.get(key);
  if (!semaphore) {
    semaphore = new Semaphore(limit);
    hostSemaphores.set(key, semaphore);
  }
  return semaphore;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
