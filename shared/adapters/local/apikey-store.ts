// Local API-key store and audit log for the CLI: a JSON file and a JSON-lines file in a state directory.
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SensorError } from '#shared/errors';
import type {
  ApiKeyChanges,
  ApiKeyRecord,
  ApiKeyStore,
  AuditLog,
  AuditQuery,
  AuditRecord,
  PutOutcome,
  UpdateOutcome,
} from '#shared/apikeys/ports';
import { ApiKeyValidationError } from '#shared/apikeys/model';
import { ApiKeyRecordSchema, AuditRecordSchema } from '#shared/apikeys/validation';

export const KEYS_FILE = 'apikeys.json';
export const AUDIT_FILE = 'apikeys-audit.jsonl';

/** The same state directory as the remote scan's (state-dir.ts), so one --state-dir holds a host's whole state. */
export { defaultStateDir } from './state-dir.ts';

/** The state file is corrupt or was edited into something that is not a key store. */
export class LocalStateError extends SensorError {}

const KeysFileSchema = z.object({ version: z.literal(1), keys: z.array(ApiKeyRecordSchema) });

function isMissing(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'ENOENT';
}

/**
 * One JSON file holding every key, rewritten whole through a temp file and rename so a crash never leaves half a
 * file. Writes within one process are serialised; two processes writing at once are not coordinated (the CLI is
 * one operator at a terminal).
 */
export class LocalApiKeyStore implements ApiKeyStore {
  private readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly stateDir: string) {
    this.file = path.join(stateDir, KEYS_FILE);
  }

  put(record: ApiKeyRecord, _options: { ifAbsent: true }): Promise<PutOutcome> {
    return this.mutate((keys) => {
      if (keys.has(record.keyId)) return { result: 'exists', changed: false };
      keys.set(record.keyId, structuredClone(record));
      return { result: 'created', changed: true };
    });
  }

  async get(keyId: string): Promise<ApiKeyRecord | null> {
    await this.queue;
    return (await this.read()).get(keyId) ?? null;
  }

  update(
    keyId: string,
    changes: ApiKeyChanges,
    options: { expectedVersion: number },
  ): Promise<UpdateOutcome> {
    return this.mutate((keys) => {
      const current = keys.get(keyId);
      if (!current) return { result: 'not-found', changed: false };
      if (current.version !== options.expectedVersion) return { result: 'conflict', changed: false };
      const defined = Object.entries(changes).filter(([, value]) => value !== undefined);
      keys.set(keyId, {
        ...current,
        ...structuredClone(Object.fromEntries(defined)),
        version: current.version + 1,
      });
      return { result: 'updated', changed: true };
    });
  }

  recordUse(keyId: string, at: string): Promise<void> {
    return this.mutate((keys) => {
      const current = keys.get(keyId);
      if (!current) return { result: undefined, changed: false };
      keys.set(keyId, { ...current, lastUsedAt: at });
      return { result: undefined, changed: true };
    });
  }

  delete(keyId: string): Promise<boolean> {
    return this.mutate((keys) => {
      const existed = keys.delete(keyId);
      return { result: existed, changed: existed };
    });
  }

  async list(): Promise<ApiKeyRecord[]> {
    await this.queue;
    return [...(await this.read()).values()];
  }

  private async read(): Promise<Map<string, ApiKeyRecord>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (isMissing(err)) return new Map();
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new LocalStateError(`${this.file} is not valid JSON`, { cause: err });
    }
    const parsed = KeysFileSchema.safeParse(json);
    if (!parsed.success)
      throw new LocalStateError(`${this.file} is not an API key store`, { cause: parsed.error });
    return new Map(parsed.data.keys.map((k) => [k.keyId, k]));
  }

  private async write(keys: Map<string, ApiKeyRecord>): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temp, `${JSON.stringify({ version: 1, keys: [...keys.values()] }, null, 2)}\n`, {
      mode: 0o600,
    });
    await rename(temp, this.file);
  }

  private mutate<T>(
    change: (keys: Map<string, ApiKeyRecord>) => { result: T; changed: boolean },
  ): Promise<T> {
    const run = async (): Promise<T> => {
      const keys = await this.read();
      const { result, changed } = change(keys);
      if (changed) await this.write(keys);
      return result;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** Cursor for the local audit log: the index in the file of the next (older) record to return. */
const AuditCursorSchema = z.object({ before: z.number().int().min(0) });

/** Appends one JSON line per record; O_APPEND keeps concurrent single-line appends whole. */
export class LocalAuditLog implements AuditLog {
  private readonly file: string;

  constructor(private readonly stateDir: string) {
    this.file = path.join(stateDir, AUDIT_FILE);
  }

  async append(record: AuditRecord): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    await appendFile(this.file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  }

  async list(query: AuditQuery): Promise<{ items: AuditRecord[]; nextPageToken: string | null }> {
    const limit = query.limit ?? 50;
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    const records = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line, index) => {
        const parsed = AuditRecordSchema.safeParse(parseJsonLine(line));
        if (!parsed.success) {
          throw new LocalStateError(`${this.file} line ${index + 1} is not an audit record`, {
            cause: parsed.error,
          });
        }
        return parsed.data;
      });
    let start = records.length - 1;
    if (query.pageToken !== undefined) start = decodeAuditCursor(query.pageToken) - 1;
    const items: AuditRecord[] = [];
    let index = Math.min(start, records.length - 1);
    for (; index >= 0 && items.length < limit; index--) {
      const record = records[index];
      if (record && (query.keyId === undefined || record.targetKeyId === query.keyId)) items.push(record);
    }
    const more = index >= 0 && items.length === limit;
    return {
      items,
      nextPageToken: more ? Buffer.from(JSON.stringify({ before: index + 1 })).toString('base64url') : null,
    };
  }
}

function decodeAuditCursor(token: string): number {
  try {
    return AuditCursorSchema.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))).before;
  } catch (err) {
    throw new ApiKeyValidationError([{ path: 'pageToken', message: 'is not an audit page token' }], {
      cause: err,
    });
  }
}

function parseJsonLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
