// The key-management use cases behind the API Keys page: create, import, list, edit, lock, unlock, delete, audit.
import { createHash, randomUUID } from 'node:crypto';
import {
  ApiKeyConflictError,
  ApiKeyNotFoundError,
  ApiKeyValidationError,
  DEFAULT_REAUTHENTICATION_TIMEOUT_SECONDS,
  DuplicateKeyIdError,
} from './model';
import type {
  ApiKeyPage,
  ApiKeyView,
  BulkOutcome,
  BulkResult,
  CreateApiKeyInput,
  EditApiKeyInput,
  ImportApiKeyInput,
  ListApiKeysQuery,
} from './model';
import type {
  ApiKeyChanges,
  ApiKeyRecord,
  ApiKeyStore,
  AuditAction,
  AuditLog,
  AuditRecord,
  KeyHasher,
} from './ports';
import { formatToken, KEY_ID_PATTERN, newKeyId, newSecret, parseToken, ScryptKeyHasher } from './token';
import {
  AuditQuerySchema,
  BulkIdsSchema,
  CreateSchema,
  EditSchema,
  ImportSchema,
  ListSchema,
  parseOrThrow,
} from './validation';

/** Optimistic-concurrency retries before giving up on a key that keeps changing underneath us. */
const MAX_ATTEMPTS = 5;

export interface ApiKeyServiceDeps {
  store: ApiKeyStore;
  audit: AuditLog;
  clock?: () => Date;
  hasher?: KeyHasher;
}

export function toView(record: ApiKeyRecord): ApiKeyView {
  return {
    keyId: record.keyId,
    description: record.description,
    roles: [...record.roles],
    reauthenticationTimeoutSeconds: record.reauthenticationTimeoutSeconds,
    locked: record.locked,
    createdAt: record.createdAt,
    lastUsedAt: record.lastUsedAt,
    createdBy: record.createdBy,
    imported: record.imported,
  };
}

interface PageCursor {
  /** Offset of the first item of the page. */
  o: number;
  /** Digest of the query the cursor belongs to. */
  q: string;
}

function queryDigest(query: { search?: string; pageSize: number; sortBy: string; order: string }): string {
  const canonical = JSON.stringify([
    query.search?.toLowerCase() ?? '',
    query.pageSize,
    query.sortBy,
    query.order,
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(token: string, digest: string): number {
  const invalid = () =>
    new ApiKeyValidationError([{ path: 'pageToken', message: 'is not a page token for this query' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (err) {
    throw Object.assign(invalid(), { cause: err });
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !('o' in parsed) ||
    !('q' in parsed) ||
    typeof parsed.o !== 'number' ||
    !Number.isSafeInteger(parsed.o) ||
    parsed.o < 0 ||
    parsed.q !== digest
  ) {
    throw invalid();
  }
  return parsed.o;
}

function compareBy(sortBy: ListApiKeysQuery['sortBy']): (a: ApiKeyRecord, b: ApiKeyRecord) => number {
  return (a, b) => {
    const left = a[sortBy] ?? '';
    const right = b[sortBy] ?? '';
    if (left < right) return -1;
    if (left > right) return 1;
    return a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0;
  };
}

export class ApiKeyService {
  private readonly store: ApiKeyStore;
  private readonly audit: AuditLog;
  private readonly clock: () => Date;
  private readonly hasher: KeyHasher;

  constructor(deps: ApiKeyServiceDeps) {
    this.store = deps.store;
    this.audit = deps.audit;
    this.clock = deps.clock ?? (() => new Date());
    this.hasher = deps.hasher ?? new ScryptKeyHasher();
  }

  /** Creates a key; `secret` is the whole token, returned here once and never again. */
  async create(
    actorKeyId: string | null,
    input: CreateApiKeyInput,
  ): Promise<{ apiKey: ApiKeyView; secret: string }> {
    const parsed = parseOrThrow(CreateSchema, input);
    const keyId = parsed.keyId ?? newKeyId();
    const token = formatToken(keyId, newSecret());
    const record = await this.insert('create', actorKeyId, {
      keyId,
      token,
      description: parsed.description,
      roles: parsed.roles,
      reauthenticationTimeoutSeconds: parsed.reauthenticationTimeoutSeconds,
      imported: false,
    });
    return { apiKey: toView(record), secret: token };
  }

  /** Registers an existing token (e.g. from another environment); its key id comes from the token. */
  async import(actorKeyId: string | null, input: ImportApiKeyInput): Promise<ApiKeyView> {
    const parsed = parseOrThrow(ImportSchema, input);
    const token = parseToken(parsed.key);
    if (!token) {
      throw new ApiKeyValidationError([
        { path: 'key', message: 'is not an API key (expected kfsk_<keyId>_<secret>)' },
      ]);
    }
    const record = await this.insert('import', actorKeyId, {
      keyId: token.keyId,
      token: parsed.key,
      description: parsed.description,
      roles: parsed.roles,
      reauthenticationTimeoutSeconds: parsed.reauthenticationTimeoutSeconds,
      imported: true,
    });
    return toView(record);
  }

  async get(keyId: string): Promise<ApiKeyView> {
    const record = KEY_ID_PATTERN.test(keyId) ? await this.store.get(keyId) : null;
    if (!record) throw new ApiKeyNotFoundError(keyId);
    return toView(record);
  }

  async list(query: ListApiKeysQuery): Promise<ApiKeyPage> {
    const parsed = parseOrThrow(ListSchema, query);
    const digest = queryDigest(parsed);
    const offset = parsed.pageToken === undefined ? 0 : decodeCursor(parsed.pageToken, digest);
    const needle = parsed.search?.toLowerCase() ?? '';
    const matching = (await this.store.list()).filter(
      (r) =>
        needle === '' ||
        r.keyId.toLowerCase().includes(needle) ||
        r.description.toLowerCase().includes(needle),
    );
    const ascending = compareBy(parsed.sortBy);
    matching.sort(parsed.order === 'asc' ? ascending : (a, b) => ascending(b, a));
    const items = matching.slice(offset, offset + parsed.pageSize).map(toView);
    const next = offset + parsed.pageSize;
    return {
      items,
      nextPageToken: next < matching.length ? encodeCursor({ o: next, q: digest }) : null,
      previousPageToken:
        offset > 0 ? encodeCursor({ o: Math.max(0, offset - parsed.pageSize), q: digest }) : null,
      total: matching.length,
    };
  }

  /** Changes description, roles and/or reauthentication timeout; any other field is a validation error. */
  async edit(actorKeyId: string | null, keyId: string, patch: EditApiKeyInput): Promise<ApiKeyView> {
    const parsed = parseOrThrow(EditSchema, patch);
    // An explicit `undefined` means "leave unchanged", never "erase".
    const changes: ApiKeyChanges = Object.fromEntries(
      Object.entries(parsed).filter(([, value]) => value !== undefined),
    );
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = KEY_ID_PATTERN.test(keyId) ? await this.store.get(keyId) : null;
      if (!current) {
        await this.record('edit', actorKeyId, keyId, 'not-found');
        throw new ApiKeyNotFoundError(keyId);
      }
      const outcome = await this.store.update(keyId, changes, { expectedVersion: current.version });
      if (outcome === 'conflict') continue;
      if (outcome === 'not-found') {
        await this.record('edit', actorKeyId, keyId, 'not-found');
        throw new ApiKeyNotFoundError(keyId);
      }
      await this.record('edit', actorKeyId, keyId, 'edited');
      return toView({ ...current, ...changes });
    }
    throw new ApiKeyConflictError(`API key ${keyId} kept changing; edit not applied`);
  }

  lock(actorKeyId: string | null, keyIds: string[]): Promise<BulkResult> {
    return this.bulk('lock', actorKeyId, keyIds, (id) => this.setLocked(id, true));
  }

  unlock(actorKeyId: string | null, keyIds: string[]): Promise<BulkResult> {
    return this.bulk('unlock', actorKeyId, keyIds, (id) => this.setLocked(id, false));
  }

  /** Permanent: the record is removed, so the token can never authenticate again. */
  delete(actorKeyId: string | null, keyIds: string[]): Promise<BulkResult> {
    return this.bulk('delete', actorKeyId, keyIds, async (id) =>
      (await this.store.delete(id)) ? 'deleted' : 'not-found',
    );
  }

  listAudit(query: {
    keyId?: string;
    limit?: number;
    pageToken?: string;
  }): Promise<{ items: AuditRecord[]; nextPageToken: string | null }> {
    return this.audit.list(parseOrThrow(AuditQuerySchema, query));
  }

  private async insert(
    action: 'create' | 'import',
    actorKeyId: string | null,
    input: {
      keyId: string;
      token: string;
      description: string | undefined;
      roles: ApiKeyRecord['roles'];
      reauthenticationTimeoutSeconds: number | undefined;
      imported: boolean;
    },
  ): Promise<ApiKeyRecord> {
    const record: ApiKeyRecord = {
      keyId: input.keyId,
      description: input.description ?? '',
      roles: input.roles,
      reauthenticationTimeoutSeconds:
        input.reauthenticationTimeoutSeconds ?? DEFAULT_REAUTHENTICATION_TIMEOUT_SECONDS,
      locked: false,
      createdAt: this.clock().toISOString(),
      lastUsedAt: null,
      createdBy: actorKeyId,
      imported: input.imported,
      hash: await this.hasher.hash(input.token),
      version: 1,
    };
    if ((await this.store.put(record, { ifAbsent: true })) === 'exists') {
      await this.record(action, actorKeyId, input.keyId, 'duplicate');
      throw new DuplicateKeyIdError(input.keyId);
    }
    await this.record(action, actorKeyId, input.keyId, action === 'create' ? 'created' : 'imported');
    return record;
  }

  private async setLocked(keyId: string, locked: boolean): Promise<BulkOutcome> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.store.get(keyId);
      if (!current) return 'not-found';
      if (current.locked === locked) return 'unchanged';
      const outcome = await this.store.update(keyId, { locked }, { expectedVersion: current.version });
      if (outcome === 'updated') return locked ? 'locked' : 'unlocked';
      if (outcome === 'not-found') return 'not-found';
    }
    throw new ApiKeyConflictError(
      `API key ${keyId} kept changing; ${locked ? 'lock' : 'unlock'} not applied`,
    );
  }

  /** Applies `one` to each distinct id in order, auditing each; ids that cannot exist are reported 'not-found'. */
  private async bulk(
    action: AuditAction,
    actorKeyId: string | null,
    keyIds: string[],
    one: (keyId: string) => Promise<BulkOutcome>,
  ): Promise<BulkResult> {
    const ids = [...new Set(parseOrThrow(BulkIdsSchema, keyIds, 'keyIds'))];
    const results: BulkResult['results'] = [];
    for (const keyId of ids) {
      const outcome = KEY_ID_PATTERN.test(keyId) ? await one(keyId) : 'not-found';
      await this.record(action, actorKeyId, keyId, outcome);
      results.push({ keyId, outcome });
    }
    return { results };
  }

  private record(
    action: AuditAction,
    actorKeyId: string | null,
    targetKeyId: string,
    outcome: string,
  ): Promise<void> {
    return this.audit.append({
      id: randomUUID(),
      at: this.clock().toISOString(),
      action,
      actorKeyId,
      targetKeyId,
      outcome,
    });
  }
}
