// API-key tokens: the scanner-friendly format `kfsk_<keyId>_<secret>` and their scrypt hashes (the token is never stored).
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { KeyHasher, StoredHash } from './ports';

export const TOKEN_PREFIX = 'kfsk_';
/** 32 random bytes (256 bits) encode to 43 base64url characters. */
export const SECRET_BYTES = 32;
export const SECRET_LENGTH = 43;
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{3,64}$/;
/** Parses a whole token; the secret has a fixed length, so an id containing `_` is still unambiguous. */
export const TOKEN_PATTERN = /^kfsk_([A-Za-z0-9_-]{3,64})_([A-Za-z0-9_-]{43})$/;
/** For secret scanners searching free text (documented in docs/api-keys.md). */
export const TOKEN_SCAN_PATTERN = /kfsk_[A-Za-z0-9_-]{3,64}_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;

/** Longest possible token; anything longer is refused before any parsing. */
export const MAX_TOKEN_LENGTH = TOKEN_PREFIX.length + 64 + 1 + SECRET_LENGTH;

export function formatToken(keyId: string, secret: string): string {
  return `${TOKEN_PREFIX}${keyId}_${secret}`;
}

export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** A generated key id: `k` and 12 base64url characters (72 random bits), within the key-id charset. */
export function newKeyId(): string {
  return `k${randomBytes(9).toString('base64url')}`;
}

export function parseToken(token: string): { keyId: string; secret: string } | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const match = TOKEN_PATTERN.exec(token);
  if (!match?.[1] || !match[2]) return null;
  return { keyId: match[1], secret: match[2] };
}

export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

/** Shortest stored hash accepted for verification. */
export const MIN_HASH_BYTES = 16;

/** Node's defaults (N = 2^14, r = 8, p = 1): about 16 MiB and tens of milliseconds per hash. */
export const DEFAULT_SCRYPT: ScryptParameters = { N: 16_384, r: 8, p: 1, keyLength: 32 };

function scryptAsync(token: string, salt: Buffer, params: ScryptParameters): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      token,
      salt,
      params.keyLength,
      { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 },
      (err, derived) => (err ? reject(err) : resolve(derived)),
    );
  });
}

/**
 * scrypt with a 16-byte random salt per key. The parameters are stored with each hash, so new keys can use higher
 * costs while old keys still verify with theirs.
 */
export class ScryptKeyHasher implements KeyHasher {
  private readonly params: ScryptParameters;
  constructor(params: Partial<ScryptParameters> = {}) {
    this.params = { ...DEFAULT_SCRYPT, ...params };
  }

  async hash(token: string): Promise<StoredHash> {
    const salt = randomBytes(16);
    const derived = await scryptAsync(token, salt, this.params);
    return {
      algorithm: 'scrypt',
      salt: salt.toString('base64url'),
      hash: derived.toString('base64url'),
      ...this.params,
    };
  }

  async verify(token: string, stored: StoredHash): Promise<boolean> {
    if (stored.algorithm !== 'scrypt') return false;
    const expected = Buffer.from(stored.hash, 'base64url');
    // A truncated or emptied hash would compare equal to a short derivation of anything: treat it as no match.
    if (expected.length < MIN_HASH_BYTES) return false;
    const derived = await scryptAsync(token, Buffer.from(stored.salt, 'base64url'), {
      N: stored.N,
      r: stored.r,
      p: stored.p,
      keyLength: expected.length,
    });
    // Equal lengths by construction (keyLength = expected.length); the comparison time does not depend on the bytes.
    return timingSafeEqual(derived, expected);
  }
}
