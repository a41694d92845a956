// Export batches: records as gzip JSON lines, bounded in count and bytes, with ids the receiver de-duplicates on.
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ExportBatch } from './model.ts';

/**
 * Largest gzip body of one batch. A DynamoDB outbox item holds at most 400 KB with its other attributes; the
 * outbox adapters refuse bodies over 350 KiB, so batches are split below that whatever the byte limit says.
 */
export const MAX_BATCH_BODY_BYTES = 350 * 1024;

export interface BatchLimits {
  /** Records per batch. */
  maxRecords: number;
  /** Uncompressed bytes of the JSON lines per batch. */
  maxBytes: number;
  /** gzip body bytes per batch (default MAX_BATCH_BODY_BYTES). */
  maxBodyBytes?: number;
  /** Number of the first batch (default 1): a retried task continues after the batches it already wrote. */
  firstIndex?: number;
}

export function batchIdFor(scanId: string, prefix: string, n: number): string {
  return `${scanId}.${prefix}.${n}`;
}

/**
 * Splits `records` in order into batches `<scanId>.<prefix>.<n>` (n from firstIndex) of at most maxRecords
 * records and maxBytes uncompressed bytes; a batch whose gzip body is still too large is halved. A single record
 * over the limits goes alone in its batch (records are never cut). The same records give byte-identical batches.
 */
export function buildExportBatches(
  scanId: string,
  prefix: string,
  kind: ExportBatch['kind'],
  records: readonly unknown[],
  limits: BatchLimits,
  now: Date,
): ExportBatch[] {
  if (!Number.isInteger(limits.maxRecords) || limits.maxRecords < 1) {
    throw new RangeError(`maxRecords must be an integer >= 1, got ${limits.maxRecords}`);
  }
  if (!(limits.maxBytes >= 1)) throw new RangeError(`maxBytes must be >= 1, got ${limits.maxBytes}`);
  const maxBody = limits.maxBodyBytes ?? MAX_BATCH_BODY_BYTES;
  const lines = records.map((record) => Buffer.from(`${JSON.stringify(record)}\n`, 'utf8'));
  const groups: Buffer[][] = [];
  let current: Buffer[] = [];
  let bytes = 0;
  for (const line of lines) {
    if (
      current.length > 0 &&
      (current.length >= limits.maxRecords || bytes + line.length > limits.maxBytes)
    ) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += line.length;
  }
  if (current.length > 0) groups.push(current);

  const bodies: Array<{ count: number; body: Buffer }> = [];
  const compress = (group: Buffer[]): void => {
    const body = gzipSync(Buffer.concat(group));
    if (body.length > maxBody && group.length > 1) {
      const half = Math.ceil(group.length / 2);
      compress(group.slice(0, half));
      compress(group.slice(half));
      return;
    }
    bodies.push({ count: group.length, body });
  };
  groups.forEach(compress);

  const first = limits.firstIndex ?? 1;
  const createdAt = now.toISOString();
  return bodies.map(({ count, body }, index) => ({
    batchId: batchIdFor(scanId, prefix, first + index),
    scanId,
    kind,
    count,
    body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    status: 'pending',
    attempts: 0,
    createdAt,
    sentAt: null,
    lastError: null,
  }));
}

/** The records of a batch body (for retries that must know what an earlier attempt already batched, and tests). */
export function readBatchRecords(body: Uint8Array): unknown[] {
  const text = gunzipSync(body).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}
