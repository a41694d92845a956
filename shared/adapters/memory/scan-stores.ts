// In-memory scan pipeline stores: the local/CLI runtime and the engine's tests. Every method is synchronous inside,
// so each check-and-write is atomic (the same promises the DynamoDB adapters keep with conditional writes). Records
// are cloned on the way in and out so a caller can never mutate stored state by accident.
import { randomUUID } from 'node:crypto';
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

/** Errors kept on a scan record (errorCount has the total). */
export const MAX_SCAN_ERRORS = 50;
/** Characters kept of an error message in a record: 50 errors must fit a DynamoDB item with room to spare. */
export const MAX_ERROR_CHARS = 2000;
/** Findings per chunk yielded by resolveUnseen and per page of listFindings. */
export const FINDINGS_CHUNK = 100;
/**
 * Largest gzip body an outbox batch may carry: a DynamoDB item is at most 400 KB, and the rest of the item needs
 * room. Both adapters enforce it so a batch that fits locally also fits in the cloud.
 */
export const OUTBOX_MAX_BODY_BYTES = 350 * 1024;

/** The scan a write names does not exist. */
export class ScanNotFoundError extends SensorError {
  constructor(readonly scanId: string) {
    super(`scan ${scanId} not found`);
  }
}

/** An export batch's body is too large for the outbox. */
export class OutboxBatchTooLargeError extends SensorError {}

export type UpsertInput = Parameters<FindingStore['upsertFindings']>[3][number];
export type TransitionPatch = Parameters<ScanStore['transition']>[2];

const clone = <T>(value: T): T => structuredClone(value);

export function assertOutboxBodySize(batch: ExportBatch): void {
  if (batch.body.byteLength > OUTBOX_MAX_BODY_BYTES)
    throw new OutboxBatchTooLargeError(
      `export batch ${batch.batchId} body is ${batch.body.byteLength} bytes; the outbox accepts at most ` +
        `${OUTBOX_MAX_BODY_BYTES} (split it into smaller batches)`,
    );
}

/** Adds a task outcome's counts (shared by both adapters so they agree on the arithmetic). */
/** A copy of the error with its message cut to MAX_ERROR_CHARS (both adapters store the same). */
export function boundedError(error: ScanError): ScanError {
  return { where: error.where, message: error.message.slice(0, MAX_ERROR_CHARS), at: error.at };
}

export function taskCountDelta(outcome: TaskOutcome): Partial<ScanCounts> {
  const done = outcome.status === 'done';
  return {
    pagesDone: done ? 1 : 0,
    pagesFailed: done ? 0 : 1,
    // A failed task's `fetched` is the caller's estimate of the certificates it could not read.
    fetchedCertificates: done ? outcome.fetched : 0,
    failedCertificates: done ? 0 : outcome.fetched,
    analysedCertificates: outcome.analysed,
    rejectedCertificates: outcome.rejected,
    changedFindings: outcome.changed,
    exportBatchesPlanned: outcome.exportBatches,
  };
}

/** The upsert decision for one finding given what is stored (null: absent). Shared by both adapters. */
export function upsertDecision(
  current: Pick<StoredFinding, 'status' | 'contentHash' | 'lastSeenScanId'> | null,
  incomingHash: string,
  scanId: string,
): { outcome: UpsertOutcome; write: boolean } {
  if (!current) return { outcome: 'created', write: true };
  if (current.status === 'resolved') return { outcome: 'reopened', write: true };
  // Already written by this scan: a redelivered task; writing again would change nothing.
  if (current.lastSeenScanId === scanId) return { outcome: 'unchanged', write: false };
  if (current.contentHash !== incomingHash) return { outcome: 'changed', write: true };
  // Still written so lastSeen* says this scan saw it (auto-resolution relies on it).
  return { outcome: 'unchanged', write: true };
}

/** The stored form of an upserted finding, keeping firstSeenAt of the current one. */
export function upsertedFinding(
  sensorKey: string,
  scanId: string,
  seenAt: string,
  input: UpsertInput,
  current: Pick<StoredFinding, 'firstSeenAt'> | null,
): StoredFinding {
  return {
    sensorKey,
    findingId: input.findingId,
    certificateId: input.certificateId,
    status: 'open',
    contentHash: input.contentHash,
    firstSeenAt: current?.firstSeenAt ?? seenAt,
    lastSeenAt: seenAt,
    lastSeenScanId: scanId,
    resolvedAt: null,
    resolvedByScanId: null,
    document: input.document,
  };
}

export function assertSameSensor(sensorKey: string, findings: readonly UpsertInput[]): void {
  for (const finding of findings) {
    if (finding.sensorKey !== sensorKey)
      throw new InputError(
        `finding ${finding.findingId} belongs to sensor ${finding.sensorKey}, not ${sensorKey}`,
      );
  }
}

function compareNewestFirst(a: ScanRecord, b: ScanRecord): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.scanId < b.scanId ? 1 : a.scanId > b.scanId ? -1 : 0;
}

interface MemoryScanToken {
  createdAt: string;
  scanId: string;
}

function decodeMemoryToken(token: string): MemoryScanToken {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as MemoryScanToken).createdAt === 'string' &&
      typeof (parsed as MemoryScanToken).scanId === 'string'
    )
      return parsed as MemoryScanToken;
  } catch {
    // Falls through to the InputError below.
  }
  throw new InputError(
    'nextToken is not a scan list token (pass the nextToken of the previous page unchanged)',
  );
}

export function checkListLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new InputError(`limit must be an integer from 1 to 1000, got ${limit}`);
}

export class MemoryScanStore implements ScanStore {
  private readonly scans = new Map<string, ScanRecord>();
  /** taskIds recorded per scan: completeTask counts each once. */
  private readonly tasks = new Map<string, Set<string>>();
  /** Scans whose last task has been reported (lastTask given to exactly one caller). */
  private readonly finalizeClaimed = new Set<string>();
  private readonly cursors = new Map<string, SensorCursor>();

  async createScan(scan: ScanRecord): Promise<void> {
    await Promise.resolve();
    if (this.scans.has(scan.scanId)) throw new ScanExistsError(scan.scanId);
    this.scans.set(scan.scanId, clone(scan));
  }

  async getScan(scanId: string): Promise<ScanRecord | null> {
    await Promise.resolve();
    const scan = this.scans.get(scanId);
    return scan ? clone(scan) : null;
  }

  async listScans(query: ScanListQuery): Promise<ScanPage> {
    await Promise.resolve();
    checkListLimit(query.limit);
    const after = query.nextToken === undefined ? null : decodeMemoryToken(query.nextToken);
    const sorted = [...this.scans.values()]
      .filter((scan) => query.state === undefined || scan.state === query.state)
      .filter((scan) => query.sensorName === undefined || scan.sensor.sensorName === query.sensorName)
      .sort(compareNewestFirst);
    const start =
      after === null
        ? 0
        : sorted.findIndex(
            (scan) =>
              scan.createdAt < after.createdAt ||
              (scan.createdAt === after.createdAt && scan.scanId < after.scanId),
          );
    const rest = start < 0 ? [] : sorted.slice(start);
    const items = rest.slice(0, query.limit);
    const last = items.at(-1);
    const nextToken =
      rest.length > query.limit && last
        ? Buffer.from(JSON.stringify({ createdAt: last.createdAt, scanId: last.scanId })).toString(
            'base64url',
          )
        : null;
    return { items: items.map(clone), nextToken };
  }

  async findByCallbackId(callbackId: string, since: string): Promise<ScanRecord | null> {
    await Promise.resolve();
    const match = [...this.scans.values()]
      .filter((scan) => scan.callbackId === callbackId && scan.createdAt >= since)
      .sort(compareNewestFirst)[0];
    return match ? clone(match) : null;
  }

  async transition(
    scanId: string,
    fromStates: readonly ScanState[],
    patch: TransitionPatch,
  ): Promise<ScanRecord | null> {
    await Promise.resolve();
    const scan = this.scans.get(scanId);
    if (!scan || !fromStates.includes(scan.state)) return null;
    const { counts, ...fields } = patch;
    // An explicit undefined in the patch means "not given", as it does for DynamoDB's document client.
    const next: ScanRecord = {
      ...scan,
      ...stripUndefined(clone(fields)),
      counts: { ...scan.counts, ...stripUndefined(counts ?? {}) },
      version: scan.version + 1,
    };
    this.scans.set(scanId, next);
    return clone(next);
  }

  async addError(scanId: string, error: ScanError): Promise<void> {
    await Promise.resolve();
    const scan = this.mustGet(scanId);
    scan.errors = [...scan.errors, boundedError(error)].slice(-MAX_SCAN_ERRORS);
    scan.errorCount += 1;
  }

  async completeTask(scanId: string, taskId: string, outcome: TaskOutcome): Promise<TaskCompletion> {
    await Promise.resolve();
    const scan = this.mustGet(scanId);
    const seen = this.tasks.get(scanId) ?? new Set<string>();
    this.tasks.set(scanId, seen);
    const applied = !seen.has(taskId);
    if (applied) {
      seen.add(taskId);
      addInto(scan.counts, taskCountDelta(outcome));
    }
    const settled = scan.counts.pagesDone + scan.counts.pagesFailed;
    const lastTask =
      scan.counts.pagesPlanned > 0 &&
      settled === scan.counts.pagesPlanned &&
      !this.finalizeClaimed.has(scanId);
    if (lastTask) this.finalizeClaimed.add(scanId);
    return { applied, lastTask, scan: clone(scan) };
  }

  async addCounts(scanId: string, counts: Partial<ScanCounts>): Promise<void> {
    await Promise.resolve();
    addInto(this.mustGet(scanId).counts, counts);
  }

  async getCursor(sensorKey: string): Promise<SensorCursor | null> {
    await Promise.resolve();
    const cursor = this.cursors.get(sensorKey);
    return cursor ? clone(cursor) : null;
  }

  async putCursor(cursor: SensorCursor, expectedVersion: number): Promise<boolean> {
    await Promise.resolve();
    const current = this.cursors.get(cursor.sensorKey);
    if ((current?.version ?? 0) !== expectedVersion) return false;
    // The store numbers versions itself so every write moves the version on, whatever the caller passed.
    this.cursors.set(cursor.sensorKey, { ...clone(cursor), version: expectedVersion + 1 });
    return true;
  }

  private mustGet(scanId: string): ScanRecord {
    const scan = this.scans.get(scanId);
    if (!scan) throw new ScanNotFoundError(scanId);
    return scan;
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function addInto(target: ScanCounts, delta: Partial<ScanCounts>): void {
  for (const [key, value] of Object.entries(delta) as [keyof ScanCounts, number | undefined][]) {
    if (value !== undefined) target[key] += value;
  }
}

export class MemoryFindingStore implements FindingStore {
  private readonly bySensor = new Map<string, Map<string, StoredFinding>>();

  async upsertFindings(
    sensorKey: string,
    scanId: string,
    seenAt: string,
    findings: readonly UpsertInput[],
  ): Promise<UpsertOutcome[]> {
    await Promise.resolve();
    assertSameSensor(sensorKey, findings);
    const stored = this.partition(sensorKey);
    return findings.map((input) => {
      const current = stored.get(input.findingId) ?? null;
      const { outcome, write } = upsertDecision(current, input.contentHash, scanId);
      if (write)
        stored.set(input.findingId, clone(upsertedFinding(sensorKey, scanId, seenAt, input, current)));
      return outcome;
    });
  }

  async getFinding(sensorKey: string, findingId: string): Promise<StoredFinding | null> {
    await Promise.resolve();
    const finding = this.bySensor.get(sensorKey)?.get(findingId);
    return finding ? clone(finding) : null;
  }

  async *listFindings(
    sensorKey: string,
    options: { status?: 'open' | 'resolved' } = {},
  ): AsyncIterable<StoredFinding[]> {
    const all = [...(this.bySensor.get(sensorKey)?.values() ?? [])]
      .filter((finding) => options.status === undefined || finding.status === options.status)
      .sort((a, b) => (a.findingId < b.findingId ? -1 : 1));
    for (let i = 0; i < all.length; i += FINDINGS_CHUNK) {
      await Promise.resolve();
      yield all.slice(i, i + FINDINGS_CHUNK).map(clone);
    }
  }

  async *resolveUnseen(sensorKey: string, scanId: string, resolvedAt: string): AsyncIterable<Resolution[]> {
    await Promise.resolve();
    const candidates = [...(this.bySensor.get(sensorKey)?.keys() ?? [])].sort();
    let chunk: Resolution[] = [];
    for (const findingId of candidates) {
      const finding = this.bySensor.get(sensorKey)?.get(findingId);
      // Re-checked at write time, like the DynamoDB condition: a racing call resolves each finding once.
      if (!finding || finding.status !== 'open' || finding.lastSeenScanId === scanId) continue;
      finding.status = 'resolved';
      finding.resolvedAt = resolvedAt;
      finding.resolvedByScanId = scanId;
      chunk.push({ findingId, certificateId: finding.certificateId, sensorKey, resolvedAt, scanId });
      if (chunk.length === FINDINGS_CHUNK) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  private partition(sensorKey: string): Map<string, StoredFinding> {
    let stored = this.bySensor.get(sensorKey);
    if (!stored) {
      stored = new Map();
      this.bySensor.set(sensorKey, stored);
    }
    return stored;
  }
}

export class MemoryExportOutbox implements ExportOutbox {
  private readonly batches = new Map<string, ExportBatch>();

  async putBatch(batch: ExportBatch): Promise<boolean> {
    await Promise.resolve();
    assertOutboxBodySize(batch);
    if (this.batches.has(batch.batchId)) return false;
    this.batches.set(batch.batchId, clone(batch));
    return true;
  }

  async getBatch(batchId: string): Promise<ExportBatch | null> {
    await Promise.resolve();
    const batch = this.batches.get(batchId);
    return batch ? clone(batch) : null;
  }

  async markSent(batchId: string, sentAt: string): Promise<boolean> {
    await Promise.resolve();
    const batch = this.batches.get(batchId);
    if (!batch || batch.status === 'sent') return false;
    batch.status = 'sent';
    batch.sentAt = sentAt;
    return true;
  }

  async markAttempt(batchId: string, error: string, final: boolean): Promise<boolean> {
    await Promise.resolve();
    const batch = this.batches.get(batchId);
    // 'sent' and 'failed' are both final: a late attempt report changes neither.
    if (!batch || batch.status !== 'pending') return false;
    batch.attempts += 1;
    batch.lastError = error;
    if (final) batch.status = 'failed';
    return true;
  }
}

export class MemoryScheduleStore implements ScheduleStore {
  private readonly schedules = new Map<string, Schedule>();

  async putSchedule(schedule: Schedule): Promise<void> {
    await Promise.resolve();
    this.schedules.set(schedule.scheduleId, clone(schedule));
  }

  async getSchedule(scheduleId: string): Promise<Schedule | null> {
    await Promise.resolve();
    const schedule = this.schedules.get(scheduleId);
    return schedule ? clone(schedule) : null;
  }

  /** Oldest first (by createdAt, then id), the order the DynamoDB adapter's index gives. */
  async listSchedules(): Promise<Schedule[]> {
    await Promise.resolve();
    return [...this.schedules.values()]
      .sort((a, b) =>
        a.createdAt !== b.createdAt
          ? a.createdAt < b.createdAt
            ? -1
            : 1
          : a.scheduleId < b.scheduleId
            ? -1
            : 1,
      )
      .map(clone);
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    await Promise.resolve();
    return this.schedules.delete(scheduleId);
  }
}

export function checkLeaseArgs(host: string, limit: number, ttlSeconds: number): void {
  if (host === '') throw new InputError('lease host must not be empty');
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new InputError(`lease limit must be an integer from 1 to 100, got ${limit}`);
  if (!(ttlSeconds > 0)) throw new InputError(`lease ttlSeconds must be positive, got ${ttlSeconds}`);
}

export class MemoryHostLeases implements HostLeases {
  /** host → slot → lease. */
  private readonly slots = new Map<string, Map<number, { leaseId: string; expiresAtMs: number }>>();

  constructor(private readonly clock: Clock = systemClock) {}

  async acquire(host: string, limit: number, ttlSeconds: number): Promise<string | null> {
    await Promise.resolve();
    checkLeaseArgs(host, limit, ttlSeconds);
    const now = this.clock.now().getTime();
    let slots = this.slots.get(host);
    if (!slots) {
      slots = new Map();
      this.slots.set(host, slots);
    }
    for (let n = 0; n < limit; n++) {
      const held = slots.get(n);
      if (held && held.expiresAtMs > now) continue;
      const leaseId = `${n}:${randomUUID()}`;
      slots.set(n, { leaseId, expiresAtMs: now + ttlSeconds * 1000 });
      return leaseId;
    }
    return null;
  }

  async release(host: string, leaseId: string): Promise<void> {
    await Promise.resolve();
    const slots = this.slots.get(host);
    if (!slots) return;
    for (const [n, held] of slots) {
      // Only the holder frees its slot: a stale id (its lease expired and was re-taken) is a no-op.
      if (held.leaseId === leaseId) slots.delete(n);
    }
  }
}

/** The five memory stores, sharing one clock. */
export function createMemoryScanStores(clock: Clock = systemClock): {
  scans: MemoryScanStore;
  findings: MemoryFindingStore;
  outbox: MemoryExportOutbox;
  schedules: MemoryScheduleStore;
  leases: MemoryHostLeases;
} {
  return {
    scans: new MemoryScanStore(),
    findings: new MemoryFindingStore(),
    outbox: new MemoryExportOutbox(),
    schedules: new MemoryScheduleStore(),
    leases: new MemoryHostLeases(clock),
  };
}
