// IngestionClient edge cases against a scripted loopback server: Retry-After as an HTTP date, 408, redirects,
// 2xx duplicates, echoed tokens, long error bodies, connection refused, and jitter bounds.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestionClient, IngestionError, type IngestionBatch } from '#shared/export/ingestion';

type Reply = (req: IncomingMessage, res: ServerResponse) => void;
const TOKEN = 'unit-token-51b7';
const sensor = { name: 's', version: '1', ranBy: 'r', labels: [] };
const batch: IngestionBatch = {
  batchId: 'b.1',
  scanId: 's',
  kind: 'findings',
  count: 1,
  body: new Uint8Array([31, 139]),
};
const FAST = { baseDelayMs: 5, maxDelayMs: 10, maxAttempts: 3, maxRetryAfterMs: 5_000 };

let server: Server | undefined;
afterEach(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
  server = undefined;
});

/** A server answering request i with replies[i] (the last one repeats); returns its URL and the request log. */
async function scripted(
  replies: Reply[],
): Promise<{ url: string; seen: Array<{ at: number; auth?: string }> }> {
  const seen: Array<{ at: number; auth?: string }> = [];
  server = createServer((req, res) => {
    seen.push({ at: Date.now(), ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    req.resume();
    req.on('end', () => (replies[Math.min(seen.length - 1, replies.length - 1)] as Reply)(req, res));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`, seen };
}
const status =
  (code: number, body = '', headers: Record<string, string> = {}): Reply =>
  (_req, res) => {
    res.writeHead(code, headers);
    res.end(body);
  };

describe('IngestionClient', () => {
  it('waits for a Retry-After given as an HTTP date', async () => {
    const when = new Date(Date.now() + 2_000).toUTCString();
    const { url, seen } = await scripted([status(503, '', { 'Retry-After': when }), status(202)]);
    const result = await new IngestionClient({ url, token: TOKEN, retry: FAST }).send(batch, sensor);
    expect(result.attempts).toBe(2);
    // HTTP dates have one-second resolution: anything clearly beyond the 5-10 ms backoff proves the date was used.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThan(500);
  });

  it('retries 408', async () => {
    const { url } = await scripted([status(408), status(200, '{"duplicate":false}')]);
    await expect(
      new IngestionClient({ url, token: TOKEN, retry: FAST }).send(batch, sensor),
    ).resolves.toEqual({
      status: 200,
      duplicate: false,
      attempts: 2,
    });
  });

  it('reads a 2xx with duplicate: true as a duplicate', async () => {
    const { url } = await scripted([status(200, '{"duplicate":true}')]);
    const result = await new IngestionClient({ url, token: TOKEN }).send(batch, sensor);
    expect(result.duplicate).toBe(true);
  });

  it('does not follow redirects (the token would go elsewhere)', async () => {
    const { url, seen } = await scripted([status(307, '', { Location: 'http://127.0.0.1:9/elsewhere' })]);
    const error = (await new IngestionClient({ url, token: TOKEN, retry: FAST })
      .send(batch, sensor)
      .catch((e: unknown) => e)) as IngestionError;
    expect(error.transient).toBe(false);
    expect(error.message).toMatch(/HTTP 307 redirect; configure the final ingestion URL/);
    expect(seen).toHaveLength(1);
  });

  it('blanks an echoed token and truncates a long receiver message to one line', async () => {
    const echo = `bad token ${TOKEN}\n${'x'.repeat(2_000)}`;
    const { url } = await scripted([status(403, JSON.stringify({ message: echo }))]);
    const error = (await new IngestionClient({ url, token: TOKEN })
      .send(batch, sensor)
      .catch((e: unknown) => e)) as IngestionError;
    expect(error.status).toBe(403);
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).toContain('bad token [redacted]');
    expect(error.message).not.toContain('\n');
    expect(error.message.length).toBeLessThan(500);
  });

  it('quotes a non-JSON error body', async () => {
    const { url } = await scripted([status(400, '<html>nope</html>')]);
    await expect(new IngestionClient({ url, token: TOKEN }).send(batch, sensor)).rejects.toThrow(
      /HTTP 400: <html>nope<\/html>/,
    );
  });

  it('retries a refused connection and then reports it as transient', async () => {
    const { url } = await scripted([status(202)]);
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    const error = (await new IngestionClient({ url, token: TOKEN, retry: FAST })
      .send(batch, sensor)
      .catch((e: unknown) => e)) as IngestionError;
    expect(error.transient).toBe(true);
    expect(error.details.attempts).toBe(3);
    expect(error.message).toMatch(/after 3 attempts: network error: ECONNREFUSED/);
  });

  it('backs off exponentially with jitter inside [window/2, window]', async () => {
    const { url, seen } = await scripted([status(500)]);
    const policy = { baseDelayMs: 100, maxDelayMs: 10_000, maxAttempts: 3, maxRetryAfterMs: 1_000 };
    await new IngestionClient({ url, token: TOKEN, retry: policy, random: () => 0 })
      .send(batch, sensor)
      .catch(() => {});
    expect(seen).toHaveLength(3);
    // random 0 gives the lower edge: 50 ms then 100 ms (loose upper bounds for shared machines).
    const first = seen[1]!.at - seen[0]!.at;
    const second = seen[2]!.at - seen[1]!.at;
    expect(first).toBeGreaterThanOrEqual(45);
    expect(second).toBeGreaterThanOrEqual(95);
    expect(first).toBeLessThan(2_000);
    expect(second).toBeLessThan(2_000);
    expect(seen.every((s) => s.auth === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('refuses invalid batches before sending anything', async () => {
    const client = new IngestionClient({ url: 'http://127.0.0.1:9/', token: TOKEN });
    await expect(client.send({ ...batch, scanId: 'a b' }, sensor)).rejects.toThrow(
      /scan id .* not a valid token/,
    );
    await expect(client.send({ ...batch, count: -1 }, sensor)).rejects.toThrow(/invalid record count/);
    expect(() => new IngestionClient({ url: 'not a url', token: TOKEN })).toThrow(IngestionError);
  });
});
