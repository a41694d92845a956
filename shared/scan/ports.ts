// Ports the scan core depends on. AWS adapters (shared/adapters/aws) and in-memory/local ones implement them, and one
// contract suite (test/support/scan-store-contract.ts) runs against each store.
import type { Label } from '#shared/findings/index';
import type {
  CommandCredentials,
  ExportBatch,
  PageTask,
  Priority,
  Resolution,
  Schedule,
  ScanError,
  ScanRecord,
  ScanState,
  SensorCursor,
  StoredFinding,
  TaskOutcome,
  UpsertOutcome,
} from './model.ts';

export interface ScanListQuery {
  state?: ScanState;
  sensorName?: string;
  limit: number;
  /** Opaque, from the previous page's nextToken. */
  nextToken?: string;
}

export interface ScanPage {
  items: ScanRecord[];
  nextToken: string | null;
}

/** The result of recording a task's completion. */
export interface TaskCompletion {
  /** False when this task's completion was already recorded (a redelivery): nothing was counted twice. */
  applied: boolean;
  /** True for exactly one caller: the one whose completion made pagesDone + pagesFailed reach pagesPlanned. */
  lastTask: boolean;
  scan: ScanRecord;
}

export interface ScanStore {
  /** Fails with ScanExistsError when the id is taken. */
  createScan(scan: ScanRecord): Promise<void>;
  getScan(scanId: string): Promise<ScanRecord | null>;
  /** Newest first. */
  listScans(query: ScanListQuery): Promise<ScanPage>;
  /** The newest scan with this callbackId created at or after `since`, for de-duplicating repeated requests. */
  findByCallbackId(callbackId: string, since: string): Promise<ScanRecord | null>;
  /**
   * Applies `patch` only when the scan's state is one of `fromStates` (an atomic check). Returns the updated record,
   * or null when the state did not match (someone else moved it first).
   */
  transition(
    scanId: string,
    fromStates: readonly ScanState[],
    patch: Partial<
      Pick<
        ScanRecord,
        'state' | 'mode' | 'effectiveQuery' | 'planMaxCertId' | 'planMinCertId' | 'startedAt' | 'finishedAt'
      >
    > & {
      /** Set (not add) these counts. */
      counts?: Partial<ScanRecord['counts']>;
    },
  ): Promise<ScanRecord | null>;
  /** Appends an error (keeping the newest 50) and bumps errorCount. */
  addError(scanId: string, error: ScanError): Promise<void>;
  /**
   * Records a page task's outcome exactly once (keyed by scanId + taskId) and adds its counts to the scan atomically:
   * done → pagesDone+1, failed → pagesFailed+1 (failedCertificates += outcome.fetched is the caller's estimate).
   */
  completeTask(scanId: string, taskId: string, outcome: TaskOutcome): Promise<TaskCompletion>;
  /** Adds to counters atomically (e.g. exportedFindings); not idempotent by itself: callers guard with the outbox. */
  addCounts(scanId: string, counts: Partial<ScanRecord['counts']>): Promise<void>;

  getCursor(sensorKey: string): Promise<SensorCursor | null>;
  /** Writes when the stored version is `expectedVersion` (0: must not exist); returns false on conflict. */
  putCursor(cursor: SensorCursor, expectedVersion: number): Promise<boolean>;
}

export interface FindingStore {
  /**
   * Upserts findings seen by `scanId` (same sensorKey). Each keeps firstSeenAt; lastSeen* is set; a resolved one is
   * reopened. Idempotent: repeating the call with the same scanId and documents changes nothing and reports
   * 'unchanged' for findings this scan already wrote. Batched (BatchWriteItem or equivalent) with retries of
   * unprocessed items.
   */
  upsertFindings(
    sensorKey: string,
    scanId: string,
    seenAt: string,
    findings: readonly Omit<
      StoredFinding,
      'status' | 'firstSeenAt' | 'lastSeenAt' | 'lastSeenScanId' | 'resolvedAt' | 'resolvedByScanId'
    >[],
  ): Promise<UpsertOutcome[]>;
  getFinding(sensorKey: string, findingId: string): Promise<StoredFinding | null>;
  /** Every finding of the sensor, in pages (for exports, tests and the remote CLI). */
  listFindings(sensorKey: string, options?: { status?: 'open' | 'resolved' }): AsyncIterable<StoredFinding[]>;
  /**
   * Marks every open finding of the sensor whose lastSeenScanId is not `scanId` as resolved at `resolvedAt` by
   * `scanId`, yielding them in chunks. Idempotent: a second call yields nothing new.
   */
  resolveUnseen(sensorKey: string, scanId: string, resolvedAt: string): AsyncIterable<Resolution[]>;
}

export interface ExportOutbox {
  /** Writes a pending batch unless one with this id exists; returns false when it existed (sent or not). */
  putBatch(batch: ExportBatch): Promise<boolean>;
  getBatch(batchId: string): Promise<ExportBatch | null>;
  /** pending → sent (only once: returns false if it was already sent). */
  markSent(batchId: string, sentAt: string): Promise<boolean>;
  /** Records a failed attempt; `final` makes it 'failed' (it went to the DLQ). Returns false if it was already final. */
  markAttempt(batchId: string, error: string, final: boolean): Promise<boolean>;
}

export interface ScheduleStore {
  putSchedule(schedule: Schedule): Promise<void>;
  getSchedule(scheduleId: string): Promise<Schedule | null>;
  listSchedules(): Promise<Schedule[]>;
  deleteSchedule(scheduleId: string): Promise<boolean>;
}

/** Limits concurrent requests to one Command host across every worker of the deployment. */
export interface HostLeases {
  /** Takes one of `limit` slots for `host` for `ttlSeconds` (an expired lease frees its slot); null when all are taken. */
  acquire(host: string, limit: number, ttlSeconds: number): Promise<string | null>;
  release(host: string, leaseId: string): Promise<void>;
}

/** Messages between the pipeline's stages (SQS in the cloud, an in-process queue locally). */
export interface StartMessage {
  type: 'start';
  scanId: string;
}
export interface PageMessage {
  type: 'page';
  task: PageTask;
}
export interface ExportMessage {
  type: 'export';
  scanId: string;
  batchId: string;
}

export interface WorkQueue {
  sendStart(message: StartMessage, priority: Priority): Promise<void>;
  /** Sends in batches (SQS allows 10 per call); high-priority tasks go to their own queue. */
  sendPages(messages: readonly PageMessage[], priority: Priority): Promise<void>;
  sendExports(messages: readonly ExportMessage[]): Promise<void>;
}

export interface SecretSource {
  /** Stores a sensor's credentials; returns the reference kept in records. */
  putCredentials(name: string, credentials: CommandCredentials): Promise<string>;
  getCredentials(ref: string): Promise<CommandCredentials>;
  deleteCredentials(ref: string): Promise<void>;
  /** The ingestion token for the exporter. */
  getIngestionToken(): Promise<string>;
}

/** Scan lifecycle events for the caller (EventBridge in the cloud). */
export interface EventPublisher {
  publish(detailType: 'ScanFinished' | 'ScanStarted', detail: Record<string, unknown>): Promise<void>;
}

/** Creates and deletes the timers that start scheduled scans (EventBridge Scheduler in the cloud). */
export interface Scheduler {
  create(schedule: Schedule): Promise<void>;
  delete(scheduleId: string): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export class ScanExistsError extends Error {
  constructor(readonly scanId: string) {
    super(`scan ${scanId} already exists`);
    this.name = 'ScanExistsError';
  }
}

export type { Resolution, StoredFinding, UpsertOutcome };

/** A scan request after validation (POST /v3/scan/create, a schedule's stored definition, or the remote config). */
export interface CreateScanInput {
  sensorName: string;
  url: string;
  queryFilter: string | null;
  credentials: CommandCredentials;
  callbackId: string | null;
  labels: Label[];
  priority: Priority;
  autoResolutionInterval?: number;
  pageSize?: number;
}

export interface CreateScheduleInput {
  name: string;
  expression: string;
  timezone?: string;
  scan: CreateScanInput;
}

/** What the API routes call; implemented by shared/scan/service.ts over the ports above. */
export interface ScanApi {
  /** `created` false: a scan with this callbackId was created within the de-duplication window and is returned. */
  createScan(
    input: CreateScanInput,
    trigger: { type: 'api' | 'schedule' | 'cli'; scheduleId?: string },
  ): Promise<{
    scan: ScanRecord;
    created: boolean;
  }>;
  getScan(scanId: string): Promise<ScanRecord | null>;
  listScans(query: ScanListQuery): Promise<ScanPage>;
  /** Moves a non-terminal scan to CANCELLED (workers then skip its tasks); returns null for an unknown id. */
  cancelScan(scanId: string): Promise<ScanRecord | null>;
  createSchedule(input: CreateScheduleInput, createdBy: string): Promise<Schedule>;
  listSchedules(): Promise<Schedule[]>;
  getSchedule(scheduleId: string): Promise<Schedule | null>;
  deleteSchedule(scheduleId: string): Promise<boolean>;
  /** Called by the scheduler's target: starts a scan from the stored definition, the same path as the API. */
  startScheduledScan(scheduleId: string): Promise<ScanRecord | null>;
}
