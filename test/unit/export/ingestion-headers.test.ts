// The header side of the ingestion contract: what the client sets and the receiver reads back, and bad headers.
import { describe, expect, it } from 'vitest';
import {
  INGESTION_HEADER,
  decodeIngestionHeaders,
  ingestionHeaders,
  type IngestionBatch,
  type IngestionSensor,
} from '#shared/export/ingestion';

const batch: IngestionBatch = {
  batchId: '0c1d.r1-1000.2',
  scanId: '0c1d',
  kind: 'resolutions',
  count: 12,
  body: new Uint8Array([1]),
};
const sensor: IngestionSensor = {
  name: 'Ünïcode sensor, "quoted"\nnew line',
  version: '1.2.3',
  ranBy: 'ops team 🚀',
  labels: [
    { name: 'a=b', value: 'c;d,e' },
    { name: 'env', value: '' },
  ],
};

function lookup(headers: Record<string, string>): (name: string) => string | undefined {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return (name) => lower.get(name.toLowerCase());
}

describe('ingestion headers', () => {
  const headers = ingestionHeaders(batch, sensor, 'tok');

  it('are all valid ASCII header values and carry the contract fields', () => {
    for (const value of Object.values(headers)) expect(value).toMatch(/^[\x20-\x7e]+$/);
    expect(headers).toMatchObject({
      'Content-Type': 'application/x-ndjson',
      'Content-Encoding': 'gzip',
      Authorization: 'Bearer tok',
      'Idempotency-Key': batch.batchId,
      'X-Batch-Id': batch.batchId,
      'X-Batch-Kind': 'resolutions',
      'X-Record-Count': '12',
      'X-Scan-Id': '0c1d',
      'X-Sensor-Type': 'Keyfactor Command',
      'X-Sensor-Version': '1.2.3',
    });
  });

  it('decode back to the same sensor, labels and batch facts', () => {
    const decoded = decodeIngestionHeaders(lookup(headers));
    expect(decoded).toEqual({
      ok: true,
      value: {
        batchId: batch.batchId,
        kind: 'resolutions',
        count: 12,
        scanId: '0c1d',
        sensor: { name: sensor.name, type: 'Keyfactor Command', version: '1.2.3', ranBy: sensor.ranBy },
        labels: sensor.labels,
      },
    });
  });

  it('empty labels travel as an empty JSON array', () => {
    const h = ingestionHeaders(batch, { ...sensor, labels: [] }, 't');
    expect(h[INGESTION_HEADER.labels]).toBe('%5B%5D');
  });

  it.each([
    ['a missing batch id', { 'X-Batch-Id': '' }, /X-Batch-Id is missing/],
    ['a batch id with a slash', { 'X-Batch-Id': 'a/b', 'Idempotency-Key': 'a/b' }, /not a valid batch id/],
    ['an idempotency key that differs', { 'Idempotency-Key': 'other' }, /Idempotency-Key differs/],
    ['an unknown kind', { 'X-Batch-Kind': 'certs' }, /X-Batch-Kind must be one of findings, resolutions/],
    ['a negative count', { 'X-Record-Count': '-1' }, /X-Record-Count is not a count/],
    ['labels that are not JSON', { 'X-Labels': '%7Bnope' }, /X-Labels is not a JSON array/],
    [
      'labels of the wrong shape',
      { 'X-Labels': encodeURIComponent('[{"name":1}]') },
      /X-Labels is not a JSON array/,
    ],
    ['a broken percent-encoding', { 'X-Sensor-Name': '%E0%A4%A' }, /X-Sensor-Name is not percent-encoded/],
    ['no sensor version', { 'X-Sensor-Version': '' }, /X-Sensor-Version is missing/],
  ])('refuse %s', (_name, override, message) => {
    const decoded = decodeIngestionHeaders(lookup({ ...headers, ...override }));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.issues.join('; ')).toMatch(message);
  });
});
