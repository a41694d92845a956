// TLS to the ingestion endpoint: verification on by default, a CA bundle makes a private CA work, skipping is explicit.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IngestionClient,
  IngestionError,
  createIngestionFetch,
  type IngestionBatch,
} from '#shared/export/ingestion';
import { startIngestionReceiver, type IngestionReceiver } from '#shared/simulator/ingestion-receiver';

const TOKEN = 'tls-token';
const sensor = { name: 's', version: '1', ranBy: 'r', labels: [] };
const batch = (batchId: string): IngestionBatch => ({
  batchId,
  scanId: 'scan',
  kind: 'findings',
  count: 1,
  body: gzipSync(`{"id":"${batchId}"}\n`),
});
const FAST = { baseDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 };

let receiver: IngestionReceiver;
beforeAll(async () => {
  receiver = await startIngestionReceiver({ token: TOKEN, tls: 'self-signed' });
});
afterAll(() => receiver.stop());

describe('ingestion over HTTPS', () => {
  it('refuses an untrusted certificate by default, permanently and without retrying', async () => {
    expect(receiver.url).toMatch(/^https:/);
    const client = new IngestionClient({ url: receiver.url, token: TOKEN, retry: FAST });
    const error = (await client.send(batch('t.default'), sensor).catch((e: unknown) => e)) as IngestionError;
    expect(error).toBeInstanceOf(IngestionError);
    expect(error.transient).toBe(false);
    expect(error.message).toMatch(/TLS verification failed \(\w+\); pass the receiver's CA bundle/);
    expect(receiver.batches.has('t.default')).toBe(false);
  });

  it('trusts the receiver with its CA bundle', async () => {
    const client = new IngestionClient({
      url: receiver.url,
      token: TOKEN,
      retry: FAST,
      caCert: receiver.caCertPem,
    });
    try {
      await expect(client.send(batch('t.ca'), sensor)).resolves.toMatchObject({ status: 202 });
    } finally {
      await client.close();
    }
    expect(receiver.batches.has('t.ca')).toBe(true);
  });

  it('createIngestionFetch gives an injectable fetch with the same trust', async () => {
    const made = createIngestionFetch({ caCert: receiver.caCertPem });
    try {
      const client = new IngestionClient({ url: receiver.url, token: TOKEN, fetch: made.fetch, retry: FAST });
      await expect(client.send(batch('t.fetch'), sensor)).resolves.toMatchObject({ status: 202 });
    } finally {
      await made.close();
    }
  });

  it('skips verification only when asked, with a warning', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => void warnings.push(m) };
    const client = new IngestionClient({
      url: receiver.url,
      token: TOKEN,
      insecureSkipTlsVerify: true,
      logger,
    });
    try {
      await expect(client.send(batch('t.insecure'), sensor)).resolves.toMatchObject({ status: 202 });
    } finally {
      await client.close();
    }
    expect(warnings).toEqual([expect.stringMatching(/TLS verification .* turned off/)]);
  });
});
