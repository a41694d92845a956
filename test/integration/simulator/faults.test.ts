// Every fault type as a client sees it, and a result set that changes between pages.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CommandErrorBodySchema } from '#shared/keyfactor/model';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { syntheticCertificate, syntheticCertificates } from '#shared/simulator/synthetic';

const HEADERS = { 'X-Keyfactor-Requested-With': 'APIClient' };
let sim: RunningSimulator;

const page = (n: number, limit = 10) =>
  fetch(`${sim.url}/Certificates?PageReturned=${n}&ReturnLimit=${limit}`, { headers: HEADERS });

/** The error the fetch rejected with, including its cause chain as text. */
async function failureOf(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (error) {
    const parts: string[] = [];
    for (let e: unknown = error; e instanceof Error; e = e.cause) {
      parts.push(`${e.name}: ${e.message} ${(e as { code?: string }).code ?? ''}`);
    }
    return parts.join(' <- ');
  }
  throw new Error('expected the request to fail');
}

beforeAll(async () => {
  sim = await startSimulator({ certificates: syntheticCertificates(35) });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.faults.clear();
  sim.requestLog.clear();
});

describe('status faults', () => {
  it('sends 429 with a Retry-After in seconds and a Command-style body, once', async () => {
    const ruleId = sim.faults.add({ action: { type: 'status', status: 429, retryAfter: 7 } });
    const throttled = await page(1);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    CommandErrorBodySchema.parse(await throttled.json());
    expect((await page(1)).status).toBe(200);
    const [first, second] = sim.requestLog.entries();
    expect(first).toMatchObject({
      status: 429,
      fault: `rule ${ruleId} status`,
      faults: [{ ruleId, type: 'status' }],
    });
    expect(second?.fault).toBeUndefined();
  });

  it('sends 503 with an HTTP-date Retry-After and a custom body', async () => {
    const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
    sim.faults.add({
      action: { type: 'status', status: 503, retryAfter: date, body: 'Service Unavailable' },
    });
    const response = await page(1);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe(date);
    expect(await response.text()).toBe('Service Unavailable');
  });

  it('challenges like a real 401 when the injected status is 401', async () => {
    const secured = await startSimulator({ auth: { basic: [{ username: 'u', password: 'p' }] } });
    try {
      secured.faults.add({ action: { type: 'status', status: 401 } });
      const response = await fetch(`${secured.url}/Certificates`, {
        headers: { ...HEADERS, authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect(secured.requestLog.entries()[0]).toMatchObject({ principal: 'u', fault: 'rule 1 status' });
    } finally {
      await secured.close();
    }
  });

  it('fails only the chosen page', async () => {
    sim.faults.add({ match: { path: '/Certificates', page: 2 }, action: { type: 'status', status: 500 } });
    expect((await page(1)).status).toBe(200);
    expect((await page(2)).status).toBe(500);
    expect((await page(2)).status).toBe(200);
  });

  it('fails every Nth matching request', async () => {
    sim.faults.add({
      match: { path: '/Certificates', every: 2 },
      times: Infinity,
      action: { type: 'status', status: 502 },
    });
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i++) statuses.push((await page(1)).status);
    expect(statuses).toEqual([200, 502, 200, 502]);
  });
});

describe('transport faults', () => {
  it('delays a response by the given latency', async () => {
    sim.faults.add({ action: { type: 'latency', ms: 250 } });
    const started = performance.now();
    const response = await page(1);
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    expect(sim.requestLog.entries()[0]?.durationMs).toBeGreaterThanOrEqual(240);
  });

  it('resets the socket without a response', async () => {
    sim.faults.add({ action: { type: 'reset' } });
    const failure = await failureOf(page(1));
    expect(failure).toMatch(/fetch failed.*(other side closed|ECONNRESET|socket)/is);
    expect(sim.requestLog.entries()[0]).toMatchObject({
      status: 0,
      fault: expect.stringContaining('reset') as string,
    });
    expect((await page(1)).status).toBe(200);
  });

  it('truncates the body so that it no longer parses as JSON', async () => {
    sim.faults.add({ action: { type: 'truncated' } });
    const response = await page(1);
    expect(response.status).toBe(200);
    const text = await response.text();
    const complete = await (await page(1)).text();
    expect(text.length).toBe(Math.floor(complete.length / 2));
    expect(complete.startsWith(text)).toBe(true);
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
  });

  it('with declaredLength, cuts the connection short of the announced Content-Length', async () => {
    sim.faults.add({ action: { type: 'truncated', declaredLength: true } });
    const response = await page(1);
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await failureOf(response.text())).toMatch(/terminated|other side closed|premature/i);
  });
});

describe('malformed bodies', () => {
  it('sends a 200 whose body is not JSON', async () => {
    sim.faults.add({ action: { type: 'malformed' } });
    const response = await page(1);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/json/);
    const text = await response.text();
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
  });

  it('sends an HTML page with status 200', async () => {
    sim.faults.add({ action: { type: 'malformed', variant: 'html' } });
    const response = await page(1);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await response.text()).toMatch(/^<!DOCTYPE html>/);
  });

  it('sends valid JSON of the wrong shape: an object for a list, a list for an object', async () => {
    sim.faults.add({ times: 2, action: { type: 'malformed', variant: 'wrong-shape' } });
    const list = (await (await page(1)).json()) as unknown;
    expect(Array.isArray(list)).toBe(false);
    expect(list).toEqual({ Items: expect.any(Array) as unknown });
    const single = (await (await fetch(`${sim.url}/Certificates/3`, { headers: HEADERS })).json()) as unknown;
    expect(Array.isArray(single)).toBe(true);
  });
});

describe('mutate: a result set that changes between pages', () => {
  it('shifts later pages when a certificate on an earlier page disappears', async () => {
    sim.faults.add({
      match: { path: '/Certificates', page: 2 },
      action: { type: 'mutate', apply: (inventory) => void inventory.delete(3) },
    });
    const first = (await (await page(1)).json()) as Array<{ Id: number }>;
    const secondResponse = await page(2);
    const second = (await secondResponse.json()) as Array<{ Id: number }>;
    expect(first.map((c) => c.Id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Certificate 11 moved onto page 1 after it was read: a naive pager never sees it.
    expect(second.map((c) => c.Id)).toEqual([12, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
    expect(secondResponse.headers.get('x-total-count')).toBe('34');
    expect(sim.requestLog.certificatePages().map((e) => e.totalCount)).toEqual([35, 34]);
    sim.inventory.add([syntheticCertificate(3)]);
  });

  it('serves certificates added mid-scan on the page where they land', async () => {
    sim.faults.add({
      match: { page: 4 },
      action: {
        type: 'mutate',
        apply: async (inventory) => {
          await Promise.resolve();
          inventory.addNew([syntheticCertificate(0), syntheticCertificate(0)]);
        },
      },
    });
    const ids: number[] = [];
    for (let n = 1; ; n++) {
      const batch = (await (await page(n)).json()) as Array<{ Id: number }>;
      if (batch.length === 0) break;
      ids.push(...batch.map((c) => c.Id));
    }
    expect(ids.slice(-2)).toEqual([36, 37]);
    expect(sim.requestLog.certificatePages().at(-1)?.totalCount).toBe(37);
    sim.inventory.delete(36);
    sim.inventory.delete(37);
  });
});
