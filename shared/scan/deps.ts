// Everything the scan core needs, passed in once: the ports, the clock, the logger and the pipeline's settings.
import type { CommandClient, CommandConnectionSettings } from '#shared/keyfactor/index';
import type { CommandContextStore } from '#shared/license/ports';
import type { Logger } from '#shared/logging';
import type {
  Clock,
  EventPublisher,
  ExportOutbox,
  FindingStore,
  HostLeases,
  ScanStore,
  ScheduleStore,
  Scheduler,
  SecretSource,
  WorkQueue,
} from './ports.ts';

export interface PipelineConfig {
  /** Where the exporter ships batches; null disables shipping (batches stay in the outbox as pending). */
  ingestionUrl: string | null;
  /**
   * false: page tasks build no export batches (default true). The remote CLI without an export plugin sets it:
   * nothing would ever send those batches, and building them (JSON + gzip of every changed finding) was ~15% of
   * a full scan's CPU.
   */
  buildExportBatches?: boolean;
  sensorVersion: string;
  /** Who runs the sensor (export header `ran_by`); the deployment's name in the cloud, $USER remotely. */
  ranBy: string;
  /** Attempts of a page task before it is recorded as failed (SQS maxReceiveCount in the cloud). */
  pageMaxAttempts: number;
  /** Attempts of an export batch before it goes to the DLQ and the scan says so. */
  exportMaxAttempts: number;
  exportBatchMaxRecords: number;
  /** Uncompressed bytes of one batch (the gzip body must also fit the outbox item). */
  exportBatchMaxBytes: number;
  /** How far back the incremental revocation window reaches before the last scan's start, in seconds. */
  revocationOverlapSeconds: number;
  /** A callbackId repeated within this many seconds returns the existing scan. */
  callbackDedupSeconds: number;
  /** Scan records expire (DynamoDB TTL) this many days after creation. */
  scanRetentionDays: number;
}

export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = {
  ingestionUrl: null,
  sensorVersion: '0.1.0',
  ranBy: 'keyfactor-command-sensor',
  pageMaxAttempts: 3,
  exportMaxAttempts: 5,
  exportBatchMaxRecords: 500,
  exportBatchMaxBytes: 4 * 1024 * 1024,
  revocationOverlapSeconds: 24 * 3600,
  callbackDedupSeconds: 15 * 60,
  scanRetentionDays: 90,
};

export interface ScanDeps {
  scans: ScanStore;
  findings: FindingStore;
  outbox: ExportOutbox;
  schedules: ScheduleStore;
  leases: HostLeases;
  queue: WorkQueue;
  secrets: SecretSource;
  events: EventPublisher;
  scheduler: Scheduler;
  clock: Clock;
  logger: Logger;
  config: PipelineConfig;
  /** Builds the Command client for a sensor (tests pass CA bundles, retry policies and fault-friendly timeouts). */
  commandClient: (
    settings: CommandConnectionSettings & { pageSize: number; maxConcurrency: number },
  ) => CommandClient;
  /** POSTs one gzip batch to ingestion; injected so the remote CLI and Lambdas share it (shared/export/ingestion). */
  fetch?: typeof globalThis.fetch;
  /** Where the collector keeps each sensor's Command context (collections, alerts, workflows) for the licence count. */
  contexts?: CommandContextStore;
}
