// Streaming text output shared by the line-oriented exporters: batched writes that respect backpressure.
import type { Writable } from 'node:stream';

/** Findings from an array, a generator or an async source (a Command page iterator, a file reader). */
export type FindingSource<T> = Iterable<T> | AsyncIterable<T>;

/** Big enough that a million rows cost thousands of write() calls rather than a million; small enough to stay flat. */
const BATCH_CHARACTERS = 64 * 1024;

function isAsyncIterable<T>(source: FindingSource<T>): source is AsyncIterable<T> {
  return typeof (source as Partial<AsyncIterable<T>>)[Symbol.asyncIterator] === 'function';
}

/** Iterates either kind of source with one loop body. */
export async function* eachItem<T>(source: FindingSource<T>): AsyncGenerator<T> {
  if (isAsyncIterable(source)) {
    for await (const item of source) yield item;
  } else {
    for (const item of source) yield item;
  }
}

/** Resolves once `out` can take more, rejects if it fails or closes first (a closed pipe must not hang the caller). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('output stream closed before all data was written'));
    };
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}

/**
 * Collects text and hands it to `out` in batches, waiting for 'drain' whenever `out` says its buffer is full, so memory
 * stays bounded however many rows pass through. Does not end `out`: the caller owns it (it may be stdout).
 */
export class BatchedWriter {
  private pending = '';

  constructor(private readonly out: Writable) {}

  async write(text: string): Promise<void> {
    this.pending += text;
    if (this.pending.length >= BATCH_CHARACTERS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending === '') return;
    if (this.out.destroyed || this.out.writableEnded) {
      throw new Error('output stream is already closed');
    }
    const chunk = this.pending;
    this.pending = '';
    if (!this.out.write(chunk, 'utf8')) await drained(this.out);
  }
}
