// The /_simulator/ control API, driven the way an out-of-process test or the demo drives it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CommandCertificate } from '#shared/keyfactor/model';
import type { RequestLogEntry } from '#shared/simulator/request-log';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { syntheticCertificate, syntheticCertificates } from '#shared/simulator/synthetic';

const TOKEN = 'admin-token-for-tests';
const API_HEADERS = { 'X-Keyfactor-Requested-With': 'APIClient' };
let sim: RunningSimulator;

function admin(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  return fetch(`${sim.origin}/_simulator${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { 'x-simulator-admin-token': token }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

const api = (path: string) => fetch(`${sim.url}${path}`, { headers: API_HEADERS });

beforeAll(async () => {
  sim = await startSimulator({ certificates: syntheticCertificates(5), adminToken: TOKEN });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.faults.clear();
  sim.requestLog.clear();
});

describe('admin API access', () => {
  it('refuses a missing or wrong token', async () => {
    expect((await admin('GET', '/stats', undefined, null)).status).toBe(401);
    expect((await admin('GET', '/stats', undefined, 'wrong')).status).toBe(401);
  });

  it('is absent when no token is configured', async () => {
    const plain = await startSimulator({ certificates: [] });
    try {
      const response = await fetch(`${plain.origin}/_simulator/stats`, {
        headers: { 'x-simulator-admin-token': '' },
      });
      expect(response.status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('answers unknown admin routes with 404', async () => {
    expect((await admin('GET', '/nothing')).status).toBe(404);
  });
});

describe('request log over HTTP', () => {
  it('returns the API requests, not its own, and clears them', async () => {
    await api('/Certificates?pq.returnLimit=2');
    const entries = (await (await admin('GET', '/requests')).json()) as RequestLogEntry[];
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ method: 'GET', path: '/Certificates', params: { returnLimit: 2 } });
    expect((await admin('DELETE', '/requests')).status).toBe(204);
    expect(await (await admin('GET', '/requests')).json()).toEqual([]);
  });
});

describe('faults over HTTP', () => {
  it('adds a rule that then fires on the API', async () => {
    const added = await admin('POST', '/faults', {
      name: 'throttle page 1',
      match: { path: '/certificates', page: 1 },
      action: { type: 'status', status: 429, retryAfter: 5 },
    });
    expect(added.status).toBe(201);
    const { ids } = (await added.json()) as { ids: number[] };
    const response = await api('/Certificates');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(sim.requestLog.entries()[0]?.fault).toBe(`rule ${ids[0]} (throttle page 1) status`);
  });

  it('accepts a list of rules, RegExp paths and unlimited times', async () => {
    const added = await admin('POST', '/faults', [
      {
        match: { path: { regex: '^/certificates/\\d+$', flags: 'i' } },
        times: 'Infinity',
        action: { type: 'reset' },
      },
      { action: { type: 'latency', ms: 1 } },
    ]);
    expect(((await added.json()) as { ids: number[] }).ids).toHaveLength(2);
    const listed = (await (await admin('GET', '/faults')).json()) as Array<{
      type: string;
      remaining: number | null;
    }>;
    // JSON has no Infinity: it serialises as null.
    expect(listed.map((r) => [r.type, r.remaining])).toEqual([
      ['reset', null],
      ['latency', 1],
    ]);
    await expect(api('/Certificates/1')).rejects.toThrow();
    await expect(api('/Certificates/2')).rejects.toThrow();
    expect((await admin('DELETE', '/faults')).status).toBe(204);
    expect((await api('/Certificates/2')).status).toBe(200);
  });

  it('removes a single rule', async () => {
    const { ids } = (await (await admin('POST', '/faults', { action: { type: 'reset' } })).json()) as {
      ids: number[];
    };
    expect((await admin('DELETE', `/faults/${ids[0]}`)).status).toBe(204);
    expect((await admin('DELETE', `/faults/${ids[0]}`)).status).toBe(404);
    expect((await api('/Certificates')).status).toBe(200);
  });

  it.each([
    ['a mutate action', { action: { type: 'mutate' } }],
    ['an unknown action', { action: { type: 'explode' } }],
    ['a negative latency', { action: { type: 'latency', ms: -1 } }],
    ['an unknown match key', { match: { host: 'x' }, action: { type: 'reset' } }],
    ['a probability above 1', { match: { probability: 2 }, action: { type: 'reset' } }],
  ])('rejects %s with 400', async (_label, body) => {
    const response = await admin('POST', '/faults', body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { Message: string }).Message).toMatch(/invalid body/);
    expect(sim.faults.list()).toEqual([]);
  });

  it('rejects a body that is not JSON', async () => {
    expect((await admin('POST', '/faults', '{not json')).status).toBe(400);
  });
});

describe('inventory changes over HTTP', () => {
  it('imports certificates with new Ids and ImportDate', async () => {
    const { Id: _id, ImportDate: _date, ...partial } = syntheticCertificate(1);
    const response = await admin('POST', '/certificates', [partial, { ...partial, Id: 1 }]);
    expect(response.status).toBe(201);
    const { ids } = (await response.json()) as { ids: number[] };
    expect(ids).toEqual([6, 7]);
    const listed = (await (
      await api('/Certificates?QueryString=CertId%20-gt%205')
    ).json()) as CommandCertificate[];
    expect(listed.map((c) => c.Id)).toEqual([6, 7]);
    expect(Date.now() - Date.parse(listed[0]!.ImportDate)).toBeLessThan(60_000);
  });

  it('rejects certificates missing required fields', async () => {
    const response = await admin('POST', '/certificates', [{ Thumbprint: 'AB' }]);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { Message: string }).Message).toMatch(/ContentBytes/);
  });

  it('revokes, so the default listing drops the certificate', async () => {
    const revoked = await admin('POST', '/certificates/2/revoke', { reason: 1, comment: 'leaked' });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({
      CertState: 2,
      RevocationReason: 1,
      RevocationComment: 'leaked',
    });
    const listed = (await (await api('/Certificates')).json()) as CommandCertificate[];
    expect(listed.map((c) => c.Id)).not.toContain(2);
    expect((await admin('POST', '/certificates/999/revoke', {})).status).toBe(404);
  });

  it('patches metadata', async () => {
    const response = await admin('PATCH', '/certificates/3/metadata', { Retired: 'True', Owner: null });
    expect(response.status).toBe(200);
    const cert = (await (await api('/Certificates/3?includeMetadata=true')).json()) as CommandCertificate;
    expect(cert.Metadata).toEqual({ Retired: 'True' });
    expect((await admin('PATCH', '/certificates/3/metadata', { Retired: 1 })).status).toBe(400);
  });

  it('replaces locations', async () => {
    const response = await admin('PUT', '/certificates/4/locations', [
      { StoreMachine: 'iis01', StorePath: 'IIS Personal', StoreType: 3 },
    ]);
    expect(response.status).toBe(200);
    const cert = (await (await api('/Certificates/4?includeLocations=true')).json()) as CommandCertificate;
    expect(cert.LocationsCount).toEqual([{ Type: 'IIS', Count: 1 }]);
  });

  it('deletes a certificate', async () => {
    expect((await admin('DELETE', '/certificates/5')).status).toBe(204);
    expect((await api('/Certificates/5')).status).toBe(404);
    expect((await admin('DELETE', '/certificates/5')).status).toBe(404);
  });

  it('reports stats', async () => {
    const stats = (await (await admin('GET', '/stats')).json()) as {
      certificates: number;
      inventoryVersion: number;
      resultCache: { hits: number; misses: number };
    };
    expect(stats.certificates).toBe(sim.inventory.size);
    expect(stats.inventoryVersion).toBe(sim.inventory.version);
    expect(stats.resultCache.misses).toBeGreaterThan(0);
  });
});
