// Export batch builder: bounds, deterministic ids and bodies, gzip JSON lines.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildExportBatches, readBatchRecords } from '#shared/scan/export-batches';

const NOW = new Date('2026-01-01T00:00:00Z');
const records = (n: number, size = 10) =>
  Array.from({ length: n }, (_, i) => ({ id: `f${i}`, pad: 'x'.repeat(size) }));

describe('buildExportBatches', () => {
  it('splits by record count, numbers from 1, and round-trips every record in order', () => {
    const input = records(1201);
    const batches = buildExportBatches(
      'S',
      'r1-9',
      'findings',
      input,
      { maxRecords: 500, maxBytes: 1e9 },
      NOW,
    );
    expect(batches.map((b) => [b.batchId, b.count])).toEqual([
      ['S.r1-9.1', 500],
      ['S.r1-9.2', 500],
      ['S.r1-9.3', 201],
    ]);
    expect(batches.flatMap((b) => readBatchRecords(b.body))).toEqual(input);
    expect(batches[0]).toMatchObject({
      scanId: 'S',
      kind: 'findings',
      status: 'pending',
      attempts: 0,
      sentAt: null,
      lastError: null,
      createdAt: NOW.toISOString(),
    });
  });

  it('splits by uncompressed bytes; an oversized record travels alone', () => {
    const input = [...records(3, 100), { id: 'big', pad: 'y'.repeat(5000) }, ...records(2, 100)];
    const lineBytes = JSON.stringify(input[0]).length + 1;
    const batches = buildExportBatches(
      'S',
      'p',
      'findings',
      input,
      { maxRecords: 100, maxBytes: lineBytes * 2 },
      NOW,
    );
    expect(batches.map((b) => b.count)).toEqual([2, 1, 1, 2]);
    expect(readBatchRecords(batches[2]!.body)).toEqual([input[3]]);
  });

  it('halves a batch whose gzip body is over the body limit', () => {
    const input = Array.from({ length: 40 }, (_, i) => ({
      id: i,
      noise: randomBytes(2000).toString('base64'),
    }));
    const batches = buildExportBatches(
      'S',
      'p',
      'findings',
      input,
      { maxRecords: 1000, maxBytes: 1e9, maxBodyBytes: 30_000 },
      NOW,
    );
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(b.body.byteLength).toBeLessThanOrEqual(30_000);
    expect(batches.flatMap((b) => readBatchRecords(b.body))).toEqual(input);
  });

  it('is deterministic and continues numbering from firstIndex', () => {
    const input = records(10);
    const a = buildExportBatches(
      'S',
      'resolve',
      'resolutions',
      input,
      { maxRecords: 4, maxBytes: 1e9, firstIndex: 3 },
      NOW,
    );
    const b = buildExportBatches(
      'S',
      'resolve',
      'resolutions',
      input,
      { maxRecords: 4, maxBytes: 1e9, firstIndex: 3 },
      NOW,
    );
    expect(a.map((x) => x.batchId)).toEqual(['S.resolve.3', 'S.resolve.4', 'S.resolve.5']);
    expect(a.map((x) => Buffer.from(x.body).toString('hex'))).toEqual(
      b.map((x) => Buffer.from(x.body).toString('hex')),
    );
  });

  it('no records, no batches; bad limits are refused', () => {
    expect(buildExportBatches('S', 'p', 'findings', [], { maxRecords: 1, maxBytes: 1 }, NOW)).toEqual([]);
    expect(() => buildExportBatches('S', 'p', 'findings', [], { maxRecords: 0, maxBytes: 1 }, NOW)).toThrow(
      RangeError,
    );
    expect(() => buildExportBatches('S', 'p', 'findings', [], { maxRecords: 1, maxBytes: 0 }, NOW)).toThrow(
      RangeError,
    );
  });
});
