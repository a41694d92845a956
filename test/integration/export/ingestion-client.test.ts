// The ingestion client against the real local receiver over HTTP: headers, gzip round trip, retries, permanent errors, de-dup.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  IngestionClient,
  IngestionError,
  type IngestionBatch,
  type IngestionSensor,
} from '#shared/export/ingestion';
import { startIngestionReceiver, type IngestionReceiver } from '#shared/simulator/ingestion-receiver';

const TOKEN = 'sensor-token-3f9a7c1e';
const SENSOR: IngestionSensor = {
  name: 'prod command ü',
  version: '0.1.0',
  ranBy: 'alice@example',
  labels: [
    { name: 'env', value: 'prod' },
    { name: 'owner', value: 'Zoë; team=a,b' },
  ],
};
const FAST = { baseDelayMs: 10, maxDelayMs: 50, maxAttempts: 4, maxRetryAfterMs: 5_000 };

function findingsBatch(batchId: string, ids: string[]): IngestionBatch {
  const lines = ids
    .map((id) => `${JSON.stringify({ id, object: { type: 'certificate', name: id } })}\n`)
    .join('');
  return { batchId, scanId: 'scan-1', kind: 'findings', count: ids.length, body: gzipSync(lines) };
}

let receiver: IngestionReceiver;
let client: IngestionClient;

beforeAll(async () => {
  receiver = await startIngestionReceiver({ token: TOKEN });
  client = new IngestionClient({ url: receiver.url, token: TOKEN, retry: FAST, timeoutMs: 5_000 });
});
afterAll(async () => {
  await client.close();
  await receiver.stop();
});
beforeEach(() => {
  receiver.setFaults(null);
  receiver.clear();
});

describe('IngestionClient → receiver', () => {
  it('delivers the gzip body and every header; the receiver decodes sensor, labels and records', async () => {
    const result = await client.send(findingsBatch('scan-1.r1-10.0', ['a', 'b', 'c']), SENSOR);
    expect(result).toEqual({ status: 202, duplicate: false, attempts: 1 });
    const batch = receiver.batches.get('scan-1.r1-10.0');
    expect(batch).toMatchObject({
      kind: 'findings',
      scanId: 'scan-1',
      count: 3,
      sensor: { name: SENSOR.name, type: 'Keyfactor Command', version: '0.1.0', ranBy: 'alice@example' },
      labels: SENSOR.labels,
      ids: ['a', 'b', 'c'],
    });
    expect([...receiver.findings.keys()]).toEqual(['a', 'b', 'c']);
    expect(receiver.findings.get('b')).toEqual({ id: 'b', object: { type: 'certificate', name: 'b' } });
  });

  it('resolution batches land in resolutions', async () => {
    const lines = `${JSON.stringify({ findingId: 'f1', certificateId: 7, sensorKey: 'k', resolvedAt: '2026-01-01T00:00:00.000Z', scanId: 's2' })}\n`;
    await client.send(
      { batchId: 's2.resolve.0', scanId: 's2', kind: 'resolutions', count: 1, body: gzipSync(lines) },
      SENSOR,
    );
    expect(receiver.resolutions.get('f1')).toMatchObject({
      certificateId: 7,
      scanId: 's2',
      batchId: 's2.resolve.0',
    });
  });

  it('a repeated batch id is answered 409 and counted as a duplicate, not recorded twice', async () => {
    const batch = findingsBatch('scan-1.r1-10.1', ['x']);
    await client.send(batch, SENSOR);
    const again = await client.send(batch, SENSOR);
    expect(again).toEqual({ status: 409, duplicate: true, attempts: 1 });
    expect(receiver.duplicates).toBe(1);
    expect(receiver.stats.findingLines).toBe(1);
  });

  it('a wrong token is a permanent 401 error whose message never contains either token', async () => {
    const wrong = new IngestionClient({ url: receiver.url, token: 'wrong-token-xyz', retry: FAST });
    const error = await wrong.send(findingsBatch('b.wrong', ['a']), SENSOR).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestionError);
    const e = error as IngestionError;
    expect(e.transient).toBe(false);
    expect(e.status).toBe(401);
    expect(e.details.attempts).toBe(1);
    expect(e.message).toMatch(/401.*bearer token/);
    expect(e.message).not.toContain('wrong-token-xyz');
    expect(e.message).not.toContain(TOKEN);
    expect(receiver.requests).toBe(1);
    expect(receiver.batches.size).toBe(0);
  });

  it('honours Retry-After on 429, then succeeds', async () => {
    receiver.setFaults({ failFirst: 1, kinds: ['429'], retryAfter: 1 });
    const started = Date.now();
    const result = await client.send(findingsBatch('b.429', ['a']), SENSOR);
    expect(result.attempts).toBe(2);
    // Backoff alone would be ~10 ms; the pause must come from Retry-After (loose bound for noisy machines).
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(receiver.batches.has('b.429')).toBe(true);
  });

  it('a Retry-After longer than the cap fails the call as transient with retryAfterMs for the queue', async () => {
    receiver.setFaults({ failFirst: 1, kinds: ['429'], retryAfter: 600 });
    const error = (await client
      .send(findingsBatch('b.429long', ['a']), SENSOR)
      .catch((e: unknown) => e)) as IngestionError;
    expect(error).toBeInstanceOf(IngestionError);
    expect(error.transient).toBe(true);
    expect(error.details.retryAfterMs).toBe(600_000);
    expect(receiver.requests).toBe(1);
  });

  it('500 then success; 503 then success', async () => {
    receiver.setFaults({ failFirst: 2, kinds: ['500', '503'] });
    const result = await client.send(findingsBatch('b.500', ['a']), SENSOR);
    expect(result.attempts).toBe(3);
    expect(receiver.stats.injectedFaults).toBe(2);
  });

  it('a socket reset then success', async () => {
    receiver.setFaults({ failFirst: 1, kinds: ['reset'] });
    const result = await client.send(findingsBatch('b.reset', ['a']), SENSOR);
    expect(result.attempts).toBe(2);
    expect(receiver.batches.has('b.reset')).toBe(true);
  });

  it('a lost response (recorded, then reset) is resent and reported as duplicate: nothing twice', async () => {
    receiver.setFaults({ failFirst: 1, kinds: ['lost-response'] });
    const result = await client.send(findingsBatch('b.lost', ['a', 'b']), SENSOR);
    expect(result).toEqual({ status: 409, duplicate: true, attempts: 2 });
    expect(receiver.stats.accepted).toBe(1);
    expect(receiver.stats.findingLines).toBe(2);
  });

  it('a slow answer past the timeout is retried', async () => {
    const impatient = new IngestionClient({ url: receiver.url, token: TOKEN, retry: FAST, timeoutMs: 200 });
    receiver.setFaults({ failFirst: 1, kinds: ['slow'], slowMs: 1_000 });
    const result = await impatient.send(findingsBatch('b.slow', ['a']), SENSOR);
    // The slow first request still gets recorded, so the retry may be told 409: either way it arrived once.
    expect(result.attempts).toBe(2);
    expect(receiver.stats.findingLines).toBe(1);
  });

  it('gives up after maxAttempts with a transient error naming the last failure', async () => {
    receiver.setFaults({ failRate: 1, kinds: ['500'] });
    const error = (await client
      .send(findingsBatch('b.down', ['a']), SENSOR)
      .catch((e: unknown) => e)) as IngestionError;
    expect(error.transient).toBe(true);
    expect(error.message).toMatch(/after 4 attempts: HTTP 500: injected server error/);
    expect(receiver.requests).toBe(4);
  });

  it('garbage is a permanent 400 with the receiver message', async () => {
    const notGzip: IngestionBatch = {
      batchId: 'b.bad1',
      scanId: 's',
      kind: 'findings',
      count: 1,
      body: Buffer.from('{}'),
    };
    await expect(client.send(notGzip, SENSOR)).rejects.toThrow(/HTTP 400: body is not gzip/);
    const notJson: IngestionBatch = {
      ...notGzip,
      batchId: 'b.bad2',
      body: gzipSync('{"id":"a"}\nnot json\n'),
      count: 2,
    };
    await expect(client.send(notJson, SENSOR)).rejects.toThrow(/HTTP 400: line 2 is not JSON/);
    const wrongCount = { ...findingsBatch('b.bad3', ['a', 'b']), count: 3 };
    await expect(client.send(wrongCount, SENSOR)).rejects.toThrow(/X-Record-Count says 3 but the body has 2/);
    const noId: IngestionBatch = { ...notGzip, batchId: 'b.bad4', body: gzipSync('{"name":"a"}\n') };
    await expect(client.send(noId, SENSOR)).rejects.toThrow(/needs a string id/);
    expect(receiver.requests).toBe(4);
    expect(receiver.stats.rejected).toBe(4);
    expect(receiver.batches.size).toBe(0);
  });

  it('a body over the receiver limit is 413 (permanent)', async () => {
    const small = await startIngestionReceiver({ token: TOKEN, maxBodyBytes: 1024 });
    try {
      const big = new IngestionClient({ url: small.url, token: TOKEN, retry: FAST });
      const ids = Array.from({ length: 400 }, (_, i) => `${i}-${Math.random()}`);
      const error = (await big
        .send(findingsBatch('b.big', ids), SENSOR)
        .catch((e: unknown) => e)) as IngestionError;
      expect(error.status).toBe(413);
      expect(error.transient).toBe(false);
    } finally {
      await small.stop();
    }
  });

  it('a wrong path is 404 with a hint, and bad ids are refused before any request', async () => {
    const lost = new IngestionClient({
      url: receiver.url.replace('/v1/batches', '/nope'),
      token: TOKEN,
      retry: FAST,
    });
    await expect(lost.send(findingsBatch('b.path', ['a']), SENSOR)).rejects.toThrow(
      /404.*ingestion URL right/,
    );
    await expect(client.send(findingsBatch('bad id/..', ['a']), SENSOR)).rejects.toThrow(/not a valid token/);
    expect(() => new IngestionClient({ url: 'ftp://x', token: TOKEN })).toThrow(/http\(s\)/);
    expect(() => new IngestionClient({ url: 'https://u:p@x/', token: TOKEN })).toThrow(/credentials/);
    expect(() => new IngestionClient({ url: 'https://x/', token: '' })).toThrow(/token is empty/);
  });

  it('half the calls failing with mixed faults: every batch still arrives exactly once', async () => {
    receiver.setFaults({
      failRate: 0.5,
      kinds: ['500', '429', 'reset', 'lost-response'],
      retryAfter: 0,
      seed: 7,
    });
    const patient = new IngestionClient({
      url: receiver.url,
      token: TOKEN,
      retry: { ...FAST, maxAttempts: 12 },
    });
    for (let i = 0; i < 20; i++)
      await patient.send(findingsBatch(`b.half.${i}`, [`f${i}a`, `f${i}b`]), SENSOR);
    expect(receiver.batches.size).toBe(20);
    expect(receiver.findings.size).toBe(40);
    expect(receiver.stats.findingLines).toBe(40);
    expect(receiver.stats.injectedFaults).toBeGreaterThan(5);
  });

  it('an AbortSignal stops the call', async () => {
    receiver.setFaults({ failRate: 1, kinds: ['500'] });
    const controller = new AbortController();
    const slowRetry = new IngestionClient({
      url: receiver.url,
      token: TOKEN,
      retry: { ...FAST, baseDelayMs: 5_000, maxDelayMs: 5_000 },
    });
    setTimeout(() => controller.abort(new Error('stop now')), 100);
    await expect(
      slowRetry.send(findingsBatch('b.abort', ['a']), SENSOR, { signal: controller.signal }),
    ).rejects.toThrow('stop now');
  });
});
