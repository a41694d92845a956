// The CLI's scan stores: one SQLite file (better-sqlite3) in the state directory, with the same rules as the memory
// and DynamoDB adapters (the decisions come from the shared helpers in ../memory/scan-stores.ts). better-sqlite3 is
// synchronous, so every port method runs its reads and writes as one SQLite transaction with no await inside: a
// check-and-write can never interleave with another caller's, and a crash leaves each call all-or-nothing.
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { InputError, SensorError } from '#shared/errors';
import { ScanExistsError, systemClock } from '#shared/scan/ports';
import type {
  Clock,
  ExportOutbox,
  FindingStore,
  HostLeases,
  ScanListQuery,
  ScanPage,
  ScanStore,
  ScheduleStore,
  TaskCompletion,
} from '#shared/scan/ports';
import { TERMINAL_STATES } from '#shared/scan/model';
import type {
  ExportBatch,
  Resolution,
  Schedule,
  ScanCounts,
  ScanError,
  ScanRecord,
  ScanState,
  SensorCursor,
  StoredFinding,
  TaskOutcome,
  UpsertOutcome,
} from '#shared/scan/model';
import type { Finding } from '#shared/findings/index';
import {
  FINDINGS_CHUNK,
  MAX_ERROR_CHARS,
  MAX_SCAN_ERRORS,
  ScanNotFoundError,
  assertOutboxBodySize,
  assertSameSensor,
  boundedError,
  checkLeaseArgs,
  checkListLimit,
  taskCountDelta,
  upsertDecision,
  upsertedFinding,
} from '../memory/scan-stores.ts';
import type { TransitionPatch, UpsertInput } from '../memory/scan-stores.ts';
import { ensureStateDir, stateFilePath } from './state-dir.ts';

export { OutboxBatchTooLargeError, ScanNotFoundError } from '../memory/scan-stores.ts';

/** Page size of a new state file. */
const PAGE_SIZE = 16_384;

/** The schema this code writes (PRAGMA user_version). Bump it and add a migration for every schema change. */
export const SCHEMA_VERSION = 2;

/** The state file is not a usable kfsensor state database (corrupt, not SQLite, or not ours). */
export class LocalStateCorruptError extends SensorError {}
/** The state file was written by a newer kfsensor. */
export class LocalStateVersionError extends SensorError {}
/** Another process holds the state directory. */
export class LocalStateLockedError extends SensorError {}
/** The stores were used after close(). */
export class LocalStateClosedError extends SensorError {}

/**
 * Migrations from version i to i + 1 (index i). Each runs in the same transaction as the user_version bump, so an
 * interrupted upgrade leaves the file at the old version, untouched.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE scans (
    scan_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL,
    sensor_name TEXT NOT NULL,
    sensor_key TEXT NOT NULL,
    callback_id TEXT,
    -- 1 once one completeTask caller was told lastTask (exactly one is).
    finalize_claimed INTEGER NOT NULL DEFAULT 0,
    -- ScanRecord.expiresAt (unix seconds): pruned at open once passed, if the scan is terminal.
    expires_at INTEGER NOT NULL,
    -- The ScanRecord as JSON; the columns above mirror the fields that are queried.
    record TEXT NOT NULL
  );
  CREATE INDEX scans_newest ON scans (created_at DESC, scan_id DESC);
  CREATE INDEX scans_by_state ON scans (state, created_at DESC, scan_id DESC);
  CREATE INDEX scans_by_sensor ON scans (sensor_name, created_at DESC, scan_id DESC);
  CREATE INDEX scans_by_callback ON scans (callback_id, created_at DESC) WHERE callback_id IS NOT NULL;
  CREATE INDEX scans_expiry ON scans (expires_at);

  CREATE TABLE tasks (
    scan_id TEXT NOT NULL REFERENCES scans (scan_id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    outcome TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    -- Unix seconds, completed_at + taskRetentionDays (the DynamoDB item's TTL).
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (scan_id, task_id)
  ) WITHOUT ROWID;
  CREATE INDEX tasks_expiry ON tasks (expires_at);

  CREATE TABLE cursors (
    sensor_key TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    record TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE findings (
    sensor_key TEXT NOT NULL,
    finding_id TEXT NOT NULL,
    certificate_id INTEGER,
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    content_hash TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    last_seen_scan_id TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by_scan_id TEXT,
    -- The Finding document's JSON (UTF-8; rows written before this change hold it gzipped: both are read).
    document BLOB NOT NULL,
    PRIMARY KEY (sensor_key, finding_id)
  );
  -- resolveUnseen: the open findings of a sensor not seen by a scan, without reading resolved ones.
  CREATE INDEX findings_unseen ON findings (sensor_key, status, last_seen_scan_id);

  CREATE TABLE outbox (
    batch_id TEXT PRIMARY KEY,
    scan_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('findings', 'resolutions')),
    count INTEGER NOT NULL,
    body BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT,
    -- Unix seconds, set when the batch is sent (sent_at + retentionDays); pending and failed batches never expire.
    expires_at INTEGER
  );
  CREATE INDEX outbox_by_scan ON outbox (scan_id, status);
  CREATE INDEX outbox_expiry ON outbox (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE schedules (
    schedule_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
  );
  CREATE INDEX schedules_oldest ON schedules (created_at, schedule_id);

  CREATE TABLE leases (
    host TEXT NOT NULL,
    slot INTEGER NOT NULL,
    lease_id TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (host, slot)
  ) WITHOUT ROWID;
  `,
  // 1 -> 2: a small projection of each document for the end-of-scan summary, counted from an index alone. Rows
  // written before have none (NULL) until the summary reads their document once and fills it in.
  `
  ALTER TABLE findings ADD COLUMN summary TEXT;
  CREATE INDEX findings_summary ON findings (sensor_key, status, summary);
  `,
];

export interface LocalStateOptions {
  clock?: Clock;
  /** How long a second opener waits for the lock before failing (ms). The lock is held for the whole run. */
  lockTimeoutMs?: number;
  /** How long a statement waits on a busy database (ms); only a checkpoint by another tool can make it busy. */
  busyTimeoutMs?: number;
  /** Runs PRAGMA quick_check at open (reads every page once): a damaged file fails here, not mid-scan. */
  checkOnOpen?: boolean;
  /**
   * The projection of a document kept in the findings' `summary` column (a short string; the remote CLI keeps what
   * its end-of-scan summary counts). Without it the column stays NULL and summaries() reads documents.
   */
  summaryOf?: (document: Finding) => string;
  /** Days a task completion record is kept (default 90, as in DynamoDB). */
  taskRetentionDays?: number;
  /** Days a sent outbox batch is kept (default 14, as in DynamoDB); pending and failed ones are kept. */
  outboxRetentionDays?: number;
}

export interface LocalStateSettings {
  journalMode: string;
  /** 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
  synchronous: number;
  lockingMode: string;
  foreignKeys: boolean;
  busyTimeoutMs: number;
  pageSize: number;
  schemaVersion: number;
}

/** What prune() deleted. */
export interface PruneResult {
  scans: number;
  tasks: number;
  batches: number;
}

export interface LocalState {
  scans: LocalScanStore;
  findings: LocalFindingStore;
  outbox: LocalExportOutbox;
  schedules: LocalScheduleStore;
  leases: LocalHostLeases;
  /** The state directory and the database file in it. */
  stateDir: string;
  file: string;
  /**
   * Deletes what DynamoDB's TTL would have: terminal scans past their expiresAt (with their tasks), task records
   * and sent outbox batches past their retention. Runs at open; there is no background sweeper locally.
   */
  prune(): PruneResult;
  /** The connection's settings as SQLite reports them (diagnostics, and tests that they are what is documented). */
  settings(): LocalStateSettings;
  /** Checkpoints the WAL into the main file and releases the lock. Idempotent. */
  close(): void;
}

/** Wraps one open database: statement cache, error translation, transactions. */
class Db {
  private readonly statements = new Map<string, Statement>();
  private closed = false;

  constructor(
    readonly sqlite: SqliteDatabase,
    readonly file: string,
    readonly stateDir: string,
  ) {}

  prepare(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.sqlite.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` as one IMMEDIATE transaction (the write lock is taken up front, so a read-then-write never upgrades). */
  tx<T>(fn: () => T): T {
    return this.guard(() => this.sqlite.transaction(fn).immediate());
  }

  /** Runs a read outside an explicit transaction (one statement is its own snapshot). */
  read<T>(fn: () => T): T {
    return this.guard(fn);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.sqlite.close();
  }

  private guard<T>(fn: () => T): T {
    if (this.closed) throw new LocalStateClosedError(`the local state ${this.file} is closed`);
    try {
      return fn();
    } catch (err) {
      throw translateSqliteError(err, this.file, this.stateDir);
    }
  }
}

function sqliteCode(err: unknown): string | null {
  return err instanceof Database.SqliteError ? err.code : null;
}

function translateSqliteError(err: unknown, file: string, stateDir: string): unknown {
  const code = sqliteCode(err);
  if (code === null) return err;
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
    return new LocalStateCorruptError(
      `the state file ${file} is damaged or is not a kfsensor state database (${(err as Error).message}); ` +
        `move it aside (incremental state starts over: the next scan is a full one) or pass another --state-dir`,
      { cause: err },
    );
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return new LocalStateLockedError(
      `another scan is using ${stateDir} (its state file ${file} is locked); wait for it to finish or pass ` +
        `another --state-dir`,
      { cause: err },
    );
  if (
    code === 'SQLITE_FULL' ||
    code.startsWith('SQLITE_IOERR') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_READONLY') ||
    code === 'SQLITE_PERM'
  )
    return new SensorError(`cannot open or write the state file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  return err;
}

/**
 * Opens (creating if needed) the state database in `stateDir` and holds it exclusively until close(). Settings:
 * - journal_mode=WAL: a commit appends to the WAL, so a crash mid-write never touches committed pages, and the next
 *   open replays the WAL's committed frames (a killed run's WAL is recovered, its uncommitted tail ignored).
 * - synchronous=FULL: the WAL is fsynced at every commit. With NORMAL a power loss can drop the last commits, e.g. a
 *   cursor the scan reported as advanced; FULL makes a committed cursor or finding durable when the call returns.
 * - locking_mode=EXCLUSIVE, taken at open with a write transaction: a second kfsensor on the same directory fails
 *   with "another scan is using <dir>" instead of interleaving two runs' cursors; the OS drops the lock when the
 *   holder dies, so a crash never leaves a stale lock behind (unlike a pid file). It also keeps the WAL index in
 *   process memory (no -shm file).
 * - foreign_keys=ON: a task row cannot outlive its scan.
 */
export function openLocalState(stateDir: string, options: LocalStateOptions = {}): LocalState {
  const clock = options.clock ?? systemClock;
  const retention = {
    taskSeconds: retentionSeconds(options.taskRetentionDays ?? 90, 'taskRetentionDays'),
    outboxSeconds: retentionSeconds(options.outboxRetentionDays ?? 14, 'outboxRetentionDays'),
  };
  const dir = ensureStateDir(stateDir);
  const file = stateFilePath(dir);
  const created = !existsSync(file);
  let sqlite: SqliteDatabase;
  try {
    sqlite = new Database(file, { timeout: options.lockTimeoutMs ?? 1000 });
  } catch (err) {
    throw translateSqliteError(err, file, dir);
  }
  const db = new Db(sqlite, file, dir);
  try {
    db.read(() => {
      sqlite.pragma('locking_mode = EXCLUSIVE');
      // Only takes effect on a new file. Finding rows are ~4 KB (the document's JSON): 4 KB pages would spill
      // each row to an overflow page; 16 KB pages hold about four.
      sqlite.pragma(`page_size = ${PAGE_SIZE}`);
      // Taking the write lock first: this is where a second opener fails (after lockTimeoutMs).
      sqlite.exec('BEGIN EXCLUSIVE; COMMIT');
      const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal')
        throw new SensorError(`cannot put the state file ${file} in WAL mode (got ${String(mode)})`);
      sqlite.pragma('synchronous = FULL');
      sqlite.pragma('foreign_keys = ON');
      sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      if (options.checkOnOpen ?? true) {
        const result = sqlite.pragma('quick_check', { simple: true });
        if (result !== 'ok')
          throw new LocalStateCorruptError(
            `the state file ${file} failed its integrity check (${String(result)}); move it aside (incremental ` +
              `state starts over: the next scan is a full one) or pass another --state-dir`,
          );
      }
    });
    migrate(db);
    // The findings are an inventory of the organisation's certificates: owner-only, like the directory. SQLite
    // gives the -wal file the database file's mode.
    if (created) chmodSync(file, 0o600);
  } catch (err) {
    db.close();
    throw err;
  }
  const prune = (): PruneResult =>
    db.tx(() => {
      const now = Math.floor(clock.now().getTime() / 1000);
      const terminal = TERMINAL_STATES.map(() => '?').join(', ');
      // Tasks first so the scans' cascade does not count them; a non-terminal scan is never pruned.
      const tasks = db.prepare('DELETE FROM tasks WHERE expires_at < ?').run(now).changes;
      const scans = db
        .prepare(`DELETE FROM scans WHERE expires_at > 0 AND expires_at < ? AND state IN (${terminal})`)
        .run(now, ...TERMINAL_STATES).changes;
      const batches = db.prepare('DELETE FROM outbox WHERE expires_at < ?').run(now).changes;
      return { scans, tasks, batches };
    });
  try {
    db.tx(() => {
      // Only this process can hold the file now, so leases in it belong to a run that is gone.
      db.prepare('DELETE FROM leases').run();
    });
    prune();
  } catch (err) {
    db.close();
    throw err;
  }
  return {
    scans: new LocalScanStore(db, clock, retention.taskSeconds),
    findings: new LocalFindingStore(db, options.summaryOf ?? null),
    outbox: new LocalExportOutbox(db, retention.outboxSeconds),
    schedules: new LocalScheduleStore(db),
    leases: new LocalHostLeases(db, clock),
    stateDir: dir,
    file,
    prune,
    settings: () =>
      db.read(() => {
        const get = (name: string): unknown => db.sqlite.pragma(name, { simple: true });
        return {
          journalMode: String(get('journal_mode')),
          synchronous: Number(get('synchronous')),
          lockingMode: String(get('locking_mode')),
          foreignKeys: get('foreign_keys') === 1,
          busyTimeoutMs: Number(get('busy_timeout')),
          pageSize: Number(get('page_size')),
          schemaVersion: Number(get('user_version')),
        };
      }),
    close: () => db.close(),
  };
}

function retentionSeconds(days: number, name: string): number {
  if (!(days > 0)) throw new InputError(`${name} must be a positive number of days, got ${days}`);
  return Math.round(days * 86_400);
}

function expiryAfter(at: string, seconds: number): number {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) throw new InputError(`${JSON.stringify(at)} is not an ISO timestamp`);
  return Math.floor(ms / 1000) + seconds;
}

function migrate(db: Db): void {
  db.tx(() => {
    const version = db.sqlite.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION)
      throw new LocalStateVersionError(
        `the state file ${db.file} was written by a newer kfsensor (schema version ${version}; this one ` +
          `understands up to ${SCHEMA_VERSION}); upgrade kfsensor or pass another --state-dir`,
      );
    if (version === 0) {
      const foreign = db.sqlite
        .prepare("SELECT count(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        .get() as { n: number };
      // An SQLite file with tables but no version is someone else's database: never write into it.
      if (foreign.n > 0)
        throw new LocalStateCorruptError(
          `the state file ${db.file} is an SQLite database but not a kfsensor state file; move it aside or pass ` +
            `another --state-dir`,
        );
    }
    for (let v = version; v < SCHEMA_VERSION; v++) {
      db.sqlite.exec(MIGRATIONS[v]!);
      db.sqlite.pragma(`user_version = ${v + 1}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------

interface ScanRow {
  record: string;
  finalize_claimed: number;
}

interface ScanListToken {
  createdAt: string;
  scanId: string;
}

function encodeToken(token: ScanListToken): string {
  return Buffer.from(JSON.stringify({ c: token.createdAt, s: token.scanId })).toString('base64url');
}

function decodeToken(token: string): ScanListToken {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null) {
      const { c, s } = parsed as { c?: unknown; s?: unknown };
      if (typeof c === 'string' && typeof s === 'string') return { createdAt: c, scanId: s };
    }
  } catch {
    // Falls through to the InputError below.
  }
  throw new InputError(
    'nextToken is not a scan list token (pass the nextToken of the previous page unchanged)',
  );
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function addInto(target: ScanCounts, delta: Partial<ScanCounts>): void {
  for (const [key, value] of Object.entries(delta) as [keyof ScanCounts, number | undefined][]) {
    if (value !== undefined) target[key] += value;
  }
}

export class LocalScanStore implements ScanStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly taskRetentionSeconds: number,
  ) {}

  async createScan(scan: ScanRecord): Promise<void> {
    await Promise.resolve();
    this.db.tx(() => {
      const inserted = this.db
        .prepare(
          `INSERT INTO scans (scan_id, created_at, state, sensor_name, sensor_key, callback_id, expires_at, record)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scan_id) DO NOTHING`,
        )
        .run(
          scan.scanId,
          scan.createdAt,
          scan.state,
          scan.sensor.sensorName,
          scan.sensorKey,
          scan.callbackId,
          scan.expiresAt,
          JSON.stringify(scan),
        );
      if (inserted.changes === 0) throw new ScanExistsError(scan.scanId);
    });
  }

  async getScan(scanId: string): Promise<ScanRecord | null> {
    await Promise.resolve();
    return this.db.read(() => this.load(scanId)?.scan ?? null);
  }

  async listScans(query: ScanListQuery): Promise<ScanPage> {
    await Promise.resolve();
    checkListLimit(query.limit);
    const after = query.nextToken === undefined ? null : decodeToken(query.nextToken);
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.state !== undefined) {
      where.push('state = ?');
      params.push(query.state);
    }
    if (query.sensorName !== undefined) {
      where.push('sensor_name = ?');
      params.push(query.sensorName);
    }
    if (after) {
      where.push('(created_at, scan_id) < (?, ?)');
      params.push(after.createdAt, after.scanId);
    }
    const sql =
      `SELECT record FROM scans ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ` +
      'ORDER BY created_at DESC, scan_id DESC LIMIT ?';
    // One row more than the page tells whether a next page exists without an empty last page.
    const rows = this.db.read(
      () => this.db.prepare(sql).all(...params, query.limit + 1) as { record: string }[],
    );
    const items = rows.slice(0, query.limit).map((row) => JSON.parse(row.record) as ScanRecord);
    const last = items.at(-1);
    return {
      items,
      nextToken: rows.length > query.limit && last ? encodeToken(last) : null,
    };
  }

  async findByCallbackId(callbackId: string, since: string): Promise<ScanRecord | null> {
    await Promise.resolve();
    const row = this.db.read(
      () =>
        this.db
          .prepare(
            `SELECT record FROM scans WHERE callback_id = ? AND created_at >= ?
             ORDER BY created_at DESC, scan_id DESC LIMIT 1`,
          )
          .get(callbackId, since) as { record: string } | undefined,
    );
    return row ? (JSON.parse(row.record) as ScanRecord) : null;
  }

  async transition(
    scanId: string,
    fromStates: readonly ScanState[],
    patch: TransitionPatch,
  ): Promise<ScanRecord | null> {
    await Promise.resolve();
    return this.db.tx(() => {
      const current = this.load(scanId)?.scan;
      if (!current || !fromStates.includes(current.state)) return null;
      const { counts, ...fields } = patch;
      // An explicit undefined in the patch means "not given", as it does for the other adapters.
      const next: ScanRecord = {
        ...current,
        ...stripUndefined(fields),
        counts: { ...current.counts, ...stripUndefined(counts ?? {}) },
        version: current.version + 1,
      };
      this.save(next);
      return next;
    });
  }

  async addError(scanId: string, error: ScanError): Promise<void> {
    await Promise.resolve();
    this.db.tx(() => {
      const scan = this.mustLoad(scanId).scan;
      scan.errors = [...scan.errors, boundedError(error)].slice(-MAX_SCAN_ERRORS);
      scan.errorCount += 1;
      this.save(scan);
    });
  }

  async completeTask(scanId: string, taskId: string, outcome: TaskOutcome): Promise<TaskCompletion> {
    await Promise.resolve();
    const now = this.clock.now();
    return this.db.tx(() => {
      const { scan, finalizeClaimed } = this.mustLoad(scanId);
      // The task row is the exactly-once record: a redelivery's insert does nothing and nothing is counted.
      const applied =
        this.db
          .prepare(
            `INSERT INTO tasks (scan_id, task_id, status, outcome, completed_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scan_id, task_id) DO NOTHING`,
          )
          .run(
            scanId,
            taskId,
            outcome.status,
            JSON.stringify({ ...outcome, error: outcome.error?.slice(0, MAX_ERROR_CHARS) }),
            now.toISOString(),
            Math.floor(now.getTime() / 1000) + this.taskRetentionSeconds,
          ).changes === 1;
      if (applied) {
        addInto(scan.counts, taskCountDelta(outcome));
        this.save(scan);
      }
      const settled = scan.counts.pagesDone + scan.counts.pagesFailed;
      const lastTask =
        scan.counts.pagesPlanned > 0 && settled === scan.counts.pagesPlanned && !finalizeClaimed;
      if (lastTask) this.db.prepare('UPDATE scans SET finalize_claimed = 1 WHERE scan_id = ?').run(scanId);
      return { applied, lastTask, scan };
    });
  }

  async addCounts(scanId: string, counts: Partial<ScanCounts>): Promise<void> {
    await Promise.resolve();
    this.db.tx(() => {
      const scan = this.mustLoad(scanId).scan;
      addInto(scan.counts, counts);
      this.save(scan);
    });
  }

  async getCursor(sensorKey: string): Promise<SensorCursor | null> {
    await Promise.resolve();
    const row = this.db.read(
      () =>
        this.db.prepare('SELECT record FROM cursors WHERE sensor_key = ?').get(sensorKey) as
          { record: string } | undefined,
    );
    return row ? (JSON.parse(row.record) as SensorCursor) : null;
  }

  async putCursor(cursor: SensorCursor, expectedVersion: number): Promise<boolean> {
    await Promise.resolve();
    return this.db.tx(() => {
      const row = this.db
        .prepare('SELECT version FROM cursors WHERE sensor_key = ?')
        .get(cursor.sensorKey) as { version: number } | undefined;
      if ((row?.version ?? 0) !== expectedVersion) return false;
      // The store numbers versions itself so every write moves the version on, whatever the caller passed.
      const stored: SensorCursor = { ...cursor, version: expectedVersion + 1 };
      this.db
        .prepare(
          `INSERT INTO cursors (sensor_key, version, record) VALUES (?, ?, ?)
           ON CONFLICT (sensor_key) DO UPDATE SET version = excluded.version, record = excluded.record`,
        )
        .run(cursor.sensorKey, stored.version, JSON.stringify(stored));
      return true;
    });
  }

  private load(scanId: string): { scan: ScanRecord; finalizeClaimed: boolean } | null {
    const row = this.db
      .prepare('SELECT record, finalize_claimed FROM scans WHERE scan_id = ?')
      .get(scanId) as ScanRow | undefined;
    return row
      ? { scan: JSON.parse(row.record) as ScanRecord, finalizeClaimed: row.finalize_claimed === 1 }
      : null;
  }

  private mustLoad(scanId: string): { scan: ScanRecord; finalizeClaimed: boolean } {
    const loaded = this.load(scanId);
    if (!loaded) throw new ScanNotFoundError(scanId);
    return loaded;
  }

  /** Rewrites the record and the columns mirroring its queried fields (scanId, createdAt and sensor never change). */
  private save(scan: ScanRecord): void {
    this.db
      .prepare('UPDATE scans SET state = ?, callback_id = ?, record = ? WHERE scan_id = ?')
      .run(scan.state, scan.callbackId, JSON.stringify(scan), scan.scanId);
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface FindingRow {
  sensor_key: string;
  finding_id: string;
  certificate_id: number | null;
  status: 'open' | 'resolved';
  content_hash: string;
  first_seen_at: string;
  last_seen_at: string;
  last_seen_scan_id: string;
  resolved_at: string | null;
  resolved_by_scan_id: string | null;
  document: Buffer;
}

/** A stored document's JSON: plain UTF-8 since schema 1's rows stopped being gzipped, gzip in older rows. */
export function documentText(stored: Buffer): string {
  // JSON text starts with '{'; a gzip member with the magic bytes 1f 8b.
  return stored[0] === 0x1f && stored[1] === 0x8b
    ? gunzipSync(stored).toString('utf8')
    : stored.toString('utf8');
}

function findingFromRow(row: FindingRow): StoredFinding {
  return findingFromText(row, documentText(row.document));
}

function findingFromText(row: FindingRow, text: string): StoredFinding {
  return {
    sensorKey: row.sensor_key,
    findingId: row.finding_id,
    certificateId: row.certificate_id,
    status: row.status,
    contentHash: row.content_hash,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    lastSeenScanId: row.last_seen_scan_id,
    resolvedAt: row.resolved_at,
    resolvedByScanId: row.resolved_by_scan_id,
    document: JSON.parse(text) as Finding,
  };
}

export class LocalFindingStore implements FindingStore {
  constructor(
    private readonly db: Db,
    private readonly summaryOf: ((document: Finding) => string) | null = null,
  ) {}

  async upsertFindings(
    sensorKey: string,
    scanId: string,
    seenAt: string,
    findings: readonly UpsertInput[],
  ): Promise<UpsertOutcome[]> {
    await Promise.resolve();
    assertSameSensor(sensorKey, findings);
    // One transaction per call: a crash keeps all of the call's findings or none (the task is then redelivered).
    return this.db.tx(() => {
      const select = this.db.prepare(
        `SELECT status, content_hash, last_seen_scan_id, first_seen_at FROM findings
         WHERE sensor_key = ? AND finding_id = ?`,
      );
      const write = this.db.prepare(
        `INSERT INTO findings (sensor_key, finding_id, certificate_id, status, content_hash, first_seen_at,
           last_seen_at, last_seen_scan_id, resolved_at, resolved_by_scan_id, document, summary)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (sensor_key, finding_id) DO UPDATE SET certificate_id = excluded.certificate_id,
           status = excluded.status, content_hash = excluded.content_hash, first_seen_at = excluded.first_seen_at,
           last_seen_at = excluded.last_seen_at, last_seen_scan_id = excluded.last_seen_scan_id,
           resolved_at = excluded.resolved_at, resolved_by_scan_id = excluded.resolved_by_scan_id,
           document = excluded.document, summary = excluded.summary`,
      );
      return findings.map((input) => {
        const row = select.get(sensorKey, input.findingId) as
          Pick<FindingRow, 'status' | 'content_hash' | 'last_seen_scan_id' | 'first_seen_at'> | undefined;
        const current = row
          ? {
              status: row.status,
              contentHash: row.content_hash,
              lastSeenScanId: row.last_seen_scan_id,
              firstSeenAt: row.first_seen_at,
            }
          : null;
        const decision = upsertDecision(current, input.contentHash, scanId);
        if (decision.write) {
          const stored = upsertedFinding(sensorKey, scanId, seenAt, input, current);
          write.run(
            stored.sensorKey,
            stored.findingId,
            stored.certificateId,
            stored.status,
            stored.contentHash,
            stored.firstSeenAt,
            stored.lastSeenAt,
            stored.lastSeenScanId,
            stored.resolvedAt,
            stored.resolvedByScanId,
            // Plain JSON: a gzip per document was 60% of an upsert's CPU (mostly zlib's per-call setup, whatever
            // the level) and a gunzip per read; the price is rows about 2.3x larger (docs/local-state.md).
            Buffer.from(JSON.stringify(stored.document), 'utf8'),
            this.summaryOf?.(stored.document) ?? null,
          );
        }
        return decision.outcome;
      });
    });
  }

  async getFinding(sensorKey: string, findingId: string): Promise<StoredFinding | null> {
    await Promise.resolve();
    const row = this.db.read(
      () =>
        this.db
          .prepare('SELECT * FROM findings WHERE sensor_key = ? AND finding_id = ?')
          .get(sensorKey, findingId) as FindingRow | undefined,
    );
    return row ? findingFromRow(row) : null;
  }

  /**
   * The sensor's open findings counted by their `summary` projection: one index-only GROUP BY over
   * findings_summary, no document read. Rows without a projection (written before schema 2) are read once, given
   * theirs, and counted; needs the summaryOf option.
   */
  async summaries(sensorKey: string): Promise<Array<{ summary: string; count: number }>> {
    await Promise.resolve();
    const summaryOf = this.summaryOf;
    if (summaryOf === null) throw new SensorError('summaries() needs the summaryOf option of openLocalState');
    // Backfill first, a chunk per transaction, so the count below sees every open finding.
    for (;;) {
      const filled = this.db.tx(() => {
        const rows = this.db
          .prepare(
            `SELECT finding_id, document FROM findings INDEXED BY findings_summary
             WHERE sensor_key = ? AND status = 'open' AND summary IS NULL LIMIT ${FINDINGS_CHUNK}`,
          )
          .all(sensorKey) as Pick<FindingRow, 'finding_id' | 'document'>[];
        const update = this.db.prepare(
          'UPDATE findings SET summary = ? WHERE sensor_key = ? AND finding_id = ?',
        );
        for (const row of rows) {
          const document = JSON.parse(documentText(row.document)) as Finding;
          update.run(summaryOf(document), sensorKey, row.finding_id);
        }
        return rows.length;
      });
      if (filled < FINDINGS_CHUNK) break;
      await Promise.resolve();
    }
    return this.db.read(
      () =>
        this.db
          .prepare(
            `SELECT summary, count(*) AS count FROM findings INDEXED BY findings_summary
             WHERE sensor_key = ? AND status = 'open' GROUP BY summary`,
          )
          .all(sensorKey) as Array<{ summary: string; count: number }>,
    );
  }

  /**
   * The sensor's open findings as listFindings gives them, each with its document's JSON text as stored (the
   * reports' JSONL line is that text plus first_found, without serializing the document again).
   */
  async *listOpenWithText(sensorKey: string): AsyncIterable<Array<{ finding: StoredFinding; text: string }>> {
    let after = '';
    for (;;) {
      await Promise.resolve();
      const rows = this.db.read(
        () =>
          this.db
            .prepare(
              `SELECT * FROM findings WHERE sensor_key = ? AND finding_id > ? AND status = 'open'
               ORDER BY finding_id LIMIT ${FINDINGS_CHUNK}`,
            )
            .all(sensorKey, after) as FindingRow[],
      );
      if (rows.length === 0) return;
      yield rows.map((row) => {
        const text = documentText(row.document);
        return { finding: findingFromText(row, text), text };
      });
      if (rows.length < FINDINGS_CHUNK) return;
      after = rows.at(-1)!.finding_id;
    }
  }

  async *listFindings(
    sensorKey: string,
    options: { status?: 'open' | 'resolved' } = {},
  ): AsyncIterable<StoredFinding[]> {
    // Keyset pages by findingId: each page is one short read, and a write between pages cannot shift them.
    let after = '';
    for (;;) {
      await Promise.resolve();
      const rows = this.db.read(() =>
        options.status === undefined
          ? (this.db
              .prepare(
                `SELECT * FROM findings WHERE sensor_key = ? AND finding_id > ? ORDER BY finding_id LIMIT ${FINDINGS_CHUNK}`,
              )
              .all(sensorKey, after) as FindingRow[])
          : (this.db
              .prepare(
                `SELECT * FROM findings WHERE sensor_key = ? AND finding_id > ? AND status = ?
                 ORDER BY finding_id LIMIT ${FINDINGS_CHUNK}`,
              )
              .all(sensorKey, after, options.status) as FindingRow[]),
      );
      if (rows.length === 0) return;
      yield rows.map(findingFromRow);
      if (rows.length < FINDINGS_CHUNK) return;
      after = rows.at(-1)!.finding_id;
    }
  }

  /**
   * The findings of the sensor that `scanId` resolved, from the indexed columns alone (no document is read): the
   * remote run's resolutions report, without listing every resolved finding of the sensor's history.
   */
  async resolvedBy(sensorKey: string, scanId: string): Promise<Resolution[]> {
    await Promise.resolve();
    const rows = this.db.read(
      () =>
        this.db
          .prepare(
            `SELECT finding_id, certificate_id, resolved_at FROM findings
             WHERE sensor_key = ? AND status = 'resolved' AND resolved_by_scan_id = ? AND resolved_at IS NOT NULL`,
          )
          .all(sensorKey, scanId) as Pick<FindingRow, 'finding_id' | 'certificate_id' | 'resolved_at'>[],
    );
    // Sorted here: an ORDER BY finding_id made SQLite walk the primary key over every finding of the sensor
    // instead of the findings_unseen index over the resolved ones.
    rows.sort((a, b) => (a.finding_id < b.finding_id ? -1 : a.finding_id > b.finding_id ? 1 : 0));
    return rows.map((row) => ({
      findingId: row.finding_id,
      certificateId: row.certificate_id,
      sensorKey,
      resolvedAt: row.resolved_at!,
      scanId,
    }));
  }

  async *resolveUnseen(sensorKey: string, scanId: string, resolvedAt: string): AsyncIterable<Resolution[]> {
    for (;;) {
      await Promise.resolve();
      // Each chunk is one transaction over the findings_unseen index: what it resolves leaves the open set, so the
      // next chunk (or a racing caller) never sees it again, and a crash between chunks loses nothing.
      const chunk = this.db.tx(() => {
        const rows = this.db
          .prepare(
            `SELECT finding_id, certificate_id FROM findings
             WHERE sensor_key = ? AND status = 'open' AND last_seen_scan_id <> ? LIMIT ${FINDINGS_CHUNK}`,
          )
          .all(sensorKey, scanId) as Pick<FindingRow, 'finding_id' | 'certificate_id'>[];
        const resolve = this.db.prepare(
          `UPDATE findings SET status = 'resolved', resolved_at = ?, resolved_by_scan_id = ?
           WHERE sensor_key = ? AND finding_id = ?`,
        );
        return rows.map((row): Resolution => {
          resolve.run(resolvedAt, scanId, sensorKey, row.finding_id);
          return {
            findingId: row.finding_id,
            certificateId: row.certificate_id,
            sensorKey,
            resolvedAt,
            scanId,
          };
        });
      });
      if (chunk.length === 0) return;
      yield chunk;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface OutboxRow {
  batch_id: string;
  scan_id: string;
  kind: 'findings' | 'resolutions';
  count: number;
  body: Buffer;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  created_at: string;
  sent_at: string | null;
  last_error: string | null;
}

export class LocalExportOutbox implements ExportOutbox {
  constructor(
    private readonly db: Db,
    private readonly retentionSeconds: number,
  ) {}

  async putBatch(batch: ExportBatch): Promise<boolean> {
    await Promise.resolve();
    assertOutboxBodySize(batch);
    // Pending and failed batches never expire: a redrive needs the body whenever it comes.
    const expiresAt =
      batch.status === 'sent' ? expiryAfter(batch.sentAt ?? batch.createdAt, this.retentionSeconds) : null;
    return this.db.tx(
      () =>
        this.db
          .prepare(
            `INSERT INTO outbox (batch_id, scan_id, kind, count, body, status, attempts, created_at, sent_at,
               last_error, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (batch_id) DO NOTHING`,
          )
          .run(
            batch.batchId,
            batch.scanId,
            batch.kind,
            batch.count,
            Buffer.from(batch.body),
            batch.status,
            batch.attempts,
            batch.createdAt,
            batch.sentAt,
            batch.lastError?.slice(0, MAX_ERROR_CHARS) ?? null,
            expiresAt,
          ).changes === 1,
    );
  }

  async getBatch(batchId: string): Promise<ExportBatch | null> {
    await Promise.resolve();
    const row = this.db.read(
      () => this.db.prepare('SELECT * FROM outbox WHERE batch_id = ?').get(batchId) as OutboxRow | undefined,
    );
    if (!row) return null;
    return {
      batchId: row.batch_id,
      scanId: row.scan_id,
      kind: row.kind,
      count: row.count,
      body: new Uint8Array(row.body),
      status: row.status,
      attempts: row.attempts,
      createdAt: row.created_at,
      sentAt: row.sent_at,
      lastError: row.last_error,
    };
  }

  async markSent(batchId: string, sentAt: string): Promise<boolean> {
    await Promise.resolve();
    const expiresAt = expiryAfter(sentAt, this.retentionSeconds);
    return this.db.tx(
      () =>
        this.db
          .prepare(
            "UPDATE outbox SET status = 'sent', sent_at = ?, expires_at = ? WHERE batch_id = ? AND status <> 'sent'",
          )
          .run(sentAt, expiresAt, batchId).changes === 1,
    );
  }

  async markAttempt(batchId: string, error: string, final: boolean): Promise<boolean> {
    await Promise.resolve();
    // 'sent' and 'failed' are both final: a late attempt report changes neither.
    return this.db.tx(
      () =>
        this.db
          .prepare(
            `UPDATE outbox SET attempts = attempts + 1, last_error = ?,
               status = CASE WHEN ? THEN 'failed' ELSE status END
             WHERE batch_id = ? AND status = 'pending'`,
          )
          .run(error.slice(0, MAX_ERROR_CHARS), final ? 1 : 0, batchId).changes === 1,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------

export class LocalScheduleStore implements ScheduleStore {
  constructor(private readonly db: Db) {}

  async putSchedule(schedule: Schedule): Promise<void> {
    await Promise.resolve();
    this.db.tx(() =>
      this.db
        .prepare(
          `INSERT INTO schedules (schedule_id, created_at, record) VALUES (?, ?, ?)
           ON CONFLICT (schedule_id) DO UPDATE SET created_at = excluded.created_at, record = excluded.record`,
        )
        .run(schedule.scheduleId, schedule.createdAt, JSON.stringify(schedule)),
    );
  }

  async getSchedule(scheduleId: string): Promise<Schedule | null> {
    await Promise.resolve();
    const row = this.db.read(
      () =>
        this.db.prepare('SELECT record FROM schedules WHERE schedule_id = ?').get(scheduleId) as
          { record: string } | undefined,
    );
    return row ? (JSON.parse(row.record) as Schedule) : null;
  }

  /** Oldest first (by createdAt, then id), as the other adapters list them. */
  async listSchedules(): Promise<Schedule[]> {
    await Promise.resolve();
    const rows = this.db.read(
      () =>
        this.db.prepare('SELECT record FROM schedules ORDER BY created_at, schedule_id').all() as {
          record: string;
        }[],
    );
    return rows.map((row) => JSON.parse(row.record) as Schedule);
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    await Promise.resolve();
    return this.db.tx(
      () => this.db.prepare('DELETE FROM schedules WHERE schedule_id = ?').run(scheduleId).changes === 1,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------

export class LocalHostLeases implements HostLeases {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async acquire(host: string, limit: number, ttlSeconds: number): Promise<string | null> {
    await Promise.resolve();
    checkLeaseArgs(host, limit, ttlSeconds);
    const now = this.clock.now().getTime();
    return this.db.tx(() => {
      const held = new Map(
        (
          this.db
            .prepare('SELECT slot, expires_at_ms FROM leases WHERE host = ? AND slot < ?')
            .all(host, limit) as { slot: number; expires_at_ms: number }[]
        ).map((row) => [row.slot, row.expires_at_ms]),
      );
      for (let n = 0; n < limit; n++) {
        const expiresAtMs = held.get(n);
        if (expiresAtMs !== undefined && expiresAtMs > now) continue;
        const leaseId = `${n}:${randomUUID()}`;
        this.db
          .prepare(
            `INSERT INTO leases (host, slot, lease_id, expires_at_ms) VALUES (?, ?, ?, ?)
             ON CONFLICT (host, slot) DO UPDATE SET lease_id = excluded.lease_id,
               expires_at_ms = excluded.expires_at_ms`,
          )
          .run(host, n, leaseId, now + ttlSeconds * 1000);
        return leaseId;
      }
      return null;
    });
  }

  async release(host: string, leaseId: string): Promise<void> {
    await Promise.resolve();
    // Only the holder frees its slot: a stale id (its lease expired and was re-taken) matches no row.
    this.db.tx(() =>
      this.db.prepare('DELETE FROM leases WHERE host = ? AND lease_id = ?').run(host, leaseId),
    );
  }
}
