// The scan pipeline's records: what a scan is, its page tasks, the per-sensor cursor, stored findings, export batches.
import type { Finding, Label } from '#shared/findings/index';
import type { KerberosSettings } from '#shared/keyfactor/kerberos';

export const SCAN_STATES = [
  'PENDING', // created, start message queued
  'PLANNING', // collector is authenticating and splitting the result set
  'RUNNING', // page tasks in flight
  'FINALIZING', // last task done; resolving, advancing the cursor (exactly one finalizer gets here)
  'COMPLETED',
  'PARTIAL', // some page tasks failed after retries; errors name them; cursor not advanced
  'FAILED',
  'CANCELLED',
] as const;
export type ScanState = (typeof SCAN_STATES)[number];
export const TERMINAL_STATES: readonly ScanState[] = ['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'];

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export type ScanMode = 'full' | 'incremental';
export type ScanTrigger = 'api' | 'schedule' | 'cli';

export const DEFAULT_AUTO_RESOLUTION_INTERVAL = 5;
export const DEFAULT_PAGE_SIZE = 1000;

/**
 * What to scan and as whom: everything of a scan request except the secrets, which live behind `credentialsRef`
 * (a Secrets Manager ARN in the cloud, an environment/config reference locally).
 */
export interface SensorDefinition {
  sensorName: string;
  /** Command's API root, e.g. https://command.example.com/KeyfactorAPI */
  url: string;
  /** The user's base filter in Command's query language, as given (null: every certificate). */
  queryFilter: string | null;
  authMethod: 'basic' | 'oauth2' | 'kerberos';
  credentialsRef: string;
  labels: Label[];
  priority: Priority;
  autoResolutionInterval: number;
  pageSize: number;
  /** Requests in flight to this Command host at once, across all workers of the deployment. */
  hostConcurrency: number;
}

/** Secrets of one sensor, as stored in the secret source (never in a table, log or response). */
export interface CommandCredentials {
  username?: string;
  password?: string;
  token_url?: string;
  client_id?: string;
  client_secret?: string;
  scope?: string;
  audience?: string;
  /** Kerberos (SPNEGO); remote scans only (the HTTP API does not accept it). Passed through to commandClient. */
  kerberos?: KerberosSettings;
  ca_cert?: string;
}

export interface ScanCounts {
  /** x-total-count of the planned result set when the scan was planned. */
  plannedCertificates: number;
  fetchedCertificates: number;
  analysedCertificates: number;
  /** Certificate objects Command returned that failed validation (still counted, never dropped silently). */
  rejectedCertificates: number;
  /** Certificates in page tasks that failed after every retry (PARTIAL). */
  failedCertificates: number;
  /** Findings created, changed or reopened by this scan (the ones exported). */
  changedFindings: number;
  resolvedFindings: number;
  exportedFindings: number;
  exportedResolutions: number;
  exportBatchesPlanned: number;
  exportBatchesSent: number;
  exportBatchesFailed: number;
  pagesPlanned: number;
  pagesDone: number;
  pagesFailed: number;
}

export const ZERO_COUNTS: ScanCounts = {
  plannedCertificates: 0,
  fetchedCertificates: 0,
  analysedCertificates: 0,
  rejectedCertificates: 0,
  failedCertificates: 0,
  changedFindings: 0,
  resolvedFindings: 0,
  exportedFindings: 0,
  exportedResolutions: 0,
  exportBatchesPlanned: 0,
  exportBatchesSent: 0,
  exportBatchesFailed: 0,
  pagesPlanned: 0,
  pagesDone: 0,
  pagesFailed: 0,
};

export interface ScanError {
  /** 'plan' | 'page:<taskId>' | 'export:<batchId>' | 'finalize' */
  where: string;
  message: string;
  at: string;
}

export interface ScanRecord {
  scanId: string;
  /** sensorKey(url, queryFilter): the cursor and findings belong to it. */
  sensorKey: string;
  sensor: SensorDefinition;
  callbackId: string | null;
  trigger: ScanTrigger;
  /** Set when a schedule started the scan. */
  scheduleId: string | null;
  state: ScanState;
  /** Decided by the collector; null before planning. */
  mode: ScanMode | null;
  /** The query actually sent to Command (user filter AND incremental condition), printed. */
  effectiveQuery: string | null;
  /** Highest CertId covered by the plan: the cursor candidate when the scan completes. */
  planMaxCertId: number | null;
  /**
   * Lowest CertId of the plan. With planMaxCertId and counts.pagesPlanned it determines the page ranges, so a
   * redelivered start message can re-send exactly the recorded plan's tasks. Optional: absent on older records.
   */
  planMinCertId?: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  counts: ScanCounts;
  /** Bounded (newest 50); `errorCount` has the total. */
  errors: ScanError[];
  errorCount: number;
  /** Unix seconds: when the record may be deleted (DynamoDB TTL). */
  expiresAt: number;
  version: number;
}

/**
 * A page task: one range of CertIds of the planned query. Ranges are disjoint and CertIds never change, so a
 * certificate present for the whole scan falls in exactly one range however Command's data moves meanwhile;
 * inside a range the worker pages by keyset (`CertId -gt <last>`), which deletions cannot shift.
 */
export interface PageTask {
  scanId: string;
  /** Deterministic: `r<lo>-<hi>`; completion is recorded once per id. */
  taskId: string;
  /** Inclusive CertId bounds. */
  lo: number;
  hi: number;
  priority: Priority;
}

export interface TaskOutcome {
  status: 'done' | 'failed';
  fetched: number;
  analysed: number;
  rejected: number;
  changed: number;
  /** Export batches this task queued. */
  exportBatches: number;
  error?: string;
}

/** Per sensor: how far incremental scans have come. Written only by a COMPLETED scan. */
export interface SensorCursor {
  sensorKey: string;
  url: string;
  queryFilter: string | null;
  /** Highest CertId seen by a completed scan. */
  maxCertId: number;
  /** When the last completed scan was planned: revocations on or after (this - overlap) are re-fetched. */
  lastScanStartedAt: string;
  /** Completed scans since (and including) the last full one; a full scan is due when it reaches the interval. */
  scansSinceFull: number;
  lastFullScanId: string | null;
  lastScanId: string;
  version: number;
}

export type FindingStatus = 'open' | 'resolved';

/** A finding as the store keeps it, keyed by (sensorKey, findingId = SHA-256 of the DER). */
export interface StoredFinding {
  sensorKey: string;
  findingId: string;
  certificateId: number | null;
  status: FindingStatus;
  /** Hash of the finding's content without run timestamps: a change means it is exported again. */
  contentHash: string;
  firstSeenAt: string;
  lastSeenAt: string;
  lastSeenScanId: string;
  resolvedAt: string | null;
  resolvedByScanId: string | null;
  document: Finding;
}

/** What an upsert did: only 'created', 'changed' and 'reopened' are exported. */
export type UpsertOutcome = 'created' | 'changed' | 'reopened' | 'unchanged';

export interface Resolution {
  findingId: string;
  certificateId: number | null;
  sensorKey: string;
  resolvedAt: string;
  scanId: string;
}

/** One ingestion request's worth of records: written to the outbox first, so a crash leads to a resend. */
export interface ExportBatch {
  /** Deterministic: `<scanId>.<taskId>.<n>` / `<scanId>.resolve.<n>`; the receiver de-duplicates on it. */
  batchId: string;
  scanId: string;
  kind: 'findings' | 'resolutions';
  /** Records in the batch. */
  count: number;
  /** gzip of the JSON lines of the records. */
  body: Uint8Array;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  createdAt: string;
  sentAt: string | null;
  lastError: string | null;
}

export interface Schedule {
  scheduleId: string;
  name: string;
  /** EventBridge Scheduler expression: `cron(...)` or `rate(...)`. */
  expression: string;
  timezone: string;
  sensor: SensorDefinition;
  enabled: boolean;
  createdAt: string;
  createdBy: string;
}
