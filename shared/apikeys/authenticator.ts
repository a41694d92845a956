// Turns a presented token into an authorization decision, with a short per-token cache so scrypt is not paid per request.
import { createHash, randomUUID } from 'node:crypto';
import { permissionsOf } from './model';
import type { AuthDecision, AuthRefusal } from './model';
import type { ApiKeyStore, AuditLog, KeyHasher } from './ports';
import { parseToken, ScryptKeyHasher } from './token';

/** Refusals are remembered this long at most, so a key created or unlocked a moment ago is not refused for long. */
export const NEGATIVE_CACHE_MS = 2_000;
/** lastUsedAt is written at most this often per key, not on every request. */
export const LAST_USED_INTERVAL_MS = 60_000;
/** Bound on cached acceptances. */
export const MAX_CACHE_ENTRIES = 10_000;
/** Refusals have their own, smaller bound, so a flood of bad tokens cannot evict the good ones. */
export const MAX_NEGATIVE_CACHE_ENTRIES = 1_000;

export interface ApiKeyAuthenticatorDeps {
  store: ApiKeyStore;
  audit: AuditLog;
  /** Milliseconds since the epoch. */
  clock?: () => number;
  hasher?: KeyHasher;
}

interface CacheEntry {
  decision: AuthDecision;
  keyId: string | null;
  until: number;
}

export class ApiKeyAuthenticator {
  private readonly store: ApiKeyStore;
  private readonly audit: AuditLog;
  private readonly clock: () => number;
  private readonly hasher: KeyHasher;
  /** Keyed by a SHA-256 of the token, so the cache holds no usable credential. */
  private readonly cache = new Map<string, CacheEntry>();
  private readonly refusals = new Map<string, CacheEntry>();
  private readonly lastUseWritten = new Map<string, number>();

  constructor(deps: ApiKeyAuthenticatorDeps) {
    this.store = deps.store;
    this.audit = deps.audit;
    this.clock = deps.clock ?? Date.now;
    this.hasher = deps.hasher ?? new ScryptKeyHasher();
  }

  async authenticate(token: string | undefined): Promise<AuthDecision> {
    if (token === undefined || token === '') return this.refuse('missing', null);
    const now = this.clock();
    const cacheKey = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache.get(cacheKey) ?? this.refusals.get(cacheKey);
    if (cached && cached.until > now) {
      if (cached.decision.ok) {
        await this.noteUse(cached.decision.keyId, now);
        // A copy, so a caller that edits its decision cannot change what later requests are granted.
        return {
          ...cached.decision,
          roles: [...cached.decision.roles],
          permissions: [...cached.decision.permissions],
        };
      }
      return this.refuse(cached.decision.reason, cached.keyId);
    }
    if (cached) (cached.decision.ok ? this.cache : this.refusals).delete(cacheKey);

    const parsed = parseToken(token);
    if (!parsed) return this.refuse('malformed', null);
    const record = await this.store.get(parsed.keyId);
    let refusal: AuthRefusal | null = null;
    if (!record) refusal = 'unknown';
    else if (!(await this.hasher.verify(token, record.hash))) refusal = 'mismatch';
    // Checked after the hash, so a locked key only tells a holder of the right token that it is locked.
    else if (record.locked) refusal = 'locked';
    if (refusal !== null || !record) {
      const reason = refusal ?? 'unknown';
      this.remember(this.refusals, MAX_NEGATIVE_CACHE_ENTRIES, cacheKey, {
        decision: { ok: false, reason },
        keyId: parsed.keyId,
        until: now + NEGATIVE_CACHE_MS,
      });
      return this.refuse(reason, parsed.keyId);
    }

    const timeoutMs = record.reauthenticationTimeoutSeconds * 1000;
    const decision: AuthDecision = {
      ok: true,
      keyId: record.keyId,
      roles: [...record.roles],
      permissions: [...permissionsOf(record.roles)],
      cachedUntil: now + timeoutMs,
    };
    // Timeout 0 means every request re-reads the key, so a lock takes effect at once.
    if (timeoutMs > 0)
      this.remember(this.cache, MAX_CACHE_ENTRIES, cacheKey, {
        decision,
        keyId: record.keyId,
        until: now + timeoutMs,
      });
    await this.noteUse(record.keyId, now);
    return { ...decision, roles: [...decision.roles], permissions: [...decision.permissions] };
  }

  private remember(map: Map<string, CacheEntry>, bound: number, cacheKey: string, entry: CacheEntry): void {
    if (map.size >= bound) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(cacheKey, entry);
  }

  private async noteUse(keyId: string, now: number): Promise<void> {
    const last = this.lastUseWritten.get(keyId);
    if (last !== undefined && now - last < LAST_USED_INTERVAL_MS) return;
    this.lastUseWritten.set(keyId, now);
    await this.store.recordUse(keyId, new Date(now).toISOString());
  }

  private async refuse(reason: AuthRefusal, keyId: string | null): Promise<AuthDecision> {
    await this.audit.append({
      id: randomUUID(),
      at: new Date(this.clock()).toISOString(),
      action: 'authenticate',
      actorKeyId: null,
      targetKeyId: keyId,
      outcome: 'refused',
      reason,
    });
    return { ok: false, reason };
  }
}
