// Ports the key service depends on: the key store, the audit log and the hasher; adapters live in shared/adapters.
import type { ApiKeyView } from './model';

/** Parameters and output of one hash, stored with the key so the cost can be raised later without breaking old keys. */
export interface StoredHash {
  algorithm: 'scrypt';
  /** base64url */
  salt: string;
  /** base64url */
  hash: string;
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

/** A key as stored: the view's fields plus the hash and an optimistic-concurrency version. Never the token. */
export interface ApiKeyRecord extends ApiKeyView {
  hash: StoredHash;
  version: number;
}

/** The fields an update may change; anything else (hash, createdAt, ...) is fixed at creation. */
export type ApiKeyChanges = Partial<
  Pick<ApiKeyRecord, 'description' | 'roles' | 'reauthenticationTimeoutSeconds' | 'locked'>
>;

export type PutOutcome = 'created' | 'exists';
export type UpdateOutcome = 'updated' | 'not-found' | 'conflict';

export interface ApiKeyStore {
  /** Writes a new key only when its id is free (an atomic check, not read-then-write). */
  put(record: ApiKeyRecord, options: { ifAbsent: true }): Promise<PutOutcome>;
  get(keyId: string): Promise<ApiKeyRecord | null>;
  /** Applies `changes` only if the stored version is `expectedVersion`, and bumps the version. */
  update(keyId: string, changes: ApiKeyChanges, options: { expectedVersion: number }): Promise<UpdateOutcome>;
  /** Sets lastUsedAt on an existing key without touching its version (a use is not an edit). */
  recordUse(keyId: string, at: string): Promise<void>;
  /** Returns false when there was no such key. */
  delete(keyId: string): Promise<boolean>;
  /** Every key; the service filters, sorts and pages (a sensor has tens of keys, not millions). */
  list(): Promise<ApiKeyRecord[]>;
}

export type AuditAction = 'create' | 'import' | 'edit' | 'lock' | 'unlock' | 'delete' | 'authenticate';

/** One audited event. `reason` explains refusals; the token is never recorded. */
export interface AuditRecord {
  id: string;
  at: string;
  action: AuditAction;
  actorKeyId: string | null;
  targetKeyId: string | null;
  outcome: string;
  reason?: string;
}

export interface AuditQuery {
  keyId?: string;
  limit?: number;
  pageToken?: string;
}

export interface AuditLog {
  append(record: AuditRecord): Promise<void>;
  /** Newest first; `keyId` matches the target key. */
  list(query: AuditQuery): Promise<{ items: AuditRecord[]; nextPageToken: string | null }>;
}

export interface KeyHasher {
  hash(token: string): Promise<StoredHash>;
  /** Constant-time comparison against a stored hash, using the parameters stored with it. */
  verify(token: string, stored: StoredHash): Promise<boolean>;
}
