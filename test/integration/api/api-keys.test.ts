import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { formatToken } from '#shared/apikeys/index';
import { apiStack, type ApiStack } from '#test/support/apigw';

interface ApiKeyBody {
  keyId: string;
  description: string;
  roles: string[];
  reauthenticationTimeoutSeconds: number;
  locked: boolean;
  imported: boolean;
  createdBy: string | null;
}
interface ErrorBody {
  message: string;
  requestId: string;
  issues?: { path: string; message: string }[];
}

let stack: ApiStack;
let admin: (request: Parameters<ApiStack['call']>[0]) => ReturnType<ApiStack['call']>;

beforeAll(async () => {
  stack = await apiStack(inject('awsEndpoint'));
  admin = (request) => stack.call({ token: stack.adminToken, ...request });
});

const issuesOf = (body: unknown) => (body as ErrorBody).issues ?? [];

describe('POST /v3/api-keys', () => {
  it('creates a key and shows its secret once, never again on get or list', async () => {
    const created = await admin({
      method: 'POST',
      path: '/v3/api-keys',
      json: {
        keyId: 'ci-scanner',
        description: 'CI',
        roles: ['ScanManager'],
        reauthenticationTimeoutSeconds: 30,
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { apiKey, secret } = created.body as { apiKey: ApiKeyBody; secret: string };
    expect(secret).toMatch(/^kfsk_ci-scanner_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({
      keyId: 'ci-scanner',
      description: 'CI',
      roles: ['ScanManager'],
      reauthenticationTimeoutSeconds: 30,
      locked: false,
      imported: false,
    });
    expect(apiKey.createdBy).toMatch(/^k/);

    const got = await admin({ method: 'GET', path: '/v3/api-keys/ci-scanner' });
    expect(got.status).toBe(200);
    const listed = await admin({ method: 'GET', path: '/v3/api-keys', query: { search: 'ci-scanner' } });
    expect(listed.status).toBe(200);
    for (const body of [got.body, listed.body]) {
      const text = JSON.stringify(body);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(-43));
      expect(text).not.toMatch(/"(secret|hash|salt)"/);
    }
    // The secret works as a token.
    expect((await stack.call({ token: secret, method: 'GET', path: '/v3/openapi.json' })).status).toBe(200);
  });

  it('generates a Key ID when none is given', async () => {
    const created = await admin({ method: 'POST', path: '/v3/api-keys', json: { roles: ['Auditor'] } });
    expect(created.status).toBe(201);
    expect((created.body as { apiKey: ApiKeyBody }).apiKey.keyId).toMatch(/^[A-Za-z0-9_-]{3,64}$/);
  });

  it('answers 409 for a duplicate Key ID', async () => {
    const body = { keyId: 'dup-key', roles: ['Auditor'] };
    expect((await admin({ method: 'POST', path: '/v3/api-keys', json: body })).status).toBe(201);
    const again = await admin({ method: 'POST', path: '/v3/api-keys', json: body });
    expect(again.status).toBe(409);
    expect((again.body as ErrorBody).message).toBe('an API key with this id already exists: dup-key');
  });

  it('answers 400 with the path of an unknown role', async () => {
    const res = await admin({ method: 'POST', path: '/v3/api-keys', json: { roles: ['Auditor', 'Root'] } });
    expect(res.status).toBe(400);
    expect(issuesOf(res.body)).toEqual([{ path: 'roles.1', message: 'unknown role: "Root"' }]);
  });

  it('answers 400 for oversized fields, bad ids, unknown fields and wrong types', async () => {
    const res = await admin({
      method: 'POST',
      path: '/v3/api-keys',
      json: {
        keyId: 'x'.repeat(65),
        description: 'd'.repeat(257),
        roles: [],
        reauthenticationTimeoutSeconds: -1,
        secret: 'chosen',
      },
    });
    expect(res.status).toBe(400);
    expect(
      issuesOf(res.body)
        .map((i) => i.path)
        .sort(),
    ).toEqual(['description', 'keyId', 'reauthenticationTimeoutSeconds', 'roles', 'secret']);
    const types = await admin({ method: 'POST', path: '/v3/api-keys', json: { roles: 'Administrator' } });
    expect(issuesOf(types.body)).toContainEqual({ path: 'roles', message: 'must be a list of roles' });
    const array = await admin({ method: 'POST', path: '/v3/api-keys', json: [1, 2] });
    expect(array.status).toBe(400);
  });

  it('treats injection strings as inert data', async () => {
    const hostile = [
      `'; DROP TABLE keys; --`,
      '<script>alert(1)</script>',
      '${jndi:ldap://x}',
      '{"$ne": null}',
      '=HYPERLINK("http://evil")',
      '../../etc/passwd',
    ];
    for (const [i, description] of hostile.entries()) {
      const res = await admin({
        method: 'POST',
        path: '/v3/api-keys',
        json: { keyId: `inj-${i}`, description, roles: ['Auditor'] },
      });
      expect(res.status).toBe(201);
      const got = await admin({ method: 'GET', path: `/v3/api-keys/inj-${i}` });
      expect((got.body as ApiKeyBody).description).toBe(description);
    }
    const ctrl = await admin({
      method: 'POST',
      path: '/v3/api-keys',
      json: { description: 'line\nbreak\u0000', roles: ['Auditor'] },
    });
    expect(ctrl.status).toBe(400);
    expect(issuesOf(ctrl.body)[0]?.path).toBe('description');
    const injectedId = await admin({
      method: 'GET',
      path: `/v3/api-keys/${encodeURIComponent("a' OR '1'='1")}`,
    });
    expect(injectedId.status).toBe(404);
    const prototype = await admin({
      method: 'POST',
      path: '/v3/api-keys',
      rawBody: '{"roles":["Auditor"],"__proto__":{"roles":["Administrator"]}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(prototype.status).toBe(400);
    expect(issuesOf(prototype.body).map((i) => i.path)).toEqual(['__proto__']);
  });

  it('answers 413 for a 70 KB body without parsing it', async () => {
    const res = await admin({
      method: 'POST',
      path: '/v3/api-keys',
      rawBody: `{"roles":["Auditor"],"description":"${'a'.repeat(70 * 1024)}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect((res.body as ErrorBody).message).toBe('request body exceeds 65536 bytes');
  });

  it('answers 400 for malformed JSON and 415 for a non-JSON content type', async () => {
    const malformed = await admin({
      method: 'POST',
      path: '/v3/api-keys',
      rawBody: '{"roles": ["Auditor"]',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect((malformed.body as ErrorBody).message).toBe('request body is not valid JSON');
    const form = await admin({
      method: 'POST',
      path: '/v3/api-keys',
      rawBody: 'roles=Auditor',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });
});

describe('POST /v3/api-keys/import', () => {
  it('imports a token whose secret then authenticates, without echoing it', async () => {
    const token = formatToken('imported-1', randomBytes(32).toString('base64url'));
    const res = await admin({
      method: 'POST',
      path: '/v3/api-keys/import',
      json: { key: token, description: 'from staging', roles: ['Auditor'] },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ keyId: 'imported-1', imported: true, roles: ['Auditor'] });
    expect(JSON.stringify(res.body)).not.toContain(token);
    expect((await stack.call({ token, method: 'GET', path: '/v3/api-keys/imported-1' })).status).toBe(200);
    const again = await admin({
      method: 'POST',
      path: '/v3/api-keys/import',
      json: { key: token, roles: ['Auditor'] },
    });
    expect(again.status).toBe(409);
  });

  it('answers 400 for something that is not a token', async () => {
    const res = await admin({
      method: 'POST',
      path: '/v3/api-keys/import',
      json: { key: 'hunter2', roles: ['Auditor'] },
    });
    expect(res.status).toBe(400);
    expect(issuesOf(res.body)[0]?.path).toBe('key');
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
  });
});

describe('GET /v3/api-keys', () => {
  it('pages, sorts and searches', async () => {
    for (let i = 0; i < 12; i++) {
      await stack.service.create(null, { keyId: `page-${String(i).padStart(2, '0')}`, roles: ['Auditor'] });
    }
    const first = await admin({
      method: 'GET',
      path: '/v3/api-keys',
      query: { search: 'PAGE-', pageSize: '10', sortBy: 'keyId', order: 'asc' },
    });
    expect(first.status).toBe(200);
    const page1 = first.body as { items: ApiKeyBody[]; nextPageToken: string; total: number };
    expect(page1.total).toBe(12);
    expect(page1.items.map((k) => k.keyId)).toEqual(Array.from({ length: 10 }, (_, i) => `page-0${i}`));
    const second = await admin({
      method: 'GET',
      path: '/v3/api-keys',
      query: {
        search: 'PAGE-',
        pageSize: '10',
        sortBy: 'keyId',
        order: 'asc',
        pageToken: page1.nextPageToken,
      },
    });
    const page2 = second.body as {
      items: ApiKeyBody[];
      nextPageToken: string | null;
      previousPageToken: string;
    };
    expect(page2.items.map((k) => k.keyId)).toEqual(['page-10', 'page-11']);
    expect(page2.nextPageToken).toBeNull();
    expect(page2.previousPageToken).toEqual(expect.any(String));
  });

  it('answers 400 naming bad query parameters', async () => {
    const res = await admin({
      method: 'GET',
      path: '/v3/api-keys',
      query: { pageSize: '11', sortBy: 'hash', order: 'up', limit: '5' },
    });
    expect(res.status).toBe(400);
    expect(
      issuesOf(res.body)
        .map((i) => i.path)
        .sort(),
    ).toEqual(['query.limit', 'query.order', 'query.pageSize', 'query.sortBy']);
    const token = await admin({ method: 'GET', path: '/v3/api-keys', query: { pageToken: 'garbage' } });
    expect(token.status).toBe(400);
    expect(issuesOf(token.body)[0]?.path).toBe('pageToken');
  });
});

describe('GET and PATCH /v3/api-keys/{keyId}', () => {
  it('answers 404 for an unknown key', async () => {
    const res = await admin({ method: 'GET', path: '/v3/api-keys/no-such-key', requestId: 'req-404' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: 'API key not found: no-such-key', requestId: 'req-404' });
    expect(res.headers['x-request-id']).toBe('req-404');
    expect((await admin({ method: 'PATCH', path: '/v3/api-keys/no-such-key', json: {} })).status).toBe(404);
  });

  it('edits description, roles and timeout', async () => {
    await stack.service.create(null, { keyId: 'to-edit', roles: ['Auditor'] });
    const res = await admin({
      method: 'PATCH',
      path: '/v3/api-keys/to-edit',
      json: {
        description: 'now a scanner',
        roles: ['ScanManager', 'Auditor'],
        reauthenticationTimeoutSeconds: 0,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      keyId: 'to-edit',
      description: 'now a scanner',
      roles: ['ScanManager', 'Auditor'],
      reauthenticationTimeoutSeconds: 0,
    });
    expect((await admin({ method: 'GET', path: '/v3/api-keys/to-edit' })).body).toMatchObject({
      description: 'now a scanner',
    });
  });

  it('answers 400 naming each field that cannot be edited', async () => {
    await stack.service.create(null, { keyId: 'no-extra', roles: ['Auditor'] });
    const res = await admin({
      method: 'PATCH',
      path: '/v3/api-keys/no-extra',
      json: { description: 'ok', locked: false, keyId: 'renamed', createdAt: '2020-01-01' },
    });
    expect(res.status).toBe(400);
    expect(
      issuesOf(res.body)
        .map((i) => i.path)
        .sort(),
    ).toEqual(['createdAt', 'keyId', 'locked']);
    expect((await admin({ method: 'GET', path: '/v3/api-keys/no-extra' })).body).toMatchObject({
      description: '',
    });
  });
});

describe('POST /v3/api-keys/lock, /unlock and /delete', () => {
  it('reports one outcome per distinct id, mixing known and unknown ids', async () => {
    await stack.service.create(null, { keyId: 'bulk-a', roles: ['Auditor'] });
    await stack.service.create(null, { keyId: 'bulk-b', roles: ['Auditor'] });
    const ids = ['bulk-a', 'nope-1', 'bulk-b', 'bulk-a', '../etc'];
    const locked = await admin({ method: 'POST', path: '/v3/api-keys/lock', json: { keyIds: ids } });
    expect(locked.status).toBe(200);
    expect(locked.body).toEqual({
      results: [
        { keyId: 'bulk-a', outcome: 'locked' },
        { keyId: 'nope-1', outcome: 'not-found' },
        { keyId: 'bulk-b', outcome: 'locked' },
        { keyId: '../etc', outcome: 'not-found' },
      ],
    });
    expect((await admin({ method: 'GET', path: '/v3/api-keys/bulk-a' })).body).toMatchObject({
      locked: true,
    });
    const unlocked = await admin({
      method: 'POST',
      path: '/v3/api-keys/unlock',
      json: { keyIds: ['bulk-a'] },
    });
    expect(unlocked.body).toEqual({ results: [{ keyId: 'bulk-a', outcome: 'unlocked' }] });
    const deleted = await admin({
      method: 'POST',
      path: '/v3/api-keys/delete',
      json: { keyIds: ['bulk-a', 'bulk-b'] },
    });
    expect(deleted.body).toEqual({
      results: [
        { keyId: 'bulk-a', outcome: 'deleted' },
        { keyId: 'bulk-b', outcome: 'deleted' },
      ],
    });
    expect((await admin({ method: 'GET', path: '/v3/api-keys/bulk-b' })).status).toBe(404);
  });

  it('answers 400 for an empty, oversized or malformed id list', async () => {
    const empty = await admin({ method: 'POST', path: '/v3/api-keys/lock', json: { keyIds: [] } });
    expect(issuesOf(empty.body)).toEqual([{ path: 'keyIds', message: 'at least one key id is required' }]);
    const many = await admin({
      method: 'POST',
      path: '/v3/api-keys/delete',
      json: { keyIds: Array.from({ length: 101 }, (_, i) => `k-${i}`) },
    });
    expect(many.status).toBe(400);
    const wrong = await admin({ method: 'POST', path: '/v3/api-keys/unlock', json: { keyIds: ['ok', 7] } });
    expect(issuesOf(wrong.body)).toEqual([{ path: 'keyIds.1', message: 'must be a string' }]);
  });
});

describe('GET /v3/audit', () => {
  it('lists audit records newest first, filtered by key', async () => {
    await admin({ method: 'POST', path: '/v3/api-keys', json: { keyId: 'audited', roles: ['Auditor'] } });
    stack.clock.advance(1000);
    await admin({ method: 'POST', path: '/v3/api-keys/lock', json: { keyIds: ['audited'] } });
    const res = await admin({ method: 'GET', path: '/v3/audit', query: { keyId: 'audited', limit: '10' } });
    expect(res.status).toBe(200);
    const items = (res.body as { items: { action: string; targetKeyId: string; actorKeyId: string }[] })
      .items;
    expect(items.map((r) => r.action)).toEqual(['lock', 'create']);
    expect(items.every((r) => r.targetKeyId === 'audited' && r.actorKeyId !== null)).toBe(true);
    const bad = await admin({ method: 'GET', path: '/v3/audit', query: { limit: '1000' } });
    expect(issuesOf(bad.body)[0]?.path).toBe('query.limit');
  });
});

describe('routing', () => {
  it('answers 404 for an unknown route and 405 for a wrong method', async () => {
    expect((await admin({ method: 'GET', path: '/v3/nothing' })).status).toBe(404);
    const wrong = await admin({ method: 'DELETE', path: '/v3/api-keys/some-key' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, PATCH');
  });

  it('serves a key whose id is also the name of a bulk action by GET and PATCH', async () => {
    await stack.service.create(null, { keyId: 'lock', roles: ['Auditor'] });
    expect((await admin({ method: 'GET', path: '/v3/api-keys/lock' })).body).toMatchObject({ keyId: 'lock' });
    const edited = await admin({
      method: 'PATCH',
      path: '/v3/api-keys/lock',
      json: { description: 'odd name' },
    });
    expect(edited.body).toMatchObject({ keyId: 'lock', description: 'odd name' });
    const locked = await admin({ method: 'POST', path: '/v3/api-keys/lock', json: { keyIds: ['lock'] } });
    expect(locked.body).toEqual({ results: [{ keyId: 'lock', outcome: 'locked' }] });
  });
});
