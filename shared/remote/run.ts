// runRemoteScan: `kfsensor -c FILE` as the Lambdas do it, in one process. The same core (createScanApi, planScan,
// processPageTask, exportBatch, finalizeScan) over the embedded state, an in-process queue, the config's credentials
// and a logging event publisher; then local_export's reports and a summary.
import path from 'node:path';
import type { RemoteScanConfig } from '#shared/config/index';
import { commandConnectionSettings } from '#shared/config/index';
import { SensorError } from '#shared/errors';
import {
  CommandAuthenticationError,
  CommandClient,
  CommandPermissionError,
  CommandTokenError,
  authFromSettings,
  type CommandAuth,
} from '#shared/keyfactor/index';
import type { Logger } from '#shared/logging';
import { exportBatch, ExportAttemptError } from '#shared/scan/exporter';
import {
  DEFAULT_PIPELINE_CONFIG,
  TERMINAL_STATES,
  composeScanQuery,
  createScanApi,
  finalizeScan,
  planScan,
  processPageTask,
  sensorKey,
  systemClock,
  type Clock,
  type CommandCredentials,
  type CreateScanInput,
  type EventPublisher,
  type HostLeases,
  type PipelineConfig,
  type ScanDeps,
  type ScanRecord,
  type ScanState,
  type Scheduler,
} from '#shared/scan/index';
import { ExportJournal } from './export-journal';
import { resolutionsOf, writeLocalExport, type LocalExportResult } from './local-export';
import {
  addSummaryFacts,
  addToRemoteSummary,
  emptyRemoteSummary,
  formatRemoteSummary,
  noProgress,
  snapshotOf,
  summarizeRemote,
  type ProgressReporter,
  type RemoteSummary,
} from './progress';
import { InProcessWorkQueue, type Stage } from './queue';
import { ConfigSecretSource } from './secrets';
import { openLocalFileState, type OpenState, type RemoteState } from './state';

/** Exit codes of `kfsensor -c` (docs/remote-scan.md). */
export const REMOTE_EXIT = {
  completed: 0,
  other: 1,
  config: 2,
  auth: 3,
  partial: 4,
  /** Interrupted (SIGINT/SIGTERM): the scan is CANCELLED, the cursor unchanged; 128 + SIGINT as shells expect. */
  cancelled: 130,
} as const;

export interface RunRemoteScanOptions {
  stateDir: string;
  signal?: AbortSignal;
  logger: Logger;
  progress?: ProgressReporter;
  /** Check the config, authenticate and run the query filter with a page size of 1; fetch nothing else. */
  dryRun?: boolean;
  /** Default: the SQLite state file in stateDir. */
  openState?: OpenState;
  clock?: Clock;
  /** Pipeline settings over the defaults (tests shorten retries). */
  pipeline?: Partial<PipelineConfig>;
  /** Command client tuning (tests: fast retries). */
  commandClient?: {
    retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
    timeoutMs?: number;
  };
  /** Wait before redelivering a failed message (default 200 ms × attempt, at least an ingestion Retry-After). */
  retryDelayMs?: (stage: Stage, receiveCount: number) => number;
  /** How long, after an interrupt, export messages already queued may still be delivered (default 10 s). */
  interruptExportGraceMs?: number;
  /** Progress polling interval (default 200 ms). */
  progressIntervalMs?: number;
  /** Ingestion client retries inside one delivery (tests: fast). */
  ingestionRetry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
}

export interface DryRunReport {
  productVersion: string | undefined;
  /** The query the first (full) scan would send, printed. */
  query: string;
  /** x-total-count of the filter. */
  matchingCertificates: number | null;
}

export interface RemoteScanOutcome {
  exitCode: number;
  /** The final scan record (null for a dry run or a failure before the scan was created). */
  scan: ScanRecord | null;
  /** True when this run finished a scan an earlier run left unfinished (a crash). */
  resumed: boolean;
  dryRun: DryRunReport | null;
  localExport: LocalExportResult | null;
  summary: RemoteSummary | null;
  /** The summary as printed at the end. */
  summaryText: string | null;
  /** Why the run failed, when it did (never a secret). */
  error: string | null;
}

const ACTIVE: readonly ScanState[] = ['PENDING', 'PLANNING', 'RUNNING', 'FINALIZING'];

export function isAuthError(error: unknown): boolean {
  return (
    error instanceof CommandAuthenticationError ||
    error instanceof CommandPermissionError ||
    error instanceof CommandTokenError
  );
}

/** The config's secrets in the scan core's shape (the record keeps only a reference to them). */
export function credentialsOf(config: RemoteScanConfig): CommandCredentials {
  const settings = commandConnectionSettings(config.keyfactor);
  const out: CommandCredentials = {};
  for (const key of [
    'username',
    'password',
    'token_url',
    'client_id',
    'client_secret',
    'scope',
    'audience',
  ] as const) {
    const value = settings[key];
    if (typeof value === 'string' && value !== '') out[key] = value;
  }
  if (settings.kerberos) {
    out.kerberos = Object.fromEntries(
      Object.entries(settings.kerberos).filter(([, v]) => v !== undefined),
    ) as NonNullable<CommandCredentials['kerberos']>;
  }
  if (settings.ca_cert) out.ca_cert = settings.ca_cert;
  return out;
}

function scanInputOf(config: RemoteScanConfig): CreateScanInput {
  return {
    sensorName: config.sensor.name,
    url: config.keyfactor.url,
    queryFilter: config.keyfactor.queryFilter,
    credentials: credentialsOf(config),
    callbackId: null,
    labels: config.sensor.labels,
    priority: 'normal',
    autoResolutionInterval: config.keyfactor.autoResolutionInterval,
    pageSize: config.keyfactor.pageSize,
  };
}

/** Events go to the log: there is no EventBridge on the operator's host. */
function loggingEvents(logger: Logger): EventPublisher {
  return {
    async publish(detailType, detail) {
      await Promise.resolve();
      logger.info(detailType === 'ScanStarted' ? 'scan started' : 'scan finished', detail);
    },
  };
}

/** Schedules are the operator's cron's job remotely; the API's schedule calls do nothing. */
const noScheduler: Scheduler = {
  async create() {
    await Promise.resolve();
  },
  async delete() {
    await Promise.resolve();
  },
};

/** The configured concurrency replaces the core's default per-host limit (the operator set it for their Command). */
function leasesWithLimit(inner: HostLeases, limit: number): HostLeases {
  return {
    acquire: (host, _limit, ttl) => inner.acquire(host, limit, ttl),
    release: (host, leaseId) => inner.release(host, leaseId),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export async function runRemoteScan(
  config: RemoteScanConfig,
  options: RunRemoteScanOptions,
): Promise<RemoteScanOutcome> {
  const logger = options.logger;
  const clock = options.clock ?? systemClock;
  const progress = options.progress ?? noProgress;
  const outcome: RemoteScanOutcome = {
    exitCode: REMOTE_EXIT.other,
    scan: null,
    resumed: false,
    dryRun: null,
    localExport: null,
    summary: null,
    summaryText: null,
    error: null,
  };
  const pipeline: PipelineConfig = {
    ...DEFAULT_PIPELINE_CONFIG,
    ingestionUrl: config.export?.url ?? null,
    ranBy: config.sensor.ranBy,
    ...options.pipeline,
  };
  // Without an ingestion URL nothing would send export batches: the page tasks do not build them.
  pipeline.buildExportBatches ??= pipeline.ingestionUrl !== null;
  /** The first refusal of our credentials any client saw: FAILED for this reason is exit 3. */
  let authFailure: unknown = null;
  // One client per connection settings for the whole run: the core asks for a client per task, but one login (an
  // OAuth2 token, a Kerberos ticket) serves every task of the run, and its resources are closed at the end.
  const clients = new Map<string, { client: CommandClient; auth: CommandAuth }>();
  const makeClient = (settings: Parameters<ScanDeps['commandClient']>[0]): CommandClient => {
    const { pageSize, maxConcurrency: _perSensor, ...connection } = settings;
    const key = JSON.stringify([connection, pageSize]);
    const cached = clients.get(key);
    if (cached) return cached.client;
    const auth = authFromSettings(connection, { logger });
    const client = new CommandClient({
      baseUrl: connection.url,
      auth,
      caCert: connection.ca_cert,
      insecureSkipTlsVerify: config.keyfactor.insecureSkipTlsVerify,
      pageSize,
      // The operator's concurrency, not the core's per-sensor default.
      maxConcurrency: config.keyfactor.concurrency,
      logger,
      ...(options.commandClient?.retry ? { retry: options.commandClient.retry } : {}),
      ...(options.commandClient?.timeoutMs ? { timeoutMs: options.commandClient.timeoutMs } : {}),
    });
    const verify = client.verifyConnection.bind(client);
    client.verifyConnection = async () => {
      try {
        return await verify();
      } catch (error) {
        if (isAuthError(error)) authFailure ??= error;
        throw error;
      }
    };
    clients.set(key, { client, auth });
    return client;
  };
  const closeClients = async () => {
    for (const { auth } of clients.values()) {
      const closable = auth as Partial<{ close(): Promise<void> }>;
      if (typeof closable.close === 'function') await closable.close().catch(() => undefined);
    }
    clients.clear();
  };

  if (options.dryRun) {
    try {
      return await dryRun(config, makeClient, pipeline, outcome, logger);
    } finally {
      await closeClients();
    }
  }

  const openState = options.openState ?? openLocalFileState;
  let state: RemoteState;
  try {
    state = await openState(options.stateDir, clock);
  } catch (error) {
    outcome.error = `cannot open the state in ${options.stateDir}: ${(error as Error).message}`;
    return outcome;
  }
  const shipping = pipeline.ingestionUrl !== null;
  const journal = new ExportJournal(
    state.location === 'memory' || !shipping
      ? null
      : path.join(path.dirname(state.location), 'export-journal.jsonl'),
  );
  const concurrency = config.keyfactor.concurrency;
  const queue = new InProcessWorkQueue({
    // Page tasks hold the Command requests; a few extra ranges in flight keep the pipe full while one analyses.
    concurrency: { start: 1, 'page-high': concurrency, 'page-normal': concurrency, export: 4 },
    maxReceiveCount: {
      start: pipeline.pageMaxAttempts,
      'page-high': pipeline.pageMaxAttempts,
      'page-normal': pipeline.pageMaxAttempts,
      export: pipeline.exportMaxAttempts,
    },
    retryDelayMs: (stage, receiveCount, error) => {
      const base = options.retryDelayMs?.(stage, receiveCount) ?? Math.min(5000, 200 * receiveCount);
      const hint = error instanceof ExportAttemptError ? (error.retryAfterMs ?? 0) : 0;
      return Math.max(base, Math.min(hint, 30_000));
    },
    logger,
    onSend: (stage, messages) => {
      if (stage === 'export' && shipping) journal.record(messages as never);
    },
    onSettled: (stage, message, how) => {
      // A dead-lettered batch stays in the journal: the next run redrives it (exportBatch retries a failed batch
      // and un-counts the failure once it is delivered), as a DLQ redrive would in the cloud.
      if (stage === 'export' && message.type === 'export' && how === 'done') journal.settle(message.batchId);
    },
  });
  const secrets = new ConfigSecretSource(config.export?.token ?? null);
  const deps: ScanDeps = {
    scans: state.scans,
    findings: state.findings,
    outbox: state.outbox,
    schedules: state.schedules,
    leases: leasesWithLimit(state.leases, concurrency),
    queue,
    secrets,
    events: loggingEvents(logger),
    scheduler: noScheduler,
    clock,
    logger,
    config: pipeline,
    commandClient: makeClient,
  };
  const ingestionOptions = {
    ingestion: {
      ...(config.export?.caCert ? { caCert: config.export.caCert.pem } : {}),
      ...(options.ingestionRetry ? { retry: options.ingestionRetry } : {}),
    },
  };
  queue.setHandlers({
    start: async ({ message, receiveCount }) => {
      await planScan(deps, message, { receiveCount });
    },
    page: async ({ message, receiveCount }) => {
      await processPageTask(deps, message.task, { receiveCount });
    },
    export: async ({ message, receiveCount }) => {
      if (!shipping) return;
      await exportBatch(deps, message, { receiveCount }, ingestionOptions);
    },
  });

  const api = createScanApi(deps);
  const input = scanInputOf(config);
  let timer: NodeJS.Timeout | null = null;
  let scanId: string | null = null;
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // Export messages an interrupted or crashed earlier run left unsent go first (sent batches are skipped).
    const leftover = journal.unsettled();
    if (leftover.length > 0) {
      logger.info('re-sending export batches an earlier run left queued', { batches: leftover.length });
      await queue.sendExports(leftover);
    }

    const key = sensorKey(input.url, input.queryFilter);
    const unfinished = await unfinishedScans(deps, key);
    let scan: ScanRecord;
    if (unfinished.length > 0) {
      // A crashed run's scan is finished, not abandoned: its stored findings may not all be exported yet, and a new
      // scan would see them as unchanged. Its start message is sent again; the core resumes from any point.
      scan = unfinished[0]!;
      for (const older of unfinished.slice(1)) await api.cancelScan(older.scanId);
      secrets.adopt(scan.sensor.credentialsRef, input.credentials);
      outcome.resumed = true;
      logger.warn('resuming a scan an earlier run left unfinished', {
        scanId: scan.scanId,
        state: scan.state,
      });
      if (scan.state === 'FINALIZING') await finalizeScan(deps, scan.scanId);
      else await queue.sendStart({ type: 'start', scanId: scan.scanId }, scan.sensor.priority);
    } else {
      scan = (await api.createScan(input, { type: 'cli' })).scan;
    }
    scanId = scan.scanId;
    const id = scanId;

    const started = Date.now();
    timer = setInterval(() => {
      void deps.scans.getScan(id).then(
        (s) => s && progress.update(snapshotOf(s, started, Date.now())),
        () => undefined,
      );
    }, options.progressIntervalMs ?? 200);
    timer.unref();

    const aborted = new Promise<void>((resolve) => {
      if (options.signal?.aborted) resolve();
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([queue.drain(), aborted]);

    if (interrupted) {
      logger.warn('interrupted: no new work is taken; in-flight work finishes, then the scan is cancelled', {
        scanId: id,
      });
      queue.stop(['start', 'page-high', 'page-normal']);
      // In-flight page tasks finish their writes (findings, outbox, completion) before the scan is cancelled.
      await Promise.race([queue.drain(), sleep(options.interruptExportGraceMs ?? 10_000)]);
      queue.stop();
      await queue.drain();
      queue.clearTimers();
      const cancelled = await api.cancelScan(id);
      outcome.scan = cancelled ?? (await deps.scans.getScan(id));
      if (outcome.scan && outcome.scan.state === 'CANCELLED') {
        outcome.exitCode = REMOTE_EXIT.cancelled;
        outcome.error = 'interrupted: the scan was cancelled; the next run covers what it did not';
      } else if (outcome.scan) {
        // It reached a terminal state (or FINALIZING, which is let finish) before the cancel.
        if (outcome.scan.state === 'FINALIZING') {
          await finalizeScan(deps, id);
          outcome.scan = await deps.scans.getScan(id);
        }
        outcome.exitCode = outcome.scan ? exitCodeOf(outcome.scan, authFailure) : REMOTE_EXIT.other;
      }
      progress.finish();
      return outcome;
    }

    const final = await deps.scans.getScan(id);
    progress.finish();
    if (!final) throw new SensorError(`scan ${id} disappeared from the state`);
    outcome.scan = final;
    if (!TERMINAL_STATES.includes(final.state)) {
      outcome.error = `the pipeline went idle with the scan ${final.state}; ${queue.deadLetters.length} message(s) failed every delivery`;
      outcome.exitCode = REMOTE_EXIT.other;
      return outcome;
    }
    outcome.exitCode = exitCodeOf(final, authFailure);
    if (final.state === 'FAILED') outcome.error = final.errors[0]?.message ?? 'the scan failed';
    if (final.state === 'COMPLETED' && final.counts.exportBatchesFailed > 0) {
      // The scan is complete but not everything reached ingestion: as partial as a failed range for the operator.
      outcome.exitCode = REMOTE_EXIT.partial;
      outcome.error = `${final.counts.exportBatchesFailed} export batch(es) were not delivered after ${pipeline.exportMaxAttempts} attempts; the next run sends them again`;
    }

    if (final.state === 'COMPLETED' || final.state === 'PARTIAL') {
      const now = clock.now();
      const counted = typeof (deps.findings as Partial<SummaryCounts>).summaries === 'function';
      if (config.localExport) {
        // Without the state's summary counts, the summary is counted from the pages the reports read.
        const summary = emptyRemoteSummary();
        outcome.localExport = await writeLocalExport(config.localExport, {
          findings: deps.findings,
          sensorKey: final.sensorKey,
          scanId: final.scanId,
          resolutions: await resolutionsOf(deps.findings, final.sensorKey, final.scanId),
          ...(counted ? {} : { onPage: (page) => addToRemoteSummary(summary, page, now) }),
        });
        outcome.summary = counted ? await summaryOf(deps, final.sensorKey, now) : summary;
        logger.info('reports written', { ...outcome.localExport.files });
      } else {
        outcome.summary = await summaryOf(deps, final.sensorKey, now);
      }
      outcome.summaryText = formatRemoteSummary(final, outcome.summary);
    } else {
      outcome.summaryText = formatRemoteSummary(final, summarizeRemote([], clock.now()));
    }
    return outcome;
  } catch (error) {
    progress.finish();
    // Whatever stage failed (reports included), the run did not do everything asked: never exit 0 here.
    outcome.exitCode = isAuthError(error) ? REMOTE_EXIT.auth : REMOTE_EXIT.other;
    outcome.error = error instanceof Error ? error.message : String(error);
    logger.error('remote scan failed', { scanId, error: outcome.error });
    return outcome;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (timer) clearInterval(timer);
    queue.stop();
    queue.clearTimers();
    try {
      journal.compact();
    } catch (error) {
      logger.warn('could not compact the export journal', { error: (error as Error).message });
    }
    await closeClients();
    await state.close();
  }
}

export function exitCodeOf(scan: ScanRecord, authFailure: unknown): number {
  switch (scan.state) {
    case 'COMPLETED':
      return REMOTE_EXIT.completed;
    case 'PARTIAL':
      return REMOTE_EXIT.partial;
    case 'CANCELLED':
      return REMOTE_EXIT.cancelled;
    case 'FAILED':
      return authFailure !== null ? REMOTE_EXIT.auth : REMOTE_EXIT.other;
    default:
      return REMOTE_EXIT.other;
  }
}

async function unfinishedScans(deps: ScanDeps, key: string): Promise<ScanRecord[]> {
  const found: ScanRecord[] = [];
  for (const state of ACTIVE) {
    let nextToken: string | undefined;
    do {
      const page = await deps.scans.listScans({ state, limit: 100, ...(nextToken ? { nextToken } : {}) });
      found.push(...page.items.filter((s) => s.sensorKey === key));
      nextToken = page.nextToken ?? undefined;
    } while (nextToken);
  }
  return found.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** A store that counts open findings by their summary facts without reading documents (the SQLite state). */
interface SummaryCounts {
  summaries(sensorKey: string): Promise<Array<{ summary: string; count: number }>>;
}

async function summaryOf(deps: ScanDeps, key: string, now: Date): Promise<RemoteSummary> {
  const summary = emptyRemoteSummary();
  const counted = (deps.findings as Partial<SummaryCounts>).summaries;
  if (typeof counted === 'function') {
    addSummaryFacts(summary, await counted.call(deps.findings, key), now);
    return summary;
  }
  for await (const page of deps.findings.listFindings(key, { status: 'open' })) {
    addToRemoteSummary(
      summary,
      page.map((f) => f.document),
      now,
    );
  }
  return summary;
}

async function dryRun(
  config: RemoteScanConfig,
  makeClient: (settings: Parameters<ScanDeps['commandClient']>[0]) => CommandClient,
  pipeline: PipelineConfig,
  outcome: RemoteScanOutcome,
  logger: Logger,
): Promise<RemoteScanOutcome> {
  const query = composeScanQuery({
    queryFilter: config.keyfactor.queryFilter,
    mode: 'full',
    cursor: null,
    revocationOverlapSeconds: pipeline.revocationOverlapSeconds,
  }).text;
  try {
    const client = makeClient({
      ...credentialsOf(config),
      url: config.keyfactor.url,
      pageSize: 1,
      maxConcurrency: 1,
    });
    const status = await client.verifyConnection();
    logger.info('dry run: authenticated', { productVersion: status.productVersion ?? null });
    // One certificate asked for: its x-total-count checks the filter against Command without reading the inventory.
    const page = await client.getCertificatePage(1, { query: query === '' ? null : query, pageSize: 1 });
    outcome.dryRun = {
      productVersion: status.productVersion,
      query,
      matchingCertificates: page.totalCount ?? null,
    };
    outcome.exitCode = REMOTE_EXIT.completed;
  } catch (error) {
    outcome.exitCode = isAuthError(error) ? REMOTE_EXIT.auth : REMOTE_EXIT.other;
    outcome.error = error instanceof Error ? error.message : String(error);
  }
  return outcome;
}
