import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { formatToken, ROLES, type Role } from '#shared/apikeys/index';
import { apiStack, type ApiStack, type ProxyRequest } from '#test/support/apigw';

/** The documented matrix (docs/api.md): the status each role gets on each route. */
const MATRIX: Record<string, Record<Role, number>> = {
  'POST /v3/api-keys': { Administrator: 201, ScanManager: 403, Auditor: 403 },
  'POST /v3/api-keys/import': { Administrator: 201, ScanManager: 403, Auditor: 403 },
  'GET /v3/api-keys': { Administrator: 200, ScanManager: 403, Auditor: 200 },
  'GET /v3/api-keys/{keyId}': { Administrator: 200, ScanManager: 403, Auditor: 200 },
  'PATCH /v3/api-keys/{keyId}': { Administrator: 200, ScanManager: 403, Auditor: 403 },
  'POST /v3/api-keys/lock': { Administrator: 200, ScanManager: 403, Auditor: 403 },
  'POST /v3/api-keys/unlock': { Administrator: 200, ScanManager: 403, Auditor: 403 },
  'POST /v3/api-keys/delete': { Administrator: 200, ScanManager: 403, Auditor: 403 },
  'GET /v3/audit': { Administrator: 200, ScanManager: 403, Auditor: 200 },
  'GET /v3/openapi.json': { Administrator: 200, ScanManager: 200, Auditor: 200 },
};

const PERMISSION: Record<string, string | null> = {
  'POST /v3/api-keys': 'apikeys:write',
  'POST /v3/api-keys/import': 'apikeys:write',
  'GET /v3/api-keys': 'apikeys:read',
  'GET /v3/api-keys/{keyId}': 'apikeys:read',
  'PATCH /v3/api-keys/{keyId}': 'apikeys:write',
  'POST /v3/api-keys/lock': 'apikeys:write',
  'POST /v3/api-keys/unlock': 'apikeys:write',
  'POST /v3/api-keys/delete': 'apikeys:write',
  'GET /v3/audit': 'audit:read',
  'GET /v3/openapi.json': null,
};

let stack: ApiStack;
const tokens = new Map<Role, string>();
let n = 0;

beforeAll(async () => {
  stack = await apiStack(inject('awsEndpoint'));
  for (const role of ROLES) tokens.set(role, await stack.tokenFor([role]));
});

/** A request that succeeds for a caller holding the permission; each gets its own target key. */
async function requestFor(route: string): Promise<Omit<ProxyRequest, 'authorizer'>> {
  const target = `target-${++n}`;
  await stack.service.create(null, { keyId: target, roles: ['Auditor'] });
  switch (route) {
    case 'POST /v3/api-keys':
      return { method: 'POST', path: '/v3/api-keys', json: { keyId: `new-${n}`, roles: ['Auditor'] } };
    case 'POST /v3/api-keys/import':
      return {
        method: 'POST',
        path: '/v3/api-keys/import',
        json: { key: formatToken(`imp-${n}`, randomBytes(32).toString('base64url')), roles: ['Auditor'] },
      };
    case 'GET /v3/api-keys':
      return { method: 'GET', path: '/v3/api-keys' };
    case 'GET /v3/api-keys/{keyId}':
      return { method: 'GET', path: `/v3/api-keys/${target}` };
    case 'PATCH /v3/api-keys/{keyId}':
      return { method: 'PATCH', path: `/v3/api-keys/${target}`, json: { description: 'edited' } };
    case 'POST /v3/api-keys/lock':
    case 'POST /v3/api-keys/unlock':
    case 'POST /v3/api-keys/delete':
      return { method: 'POST', path: route.split(' ')[1] ?? '', json: { keyIds: [target] } };
    case 'GET /v3/audit':
      return { method: 'GET', path: '/v3/audit' };
    case 'GET /v3/openapi.json':
      return { method: 'GET', path: '/v3/openapi.json' };
    default:
      throw new Error(`no request for ${route}`);
  }
}

describe('role × route matrix', () => {
  const cases = Object.entries(MATRIX).flatMap(([route, byRole]) =>
    ROLES.map((role) => ({ route, role, status: byRole[role] })),
  );

  it.each(cases)('$role on $route answers $status', async ({ route, role, status }) => {
    const request = await requestFor(route);
    const res = await stack.call({ ...request, token: tokens.get(role), requestId: `m-${n}` });
    expect(res.status).toBe(status);
    if (status === 403) {
      expect(res.body).toEqual({ message: `missing permission ${PERMISSION[route]}`, requestId: `m-${n}` });
    }
  });

  it('covers every route the API serves', async () => {
    const doc = (await stack.call({ method: 'GET', path: '/v3/openapi.json', token: tokens.get('Auditor') }))
      .body as { paths: Record<string, Record<string, { 'x-required-permission': string | null }>> };
    const served = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => [
        `${method.toUpperCase()} ${path}`,
        op['x-required-permission'],
      ]),
    );
    expect(Object.fromEntries(served)).toEqual(PERMISSION);
    expect(Object.keys(MATRIX).sort()).toEqual(Object.keys(PERMISSION).sort());
  });

  it('lets a key with several roles do what either role may', async () => {
    const both = await stack.tokenFor(['ScanManager', 'Auditor']);
    expect((await stack.call({ ...(await requestFor('GET /v3/audit')), token: both })).status).toBe(200);
    expect((await stack.call({ ...(await requestFor('POST /v3/api-keys/lock')), token: both })).status).toBe(
      403,
    );
  });
});
