// An in-process driver of the scan pipeline for tests: the scan API, collector, page workers and finalizer over the
// memory adapters, with queues drained until idle the way SQS would deliver them (redelivery on a thrown error,
// receive counts, a dead-letter list). Export messages stay queued for the exporter; tests read their batches.
import { createCommandClient } from '#shared/keyfactor/index';
import type { Finding } from '#shared/findings/index';
import { silentLogger, type Logger } from '#shared/logging';
import { MemoryEventPublisher } from '#shared/adapters/memory/events';
import { MemoryScheduler } from '#shared/adapters/memory/scheduler';
import { MemorySecretSource } from '#shared/adapters/memory/secrets';
import {
  MemoryWorkQueue,
  type MemoryQueueName,
  type QueuedMessage,
} from '#shared/adapters/memory/work-queue';
import {
  MemoryExportOutbox,
  MemoryFindingStore,
  MemoryHostLeases,
  MemoryScanStore,
  MemoryScheduleStore,
} from '#shared/adapters/memory/scan-stores';
import {
  DEFAULT_PIPELINE_CONFIG,
  createScanApi,
  finalizeScan,
  planScan,
  processPageTask,
  readBatchRecords,
  systemClock,
  type Clock,
  type ExportBatch,
  type ExportMessage,
  type ExportOutbox,
  type PageMessage,
  type PageTask,
  type PipelineConfig,
  type ScanApi,
  type ScanDeps,
  type StartMessage,
} from '#shared/scan/index';

export interface MemoryPipelineOptions {
  clock?: Clock;
  config?: Partial<PipelineConfig>;
  logger?: Logger;
  /** Retry policy of the Command clients the pipeline builds (fast by default for tests). */
  commandRetry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Command client request timeout. */
  commandTimeoutMs?: number;
}

/** Records every batch written, so a test can prove none was written without an export message. */
class RecordingOutbox implements ExportOutbox {
  readonly written: string[] = [];
  constructor(readonly inner: MemoryExportOutbox) {}
  async putBatch(batch: ExportBatch): Promise<boolean> {
    const created = await this.inner.putBatch(batch);
    if (created) this.written.push(batch.batchId);
    return created;
  }
  getBatch(batchId: string) {
    return this.inner.getBatch(batchId);
  }
  markSent(batchId: string, sentAt: string) {
    return this.inner.markSent(batchId, sentAt);
  }
  markAttempt(batchId: string, error: string, final: boolean) {
    return this.inner.markAttempt(batchId, error, final);
  }
}

export type StepKind = 'start' | 'page' | 'finalize';

export interface StepRecord {
  queue: MemoryQueueName;
  scanId: string;
  taskId?: string;
  receiveCount: number;
  /** The handler threw; the message went back to its queue (or to the dead letters after the last attempt). */
  error?: string;
}

export interface DrainOptions {
  /** Stop after this many messages (default 100,000: a guard against loops). */
  maxSteps?: number;
  /** Called before a page task runs; throwing simulates a worker crash before any work. */
  beforePage?: (task: PageTask, receiveCount: number) => void | Promise<void>;
  /** Deliver every start and page message a second time after it succeeded (SQS at-least-once). */
  redeliverEach?: boolean;
  /** Which page queue is served first when both have messages (default: high first, as separate queues allow). */
  serve?: 'high-first' | 'fifo-normal-first';
  /** How long a page worker waits for a Command host slot (default 2 s). */
  leaseWaitMs?: number;
  /** Messages handled at once, like concurrent Lambda invocations (default 1). */
  concurrency?: number;
}

export interface MemoryPipeline {
  deps: ScanDeps;
  api: ScanApi;
  queue: MemoryWorkQueue;
  scans: MemoryScanStore;
  findings: MemoryFindingStore;
  outbox: RecordingOutbox;
  schedules: MemoryScheduleStore;
  leases: MemoryHostLeases;
  secrets: MemorySecretSource;
  events: MemoryEventPublisher;
  scheduler: MemoryScheduler;
  /** Messages that failed on every attempt, as SQS would move them to the DLQ. */
  deadLetters: Array<{ queue: MemoryQueueName; message: StartMessage | PageMessage; error: string }>;
  /** Every message handled, in order. */
  steps: StepRecord[];
  /** Handles one message (start first, then pages); false when there was none. */
  step(options?: DrainOptions): Promise<boolean>;
  /** Handles messages until the start and page queues are empty. */
  runUntilIdle(options?: DrainOptions): Promise<StepRecord[]>;
  /** Export messages queued so far, de-duplicated by batch id (left in the queue for the exporter). */
  exportMessages(scanId?: string): ExportMessage[];
  /** The outbox batches of the queued export messages. */
  exportBatches(scanId: string, kind?: ExportBatch['kind']): Promise<ExportBatch[]>;
  /** Findings in the scan's finding batches (bodies gunzipped), in batch order. */
  exportedFindings(scanId: string): Promise<Finding[]>;
  exportedResolutions(scanId: string): Promise<Array<{ findingId: string; certificateId: number | null }>>;
}

export function createMemoryPipeline(options: MemoryPipelineOptions = {}): MemoryPipeline {
  const clock = options.clock ?? systemClock;
  const queue = new MemoryWorkQueue();
  const scans = new MemoryScanStore();
  const findings = new MemoryFindingStore();
  const outbox = new RecordingOutbox(new MemoryExportOutbox());
  const schedules = new MemoryScheduleStore();
  const leases = new MemoryHostLeases(clock);
  const secrets = new MemorySecretSource();
  const events = new MemoryEventPublisher();
  const scheduler = new MemoryScheduler();
  const retry = { maxAttempts: 4, baseDelayMs: 2, maxDelayMs: 20, ...options.commandRetry };
  const deps: ScanDeps = {
    scans,
    findings,
    outbox,
    schedules,
    leases,
    queue,
    secrets,
    events,
    scheduler,
    clock,
    logger: options.logger ?? silentLogger,
    config: { ...DEFAULT_PIPELINE_CONFIG, ...options.config },
    commandClient: ({ pageSize, maxConcurrency, ...settings }) =>
      createCommandClient(settings, {
        pageSize,
        maxConcurrency,
        retry,
        ...(options.commandTimeoutMs ? { timeoutMs: options.commandTimeoutMs } : {}),
      }),
  };
  const api = createScanApi(deps);
  const deadLetters: MemoryPipeline['deadLetters'] = [];
  const steps: StepRecord[] = [];
  const redelivered = new WeakSet<object>();

  async function handle<M extends StartMessage | PageMessage>(
    name: MemoryQueueName,
    item: QueuedMessage<M>,
    run: () => Promise<unknown>,
    drain: DrainOptions,
  ): Promise<void> {
    const message = item.message;
    const record: StepRecord = {
      queue: name,
      scanId: message.type === 'start' ? message.scanId : message.task.scanId,
      receiveCount: item.receiveCount,
      ...(message.type === 'page' ? { taskId: message.task.taskId } : {}),
    };
    steps.push(record);
    try {
      await run();
      if (drain.redeliverEach && !redelivered.has(item)) {
        redelivered.add(item);
        queue.requeue(name as 'start', item as unknown as QueuedMessage<StartMessage>);
      }
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
      if (item.receiveCount >= deps.config.pageMaxAttempts) {
        deadLetters.push({ queue: name, message, error: record.error });
      } else {
        queue.requeue(name as 'start', item as unknown as QueuedMessage<StartMessage>);
      }
    }
  }

  async function step(drain: DrainOptions = {}): Promise<boolean> {
    const start = queue.receive('start');
    if (start) {
      await handle(
        'start',
        start,
        () => planScan(deps, start.message, { receiveCount: start.receiveCount }),
        drain,
      );
      return true;
    }
    const order: Array<'page-high' | 'page-normal'> =
      drain.serve === 'fifo-normal-first' ? ['page-normal', 'page-high'] : ['page-high', 'page-normal'];
    for (const name of order) {
      const page = queue.receive(name);
      if (!page) continue;
      await handle(
        name,
        page,
        async () => {
          await drain.beforePage?.(page.message.task, page.receiveCount);
          await processPageTask(
            deps,
            page.message.task,
            { receiveCount: page.receiveCount },
            { leaseWaitMs: drain.leaseWaitMs ?? 2000 },
          );
        },
        drain,
      );
      return true;
    }
    return false;
  }

  function exportMessages(scanId?: string): ExportMessage[] {
    const seen = new Set<string>();
    const out: ExportMessage[] = [];
    for (const { message } of queue.queues.export) {
      if (scanId !== undefined && message.scanId !== scanId) continue;
      if (seen.has(message.batchId)) continue;
      seen.add(message.batchId);
      out.push(message);
    }
    return out;
  }

  async function exportBatches(scanId: string, kind?: ExportBatch['kind']): Promise<ExportBatch[]> {
    const batches: ExportBatch[] = [];
    for (const message of exportMessages(scanId)) {
      const batch = await outbox.getBatch(message.batchId);
      if (!batch)
        throw new Error(`export message names batch ${message.batchId}, which is not in the outbox`);
      if (kind === undefined || batch.kind === kind) batches.push(batch);
    }
    return batches;
  }

  return {
    deps,
    api,
    queue,
    scans,
    findings,
    outbox,
    schedules,
    leases,
    secrets,
    events,
    scheduler,
    deadLetters,
    steps,
    step,
    async runUntilIdle(drain: DrainOptions = {}) {
      const before = steps.length;
      const max = drain.maxSteps ?? 100_000;
      const workers = Math.max(1, drain.concurrency ?? 1);
      let busy = 0;
      let handled = 0;
      // Each worker takes messages until the start and page queues are empty and no other worker can add more.
      const worker = async (): Promise<void> => {
        for (;;) {
          if (handled >= max) throw new Error(`the pipeline was still busy after ${max} messages`);
          busy += 1;
          let did: boolean;
          try {
            did = await step(drain);
          } finally {
            busy -= 1;
          }
          if (did) {
            handled += 1;
            continue;
          }
          if (busy === 0) return;
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      await Promise.all(Array.from({ length: workers }, worker));
      return steps.slice(before);
    },
    exportMessages,
    exportBatches,
    async exportedFindings(scanId) {
      const batches = await exportBatches(scanId, 'findings');
      return batches.flatMap((b) => readBatchRecords(b.body) as Finding[]);
    },
    async exportedResolutions(scanId) {
      const batches = await exportBatches(scanId, 'resolutions');
      return batches.flatMap(
        (b) => readBatchRecords(b.body) as Array<{ findingId: string; certificateId: number | null }>,
      );
    },
  };
}

export { finalizeScan };
