// Token format and hashing: what a secret scanner can match, what is stored, and that the comparison is constant-time.
import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import {
  KEY_ID_PATTERN,
  ScryptKeyHasher,
  TOKEN_SCAN_PATTERN,
  formatToken,
  parseToken,
} from '#shared/apikeys/index';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const SECRET = 'a'.repeat(40) + 'B-_';

describe('API key tokens', () => {
  it('round-trips key ids that contain underscores and dashes', () => {
    for (const keyId of ['abc', 'ci_runner_2', 'x-y_z', '_'.repeat(64)]) {
      expect(KEY_ID_PATTERN.test(keyId)).toBe(true);
      expect(parseToken(formatToken(keyId, SECRET))).toEqual({ keyId, secret: SECRET });
    }
  });

  it('round-trips any valid key id and secret', () => {
    const charset = fc.constantFrom(...'ABCXYZabcxyz0189_-'.split(''));
    fc.assert(
      fc.property(
        fc.string({ unit: charset, minLength: 3, maxLength: 64 }),
        fc.string({ unit: charset, minLength: 43, maxLength: 43 }),
        (keyId, secret) => {
          expect(parseToken(formatToken(keyId, secret))).toEqual({ keyId, secret });
        },
      ),
    );
  });

  it('rejects near-misses', () => {
    for (const token of [
      `kfsk_ab_${SECRET}`,
      `kfsk_abc_${SECRET}x`,
      `kfsk_abc_${SECRET.slice(1)}`,
      `KFSK_abc_${SECRET}`,
      `kfsk_abc_${SECRET.slice(1)}=`,
      `kfsk_${'a'.repeat(65)}_${SECRET}`,
      ` kfsk_abc_${SECRET}`,
    ]) {
      expect(parseToken(token)).toBeNull();
    }
  });

  it('is found by the scanner pattern inside free text', () => {
    const token = formatToken('leaked_key', SECRET);
    const text = `export KFSENSOR_TOKEN="${token}"\nother=kfsk_short`;
    expect([...text.matchAll(TOKEN_SCAN_PATTERN)].map((m) => m[0])).toEqual([token]);
  });
});

describe('ScryptKeyHasher', () => {
  it('stores a salted hash with its parameters, never the token', async () => {
    const hasher = new ScryptKeyHasher({ N: 1024 });
    const token = formatToken('abc', SECRET);
    const [one, two] = [await hasher.hash(token), await hasher.hash(token)];
    expect(one).toMatchObject({ algorithm: 'scrypt', N: 1024, r: 8, p: 1, keyLength: 32 });
    expect(one.salt).not.toBe(two.salt);
    expect(one.hash).not.toBe(two.hash);
    expect(JSON.stringify(one)).not.toContain(SECRET);
  });

  it('verifies with the stored parameters, so costs can be raised later', async () => {
    const token = formatToken('abc', SECRET);
    const old = await new ScryptKeyHasher({ N: 1024 }).hash(token);
    const newer = new ScryptKeyHasher({ N: 2048 });
    expect(await newer.verify(token, old)).toBe(true);
    expect(await newer.verify(formatToken('abc', 'b'.repeat(43)), old)).toBe(false);
  });

  it('never matches a stored hash that was emptied or truncated', async () => {
    const hasher = new ScryptKeyHasher({ N: 1024 });
    const token = formatToken('abc', SECRET);
    const stored = await hasher.hash(token);
    expect(await hasher.verify(token, { ...stored, hash: '', keyLength: 0 })).toBe(false);
    expect(await hasher.verify(token, { ...stored, hash: stored.hash.slice(0, 8) })).toBe(false);
  });

  it('compares with crypto.timingSafeEqual', async () => {
    const hasher = new ScryptKeyHasher({ N: 1024 });
    const token = formatToken('abc', SECRET);
    const stored = await hasher.hash(token);
    vi.mocked(crypto.timingSafeEqual).mockClear();
    await hasher.verify(token, stored);
    await hasher.verify(`${token.slice(0, -1)}c`, stored);
    expect(crypto.timingSafeEqual).toHaveBeenCalledTimes(2);
  });
});
