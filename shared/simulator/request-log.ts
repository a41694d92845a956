// What the simulator was asked and what it answered: how tests prove which pages and queries a client sent.
import type { FiredFault } from './faults';
import type { ListParams } from './paging';

export interface RequestLogEntry {
  /** 1, 2, 3... in arrival order; keeps counting across clear(). */
  seq: number;
  method: string;
  /** Relative to the API base as the client spelled it, e.g. '/Certificates' or '/certificates/12'. */
  path: string;
  /** The route pattern that served it, e.g. '/Certificates/{id}'; null when no route matched. */
  route: string | null;
  /** Normalised paging/query parameters; null when they could not be parsed (the response was a 400). */
  params: ListParams | null;
  /** The query string exactly as received, without the '?'. */
  rawQuery: string;
  /** HTTP status sent; 0 when a fault reset the socket without a response. */
  status: number;
  /** Authenticated principal, or null when authentication failed or was never reached. */
  principal: string | null;
  /** One-line account of the fault rules that fired, e.g. 'rule 2 status'. */
  fault?: string;
  faults: FiredFault[];
  /** x-total-count of a list response. */
  totalCount?: number;
  /** Arrival time (the simulator's clock), ISO 8601. */
  at: string;
  /** Stack of an unexpected error behind a 500; callers only see an opaque message. */
  error?: string;
  /** Time spent serving, in milliseconds, including injected latency. */
  durationMs: number;
}

/** Keeps the newest `maxEntries` so a long-running demo simulator does not grow without bound. */
export class RequestLog {
  private readonly items: RequestLogEntry[] = [];
  private nextSeq = 1;

  constructor(private readonly maxEntries = 10_000) {}

  /** Reserves the sequence number at arrival, so concurrent requests are numbered in the order they came in. */
  nextSequence(): number {
    return this.nextSeq++;
  }

  record(entry: RequestLogEntry): void {
    this.items.push(entry);
    if (this.items.length > this.maxEntries) this.items.splice(0, this.items.length - this.maxEntries);
  }

  /** Entries in arrival (seq) order. */
  entries(): RequestLogEntry[] {
    return [...this.items].sort((a, b) => a.seq - b.seq);
  }

  /** GET /Certificates list requests (not /Certificates/{id}), in arrival order. */
  certificatePages(): RequestLogEntry[] {
    return this.entries().filter(
      (e) => e.method === 'GET' && e.path.toLowerCase().replace(/\/+$/, '') === '/certificates',
    );
  }

  clear(): void {
    this.items.length = 0;
  }

  get size(): number {
    return this.items.length;
  }
}
