// One contract for the API-key store and audit log ports, run against the DynamoDB adapter (moto) and the local files.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { createApiKeyTables, DynamoApiKeyStore, DynamoAuditLog } from '#shared/adapters/aws/apikey-store';
import { LocalApiKeyStore, LocalAuditLog } from '#shared/adapters/local/apikey-store';
import { ApiKeyService, ScryptKeyHasher } from '#shared/apikeys/index';
import type { ApiKeyRecord, ApiKeyStore, AuditLog, AuditRecord } from '#shared/apikeys/index';

interface Backend {
  store: ApiKeyStore;
  audit: AuditLog;
  /** The raw stored form of a key, exactly as persisted. */
  raw(keyId: string): Promise<string>;
}

const dynamo = new DynamoDBClient(localAwsClientConfig(inject('awsEndpoint')));
const tempDirs: string[] = [];

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const backends: Array<[string, () => Promise<Backend>]> = [
  [
    'DynamoDB (moto)',
    async () => {
      const names = { keys: `apikeys-${randomUUID()}`, audit: `apikeys-audit-${randomUUID()}` };
      await createApiKeyTables(dynamo, names);
      return {
        store: new DynamoApiKeyStore(dynamo, names.keys),
        audit: new DynamoAuditLog(dynamo, names.audit),
        raw: async (keyId) =>
          JSON.stringify(
            (await dynamo.send(new GetItemCommand({ TableName: names.keys, Key: { keyId: { S: keyId } } })))
              .Item,
          ),
      };
    },
  ],
  [
    'local files',
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'kfsensor-apikeys-'));
      tempDirs.push(dir);
      return {
        store: new LocalApiKeyStore(dir),
        audit: new LocalAuditLog(dir),
        raw: () => readFile(path.join(dir, 'apikeys.json'), 'utf8'),
      };
    },
  ],
];

function record(keyId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    keyId,
    description: `key ${keyId}`,
    roles: ['Auditor'],
    reauthenticationTimeoutSeconds: 60,
    locked: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    lastUsedAt: null,
    createdBy: null,
    imported: false,
    hash: { algorithm: 'scrypt', salt: 'c2FsdA', hash: 'aGFzaA', N: 1024, r: 8, p: 1, keyLength: 32 },
    version: 1,
    ...overrides,
  };
}

function auditRecord(n: number, targetKeyId: string): AuditRecord {
  return {
    id: randomUUID(),
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    action: 'lock',
    actorKeyId: 'admin',
    targetKeyId,
    outcome: 'locked',
  };
}

describe.each(backends)('API key store contract: %s', (_name, open) => {
  it('creates a key only when its id is free', async () => {
    const { store } = await open();
    expect(await store.put(record('alpha'), { ifAbsent: true })).toBe('created');
    expect(await store.put(record('alpha', { description: 'intruder' }), { ifAbsent: true })).toBe('exists');
    expect((await store.get('alpha'))?.description).toBe('key alpha');
  });

  it('lets exactly one of many concurrent creates of the same id win', async () => {
    const { store } = await open();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.put(record('contested', { description: `writer ${i}` }), { ifAbsent: true }),
      ),
    );
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'exists')).toHaveLength(7);
  });

  it('returns null for a key that does not exist', async () => {
    const { store } = await open();
    expect(await store.get('nobody')).toBeNull();
  });

  it('applies an update only at the expected version and bumps it', async () => {
    const { store } = await open();
    await store.put(record('beta'), { ifAbsent: true });
    expect(
      await store.update('beta', { locked: true, roles: ['Administrator'] }, { expectedVersion: 1 }),
    ).toBe('updated');
    expect(await store.update('beta', { description: 'stale' }, { expectedVersion: 1 })).toBe('conflict');
    const stored = await store.get('beta');
    expect(stored).toMatchObject({
      locked: true,
      roles: ['Administrator'],
      description: 'key beta',
      version: 2,
    });
  });

  it('reports not-found when updating or deleting a missing key, and creates nothing', async () => {
    const { store } = await open();
    expect(await store.update('ghost', { locked: true }, { expectedVersion: 1 })).toBe('not-found');
    await store.recordUse('ghost', '2026-01-01T00:00:00.000Z');
    expect(await store.delete('ghost')).toBe(false);
    expect(await store.get('ghost')).toBeNull();
  });

  it('records a use without changing the version', async () => {
    const { store } = await open();
    await store.put(record('gamma'), { ifAbsent: true });
    await store.recordUse('gamma', '2026-02-01T00:00:00.000Z');
    expect(await store.get('gamma')).toMatchObject({ lastUsedAt: '2026-02-01T00:00:00.000Z', version: 1 });
  });

  it('deletes permanently', async () => {
    const { store } = await open();
    await store.put(record('delta'), { ifAbsent: true });
    expect(await store.delete('delta')).toBe(true);
    expect(await store.get('delta')).toBeNull();
    expect(await store.delete('delta')).toBe(false);
  });

  it('lists every key', async () => {
    const { store } = await open();
    const ids = Array.from({ length: 30 }, (_, i) => `key-${String(i).padStart(2, '0')}`);
    for (const id of ids) await store.put(record(id), { ifAbsent: true });
    expect((await store.list()).map((r) => r.keyId).sort()).toEqual(ids);
  });

  it('refuses to read back a record whose hash parameters were tampered with', async () => {
    const { store } = await open();
    await store.put(record('tampered', { hash: { ...record('x').hash, N: 2 ** 30 } }), { ifAbsent: true });
    await expect(store.get('tampered')).rejects.toThrow(/malformed|not an API key store/);
  });

  it('stores hostile strings verbatim', async () => {
    const { store } = await open();
    const hostile = `"; DROP TABLE keys; -- \${jndi:ldap://evil/x} {{7*7}} <script>`;
    await store.put(record('hostile', { description: hostile }), { ifAbsent: true });
    expect((await store.get('hostile'))?.description).toBe(hostile);
  });

  it('keeps only a hash of a created key, never the token', async () => {
    const backend = await open();
    const service = new ApiKeyService({ ...backend, hasher: new ScryptKeyHasher({ N: 1024 }) });
    const { secret } = await service.create(null, { keyId: 'raw-check', roles: ['Auditor'] });
    const raw = await backend.raw('raw-check');
    expect(raw).toContain('scrypt');
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain(secret.slice(-43));
  });

  it('lists audit records newest first, filtered by key and paged', async () => {
    const { audit } = await open();
    for (let n = 0; n < 7; n++) await audit.append(auditRecord(n, n % 2 === 0 ? 'even' : 'odd'));
    const first = await audit.list({ limit: 3 });
    expect(first.items.map((r) => r.at)).toEqual([6, 5, 4].map((n) => auditRecord(n, '').at));
    expect(first.nextPageToken).not.toBeNull();
    const second = await audit.list({ limit: 3, pageToken: first.nextPageToken ?? '' });
    expect(second.items.map((r) => r.at)).toEqual([3, 2, 1].map((n) => auditRecord(n, '').at));
    const evens = await audit.list({ keyId: 'even', limit: 10 });
    expect(evens.items.map((r) => r.at)).toEqual([6, 4, 2, 0].map((n) => auditRecord(n, '').at));
    expect(evens.nextPageToken).toBeNull();
  });

  it('rejects a forged audit page token', async () => {
    const { audit } = await open();
    await expect(audit.list({ pageToken: 'not-a-token' })).rejects.toThrow(/page token/);
  });
});

describe('DynamoDB audit retention', () => {
  it('stamps each audit item with an expiry for the table TTL when a retention is set', async () => {
    const names = { keys: `apikeys-${randomUUID()}`, audit: `apikeys-audit-${randomUUID()}` };
    await createApiKeyTables(dynamo, names);
    await createApiKeyTables(dynamo, names);
    const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: names.audit }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: 'expiresAt',
      TimeToLiveStatus: 'ENABLED',
    });
    const kept = new DynamoAuditLog(dynamo, names.audit, { retentionDays: 400 });
    const record = auditRecord(0, 'x');
    await kept.append(record);
    const { Items } = await dynamo.send(new ScanCommand({ TableName: names.audit }));
    expect(Items?.[0]?.expiresAt).toEqual({ N: String(Date.parse(record.at) / 1000 + 400 * 86_400) });
    expect((await kept.list({})).items).toEqual([record]);
  });
});

describe('local store files', () => {
  it('leaves no temporary files behind after writes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kfsensor-apikeys-'));
    tempDirs.push(dir);
    const store = new LocalApiKeyStore(dir);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.put(record(`par-${i}`), { ifAbsent: true })),
    );
    expect((await store.list()).length).toBe(10);
    expect(await readdir(dir)).toEqual(['apikeys.json']);
  });
});
