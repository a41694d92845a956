// The simulator's Command API over real HTTP: paging, flags, sorting, errors, the other endpoints, the request log.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CommandCertificateSchema, CommandErrorBodySchema } from '#shared/keyfactor/model';
import { SimulatorInventory } from '#shared/simulator/inventory';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { syntheticCertificate } from '#shared/simulator/synthetic';

const NOW = new Date('2026-06-01T12:00:00Z');
const HEADERS = { 'X-Keyfactor-Requested-With': 'APIClient', Accept: 'application/json' };

/**
 * 1..30 active and valid, except: 7 and 8 revoked, 9 and 10 expired, 11 revoked and expired.
 * So the default listing holds 25 certificates.
 */
function buildInventory(): SimulatorInventory {
  const certs = Array.from({ length: 30 }, (_, i) => {
    const id = i + 1;
    return syntheticCertificate(id, {
      CertState: [7, 8, 11].includes(id) ? 2 : 1,
      NotAfter: [9, 10, 11].includes(id)
        ? '2026-05-01T00:00:00Z'
        : `2027-01-${String((id % 28) + 1).padStart(2, '0')}T00:00:00Z`,
      Metadata: id % 3 === 0 ? { Owner: 'pki@example.com', Retired: 'True' } : { Owner: 'app@example.com' },
    });
  });
  return new SimulatorInventory({ certificates: certs, now: () => NOW });
}

let sim: RunningSimulator;

async function get(path: string, headers: Record<string, string> = HEADERS) {
  const response = await fetch(sim.url + path, { headers });
  const text = await response.text();
  return { response, status: response.status, text, json: () => JSON.parse(text) as unknown };
}

async function listIds(path: string): Promise<{ ids: number[]; total: string | null }> {
  const { response, json, status } = await get(path);
  expect(status).toBe(200);
  return {
    ids: (json() as Array<{ Id: number }>).map((c) => c.Id),
    total: response.headers.get('x-total-count'),
  };
}

beforeAll(async () => {
  sim = await startSimulator({ inventory: buildInventory() });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.requestLog.clear();
});

describe('GET /Certificates paging', () => {
  it('pages 1-based with x-total-count of the whole result', async () => {
    const first = await listIds('/Certificates?PageReturned=1&ReturnLimit=10');
    const second = await listIds('/Certificates?PageReturned=2&ReturnLimit=10');
    const third = await listIds('/Certificates?PageReturned=3&ReturnLimit=10');
    expect(first.total).toBe('25');
    expect(second.total).toBe('25');
    expect(first.ids).toEqual([1, 2, 3, 4, 5, 6, 12, 13, 14, 15]);
    expect(third.ids).toHaveLength(5);
    expect(new Set([...first.ids, ...second.ids, ...third.ids]).size).toBe(25);
  });

  it('returns [] past the end, still with the total', async () => {
    const { ids, total } = await listIds('/Certificates?PageReturned=4&ReturnLimit=10');
    expect(ids).toEqual([]);
    expect(total).toBe('25');
  });

  it('defaults to page 1 of 50', async () => {
    const { ids } = await listIds('/Certificates');
    expect(ids).toHaveLength(25);
    expect(sim.requestLog.certificatePages()[0]?.params).toMatchObject({ pageReturned: 1, returnLimit: 50 });
  });

  it.each([
    ['pq.', 'pq.pageReturned=2&pq.returnLimit=5&pq.includeRevoked=true&pq.sortAscending=1'],
    ['unprefixed', 'PageReturned=2&ReturnLimit=5&IncludeRevoked=true&SortAscending=1'],
    ['lower case', 'pagereturned=2&returnlimit=5&includerevoked=true&sortascending=1'],
  ])('reads %s paging names alike', async (_label, query) => {
    const { ids, total } = await listIds(`/Certificates?${query}`);
    expect(total).toBe('27');
    expect(ids).toEqual([25, 24, 23, 22, 21]);
  });

  it('ignores verbose and other unknown parameters', async () => {
    const { ids } = await listIds('/Certificates?verbose=2&whatever=1&ReturnLimit=3');
    expect(ids).toEqual([1, 2, 3]);
  });

  it('rejects an invalid paging value with 400', async () => {
    const { status, json } = await get('/Certificates?PageReturned=0');
    expect(status).toBe(400);
    expect(CommandErrorBodySchema.parse(json()).Message).toMatch(/PageReturned/);
  });
});

describe('GET /Certificates filters', () => {
  it('excludes revoked and expired unless IncludeRevoked / IncludeExpired are true', async () => {
    const all = '&ReturnLimit=100';
    expect((await listIds(`/Certificates?x=1${all}`)).total).toBe('25');
    const revoked = await listIds(`/Certificates?IncludeRevoked=true${all}`);
    expect(revoked.ids).toEqual(expect.arrayContaining([7, 8]));
    expect(revoked.ids).not.toContain(9);
    const expired = await listIds(`/Certificates?IncludeExpired=true${all}`);
    expect(expired.ids).toEqual(expect.arrayContaining([9, 10]));
    expect(expired.ids).not.toContain(7);
    expect((await listIds(`/Certificates?IncludeExpired=true&IncludeRevoked=true${all}`)).total).toBe('30');
  });

  it('applies QueryString, including metadata fields', async () => {
    const { ids, total } = await listIds(
      `/Certificates?QueryString=${encodeURIComponent('Retired -eq "True" AND CertId -gt 20')}`,
    );
    expect(ids).toEqual([21, 24, 27, 30]);
    expect(total).toBe('4');
  });

  it('answers an invalid query with 400 carrying the parser message', async () => {
    const { status, json } = await get(`/Certificates?pq.queryString=${encodeURIComponent('IssuedDate')}`);
    expect(status).toBe(400);
    const body = CommandErrorBodySchema.parse(json());
    expect(body.Message).toMatch(/^query_filter: .*column \d+/);
    expect(body.ErrorCode).toMatch(/^0x[0-9A-F]{8}$/);
  });

  it('filters by a collection query with collectionId; 0 means no collection', async () => {
    sim.extras.collections.push({
      Id: 42,
      Name: 'Retired',
      Description: '',
      Automated: false,
      Content: 'Retired -eq "True"',
      DuplicationField: 0,
      ShowOnDashboard: false,
      Favorite: false,
    });
    const inCollection = await listIds('/Certificates?collectionId=42&QueryString=CertId%20-lt%2010');
    expect(inCollection.ids).toEqual([3, 6]);
    expect((await listIds('/Certificates?collectionId=0')).total).toBe('25');
    const unknown = await get('/Certificates?collectionId=999');
    expect(unknown.status).toBe(400);
  });
});

describe('GET /Certificates sorting', () => {
  it('sorts ascending and descending on a field with Id breaking ties', async () => {
    const asc = await listIds('/Certificates?SortField=NotAfter&SortAscending=0&ReturnLimit=100');
    const desc = await listIds('/Certificates?SortField=ExpirationDate&SortAscending=1&ReturnLimit=100');
    // NotAfter day = (id % 28) + 1: ids 28 (day 1) and 1, 29 (day 2, 30) ... share days pairwise.
    expect(asc.ids.slice(0, 4)).toEqual([28, 1, 29, 2]);
    expect(desc.ids.slice(0, 3)).toEqual([27, 26, 25]);
    expect(new Set(asc.ids)).toEqual(new Set(desc.ids));
  });

  it('rejects an unknown sort field with 400', async () => {
    const { status, json } = await get('/Certificates?SortField=Colour');
    expect(status).toBe(400);
    expect(CommandErrorBodySchema.parse(json()).Message).toMatch(/Colour/);
  });
});

describe('GET /Certificates include flags', () => {
  it('sends Locations, LocationsCount, Metadata and HasPrivateKey empty or false by default', async () => {
    const { json } = await get('/Certificates?ReturnLimit=2&QueryString=CertId%20-eq%202');
    const [cert] = json() as Array<Record<string, unknown>>;
    expect(cert).toMatchObject({
      Id: 2,
      Locations: [],
      LocationsCount: [],
      Metadata: {},
      HasPrivateKey: false,
    });
  });

  it('fills each part when its flag is true', async () => {
    const { json } = await get(
      '/Certificates?QueryString=CertId%20-eq%202&includeLocations=true&includeMetadata=true&includeHasPrivateKey=true',
    );
    const [cert] = json() as Array<Record<string, unknown>>;
    expect(cert?.['Locations']).toHaveLength(1);
    expect(cert?.['LocationsCount']).toEqual([{ Type: 'PEM', Count: 1 }]);
    expect(cert?.['Metadata']).toEqual({ Owner: 'app@example.com' });
    expect(cert?.['HasPrivateKey']).toBe(true);
  });

  it('sends objects the sensor model accepts, with PrincipalId null', async () => {
    const { json } = await get('/Certificates?includeLocations=true&includeMetadata=true');
    for (const cert of json() as unknown[]) {
      const parsed = CommandCertificateSchema.parse(cert);
      expect(parsed.PrincipalId).toBeNull();
    }
  });
});

describe('GET /Certificates/{id}', () => {
  it('returns one object, revoked or expired alike, shaped by the include flags', async () => {
    const { status, json } = await get('/Certificates/11?includeMetadata=true&includeHasPrivateKey=true');
    expect(status).toBe(200);
    expect(json()).toMatchObject({
      Id: 11,
      CertState: 2,
      Metadata: { Owner: 'app@example.com' },
      Locations: [],
    });
  });

  it('answers an unknown id with 404 {ErrorCode, Message}', async () => {
    const { status, json, response } = await get('/Certificates/9999');
    expect(status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    const body = CommandErrorBodySchema.parse(json());
    expect(body.Message).toMatch(/9999/);
    expect(body.ErrorCode).toBeTruthy();
  });
});

describe('routing and headers', () => {
  it('requires X-Keyfactor-Requested-With', async () => {
    const { status, json } = await get('/Certificates', { Accept: 'application/json' });
    expect(status).toBe(400);
    expect(CommandErrorBodySchema.parse(json()).Message).toMatch(/X-Keyfactor-Requested-With/);
  });

  it('matches the base path case-insensitively and sends the product version', async () => {
    const url = sim.url.replace('/KeyfactorAPI', '/keyfactorapi') + '/certificates?ReturnLimit=1';
    const response = await fetch(url, { headers: HEADERS });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-keyfactor-product-version')).toBe('25.4.1.0');
  });

  it('answers unknown routes with 404 and other methods with 405', async () => {
    expect((await get('/Nope')).status).toBe(404);
    expect((await get('/Certificates/abc')).status).toBe(404);
    const outside = await fetch(`${sim.origin}/elsewhere`, { headers: HEADERS });
    expect(outside.status).toBe(404);
    const post = await fetch(`${sim.url}/Certificates`, { method: 'POST', headers: HEADERS, body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    CommandErrorBodySchema.parse(await post.json());
  });

  it('serves GET /Status/Endpoints as a JSON array of strings', async () => {
    const { json } = await get('/Status/Endpoints');
    const endpoints = json() as unknown[];
    expect(endpoints.every((e) => typeof e === 'string')).toBe(true);
    expect(endpoints).toContain('GET /Certificates');
  });

  it('serves another base path when configured', async () => {
    const other = await startSimulator({ inventory: buildInventory(), apiBasePath: '/Keyfactor/API' });
    try {
      expect(other.url).toMatch(/\/Keyfactor\/API$/);
      const response = await fetch(`${other.url}/Certificates`, { headers: HEADERS });
      expect(response.status).toBe(200);
      expect((await fetch(`${other.origin}/KeyfactorAPI/Certificates`, { headers: HEADERS })).status).toBe(
        404,
      );
    } finally {
      await other.close();
    }
  });
});

describe('other endpoints', () => {
  it.each([
    ['/CertificateCollections', 'pq.'],
    ['/MetadataFields', 'pq.'],
    ['/Alerts/Expiration', 'pagedQuery.'],
    ['/Workflow/Definitions', 'query.'],
    ['/CertificateStores', 'certificateStoreQuery.'],
  ])('GET %s pages with x-total-count and %s names', async (path, prefix) => {
    const all = await get(path);
    expect(all.status).toBe(200);
    const total = Number(all.response.headers.get('x-total-count'));
    expect(total).toBe((all.json() as unknown[]).length);
    expect(total).toBeGreaterThan(0);
    const past = await get(`${path}?${prefix}pageReturned=${total + 1}&${prefix}returnLimit=1`);
    expect(past.json()).toEqual([]);
    expect(past.response.headers.get('x-total-count')).toBe(String(total));
  });

  it('derives metadata fields from the inventory', async () => {
    const { json } = await get('/MetadataFields');
    expect((json() as Array<{ Name: string; DataType: number }>).map((f) => [f.Name, f.DataType])).toEqual([
      ['Owner', 7],
      ['Retired', 4],
    ]);
  });

  it('derives certificate stores from locations', async () => {
    const { json } = await get(
      '/CertificateStores?certificateStoreQuery.queryString=ClientMachine%20-eq%20%22web5.example.com%22',
    );
    const stores = json() as Array<{ Id: string; ClientMachine: string; StorePath: string }>;
    expect(stores).toEqual([
      expect.objectContaining({
        ClientMachine: 'web5.example.com',
        StorePath: '/etc/pki/tls/certs/host5.pem',
      }),
    ]);
    expect(stores[0]?.Id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gets a collection by id', async () => {
    expect((await get('/CertificateCollections/1')).json()).toMatchObject({
      Id: 1,
      Content: 'CertState -eq "1"',
    });
    expect((await get('/CertificateCollections/777')).status).toBe(404);
  });
});

describe('request log', () => {
  it('records what the client asked for, normalised, in order', async () => {
    await get(
      `/Certificates?pq.queryString=${encodeURIComponent('CertId -gt 5')}&pq.pageReturned=2&pq.returnLimit=3&includeLocations=true`,
    );
    await get('/Certificates/4');
    await get('/Certificates', { Accept: 'application/json' });
    const entries = sim.requestLog.entries();
    expect(entries.map((e) => [e.method, e.path, e.status])).toEqual([
      ['GET', '/Certificates', 200],
      ['GET', '/Certificates/4', 200],
      ['GET', '/Certificates', 400],
    ]);
    expect(entries[0]).toMatchObject({
      route: '/Certificates',
      principal: 'anonymous',
      totalCount: 20,
      rawQuery: expect.stringContaining('pq.pageReturned=2') as string,
      params: {
        queryString: 'CertId -gt 5',
        pageReturned: 2,
        returnLimit: 3,
        sortField: null,
        sortAscending: true,
        includeRevoked: false,
        includeExpired: false,
        includeLocations: true,
        includeMetadata: false,
        includeHasPrivateKey: false,
        collectionId: 0,
      },
      at: NOW.toISOString(),
    });
    expect(entries[1]?.route).toBe('/Certificates/{id}');
    expect(entries[0]!.seq).toBeLessThan(entries[1]!.seq);
    expect(sim.requestLog.certificatePages().map((e) => e.seq)).toEqual([entries[0]!.seq, entries[2]!.seq]);
  });
});
