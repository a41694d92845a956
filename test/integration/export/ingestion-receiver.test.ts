// The local ingestion receiver on its own: routing, media types, limits, line checks, seeded faults, runtime changes.
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ingestionHeaders, type IngestionBatch } from '#shared/export/ingestion';
import { startIngestionReceiver, type IngestionReceiver } from '#shared/simulator/ingestion-receiver';
import { arrayBufferView } from '#shared/bytes';

const TOKEN = 'receiver-token';
const sensor = { name: 's', version: '1', ranBy: 'r', labels: [] };

function request(batch: IngestionBatch, overrides: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { ...ingestionHeaders(batch, sensor, TOKEN), ...overrides },
    body: arrayBufferView(batch.body),
  };
}
const findings = (batchId: string, lines: string): IngestionBatch => ({
  batchId,
  scanId: 'scan',
  kind: 'findings',
  count: lines.split('\n').filter(Boolean).length,
  body: gzipSync(lines),
});
async function post(
  url: string,
  init: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

let receiver: IngestionReceiver;
beforeAll(async () => {
  receiver = await startIngestionReceiver({ token: TOKEN, maxDecompressedBytes: 10_000 });
});
afterAll(() => receiver.stop());
beforeEach(() => {
  receiver.setFaults(null);
  receiver.clear();
});

describe('startIngestionReceiver', () => {
  it('answers 202 with the accepted count, then 409 for the same batch id', async () => {
    const batch = findings('r.1', '{"id":"a"}\n{"id":"b"}');
    expect(await post(receiver.url, request(batch))).toEqual({
      status: 202,
      body: { batchId: 'r.1', accepted: 2, duplicate: false },
    });
    expect(await post(receiver.url, request(batch))).toMatchObject({
      status: 409,
      body: { duplicate: true },
    });
    expect(receiver.stats).toMatchObject({ requests: 2, accepted: 1, duplicates: 1, findingLines: 2 });
  });

  it('routes, methods and media types', async () => {
    const batch = findings('r.2', '{"id":"a"}\n');
    expect((await post(receiver.url.replace('/v1/batches', '/x'), request(batch))).status).toBe(404);
    expect((await fetch(receiver.url)).status).toBe(405);
    expect((await post(receiver.url, request(batch, { 'Content-Encoding': 'identity' }))).status).toBe(415);
    expect((await post(receiver.url, request(batch, { Authorization: '' }))).status).toBe(401);
    expect(receiver.stats.rejected).toBe(4);
    expect(receiver.batches.size).toBe(0);
  });

  it('refuses a gzip bomb with 413 and bad resolution lines with 400', async () => {
    const bomb = findings('r.3', `{"id":"a","pad":"${'0'.repeat(50_000)}"}\n`);
    expect(await post(receiver.url, request(bomb))).toMatchObject({
      status: 413,
      body: { message: expect.stringMatching(/decompressed/) as unknown },
    });
    const resolution: IngestionBatch = {
      batchId: 'r.4',
      scanId: 'scan',
      kind: 'resolutions',
      count: 1,
      body: gzipSync('{"findingId":"a"}\n'),
    };
    expect(await post(receiver.url, request(resolution))).toMatchObject({
      status: 400,
      body: { message: 'line 1: a resolution needs findingId and resolvedAt strings' },
    });
    const array = findings('r.5', '[1]\n');
    expect((await post(receiver.url, request(array))).body.message).toBe('line 1 is not a JSON object');
  });

  it('a finding sent again after its resolution is open again', async () => {
    await post(receiver.url, request(findings('r.6', '{"id":"a"}\n')));
    const resolution: IngestionBatch = {
      batchId: 'r.7',
      scanId: 'scan',
      kind: 'resolutions',
      count: 1,
      body: gzipSync('{"findingId":"a","resolvedAt":"2026-01-01T00:00:00Z"}\n'),
    };
    await post(receiver.url, request(resolution));
    expect(receiver.resolutions.get('a')).toMatchObject({
      scanId: 'scan',
      certificateId: null,
      batchId: 'r.7',
    });
    await post(receiver.url, request(findings('r.8', '{"id":"a","v":2}\n')));
    expect(receiver.resolutions.has('a')).toBe(false);
    expect(receiver.findings.get('a')).toEqual({ id: 'a', v: 2 });
  });

  it('faults are seeded (same seed, same sequence), changeable at runtime and validated', async () => {
    const run = async (): Promise<number[]> => {
      receiver.setFaults({ failRate: 0.5, kinds: ['500', '503', '429'], retryAfter: 0, seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 16; i++)
        statuses.push((await fetch(receiver.url, request(findings(`seq.${i}`, '{"id":"q"}\n')))).status);
      receiver.clear();
      return statuses;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first.filter((s) => s !== 202).length).toBeGreaterThan(2);
    expect(first.filter((s) => s === 202).length).toBeGreaterThan(2);
    receiver.setFaults(null);
    expect((await fetch(receiver.url, request(findings('after', '{"id":"q"}\n')))).status).toBe(202);
    expect(() => receiver.setFaults({ failRate: 2 })).toThrow(RangeError);
    expect(() => receiver.setFaults({ kinds: [] })).toThrow(RangeError);
  });

  it('a reset fault destroys the socket without recording; stop() closes the server', async () => {
    receiver.setFaults({ failFirst: 1, kinds: ['reset'] });
    await expect(fetch(receiver.url, request(findings('r.9', '{"id":"a"}\n')))).rejects.toThrow();
    expect(receiver.batches.size).toBe(0);
    const other = await startIngestionReceiver({ token: TOKEN });
    await other.stop();
    await expect(fetch(other.url, request(findings('r.10', '{"id":"a"}\n')))).rejects.toThrow();
    await expect(startIngestionReceiver({ token: '' })).rejects.toThrow(/token is required/);
  });

  it('a chunked body over maxBodyBytes (no Content-Length) gets a 413 answer, not a reset', async () => {
    const small = await startIngestionReceiver({ token: TOKEN, maxBodyBytes: 1_000 });
    try {
      const batch = findings('r.chunked', '{"id":"a"}\n');
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          small.url,
          { method: 'POST', headers: ingestionHeaders(batch, sensor, TOKEN) },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        for (let i = 0; i < 10; i++) req.write(Buffer.alloc(500, i));
        req.end();
      });
      expect(status).toBe(413);
      expect(small.batches.size).toBe(0);
    } finally {
      await small.stop();
    }
  });
});
