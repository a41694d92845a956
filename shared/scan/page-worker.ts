// The page worker: one CertId range of a scan, fetched by keyset, analysed, stored idempotently, queued for export.
import { analyseCertificate, type AnalysisContext, type Finding } from '#shared/findings/index';
import {
  CommandError,
  CommandResponseError,
  CommandUnavailableError,
  type CommandCertificate,
  type CommandClient,
  type RejectedCertificate,
} from '#shared/keyfactor/index';
import { InputError } from '#shared/errors';
import type { ScanDeps } from './deps.ts';
import { HostBusyError } from './errors.ts';
import { batchIdFor, buildExportBatches, readBatchRecords } from './export-batches.ts';
import { allPagesSettled, finalizeScan, putAndAnnounceBatches } from './finalizer.ts';
import { findingContentHash } from './keys.ts';
import type { ExportBatch, PageTask, ScanRecord, TaskOutcome, UpsertOutcome } from './model.ts';
import { rangePageQuery } from './plan.ts';

/** A lease covers one Command request; this long it outlives a worker that died holding it. */
export const LEASE_TTL_SECONDS = 120;

export interface PageWorkerOptions {
  /** How long to wait for a free request slot on the Command host before giving the task back. Default 20 s. */
  leaseWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export type PageTaskAction =
  /** The scan is cancelled, finished or unknown: acknowledged without work. */
  | 'skipped'
  | 'done'
  /** Recorded as failed (last attempt, or an error retrying cannot fix); the scan will end PARTIAL or FAILED. */
  | 'failed';

export interface PageTaskResult {
  action: PageTaskAction;
  outcome: TaskOutcome | null;
  /** False when the task's completion had been recorded before (a redelivery). */
  applied: boolean;
}

interface RangeWork {
  fetched: number;
  rejected: number;
  findings: Finding[];
  certificateIds: Map<string, number>;
}

/** Finding reads in flight at once while stamping first_found. */
const FIRST_FOUND_READS = 25;

const EXPORTED: ReadonlySet<UpsertOutcome> = new Set(['created', 'changed', 'reopened']);

/**
 * Processes one page task. Order keeps "nothing lost": findings and export batches are written before the task's
 * completion is recorded, so a crash anywhere leads to a redelivery that redoes the work (findings are idempotent,
 * batch ids deterministic). Transient failures throw for a redelivery; on the last attempt (or for an error that
 * retrying cannot fix) the task is recorded as failed, naming its range, so the scan can end PARTIAL.
 */
export async function processPageTask(
  deps: ScanDeps,
  task: PageTask,
  attempt: { receiveCount: number },
  options: PageWorkerOptions = {},
): Promise<PageTaskResult> {
  const scan = await deps.scans.getScan(task.scanId);
  if (!scan) {
    deps.logger.warn('page task for an unknown scan; dropped', { scanId: task.scanId, taskId: task.taskId });
    return { action: 'skipped', outcome: null, applied: false };
  }
  if (scan.state !== 'RUNNING') {
    // A crashed finalizer resumes through its last page's redelivery.
    if (scan.state === 'FINALIZING') await finalizeScan(deps, scan.scanId);
    deps.logger.info('page task of a scan that is not running; acknowledged without work', {
      scanId: scan.scanId,
      taskId: task.taskId,
      state: scan.state,
    });
    return { action: 'skipped', outcome: null, applied: false };
  }

  let outcome: TaskOutcome;
  try {
    outcome = await runTask(deps, scan, task, attempt, options);
  } catch (error) {
    const lastAttempt = attempt.receiveCount >= deps.config.pageMaxAttempts;
    const text = error instanceof Error ? error.message : String(error);
    if (!lastAttempt && isRetryable(error)) {
      deps.logger.warn('page task failed; it will be retried', {
        scanId: scan.scanId,
        taskId: task.taskId,
        receiveCount: attempt.receiveCount,
        error: text,
      });
      throw error;
    }
    const message = `CertIds ${task.lo}-${task.hi} (task ${task.taskId}) failed after ${attempt.receiveCount} attempt(s): ${text}`;
    deps.logger.error('page task failed for good', { scanId: scan.scanId, taskId: task.taskId, error: text });
    await deps.scans.addError(scan.scanId, {
      where: `page:${task.taskId}`,
      message,
      at: deps.clock.now().toISOString(),
    });
    outcome = {
      status: 'failed',
      // The estimate of the certificates not read: the plan's average per range.
      fetched: Math.round(scan.counts.plannedCertificates / Math.max(1, scan.counts.pagesPlanned)),
      analysed: 0,
      rejected: 0,
      changed: 0,
      exportBatches: 0,
      error: message,
    };
  }

  const completion = await deps.scans.completeTask(scan.scanId, task.taskId, outcome);
  if (completion.lastTask) {
    await finalizeScan(deps, scan.scanId);
  } else if (
    !completion.applied &&
    (completion.scan.state === 'RUNNING' || completion.scan.state === 'FINALIZING') &&
    allPagesSettled(completion.scan)
  ) {
    // The last task's earlier delivery completed it but died before finalizing: finish the job now.
    await finalizeScan(deps, scan.scanId);
  }
  return {
    action: outcome.status === 'done' ? 'done' : 'failed',
    outcome,
    applied: completion.applied,
  };
}

/** Network trouble, throttling, a busy host or an unexpected error may pass; refusals and bad answers will not. */
function isRetryable(error: unknown): boolean {
  if (error instanceof HostBusyError || error instanceof CommandUnavailableError) return true;
  if (error instanceof CommandError) return error.transient;
  return !(error instanceof InputError);
}

async function runTask(
  deps: ScanDeps,
  scan: ScanRecord,
  task: PageTask,
  attempt: { receiveCount: number },
  options: PageWorkerOptions,
): Promise<TaskOutcome> {
  const credentials = await deps.secrets.getCredentials(scan.sensor.credentialsRef);
  const client = deps.commandClient({
    ...credentials,
    url: scan.sensor.url,
    pageSize: scan.sensor.pageSize,
    maxConcurrency: scan.sensor.hostConcurrency,
  });
  const seenAt = deps.clock.now();
  const context: AnalysisContext = {
    now: seenAt,
    sensor: { name: scan.sensor.sensorName, version: deps.config.sensorVersion, ranBy: deps.config.ranBy },
    source: { url: scan.sensor.url },
    labels: scan.sensor.labels,
  };
  const work = await fetchRange(deps, client, scan, task, context, options);

  const inputs = work.findings.map((document) => ({
    sensorKey: scan.sensorKey,
    findingId: document.id,
    certificateId: work.certificateIds.get(document.id) ?? null,
    contentHash: findingContentHash(document),
    document,
  }));
  const outcomes =
    inputs.length === 0
      ? []
      : await deps.findings.upsertFindings(scan.sensorKey, scan.scanId, seenAt.toISOString(), inputs);
  if (outcomes.length !== inputs.length) {
    throw new Error(`the finding store answered ${outcomes.length} outcomes for ${inputs.length} findings`);
  }
  const changed = outcomes.filter((o) => EXPORTED.has(o)).length;
  const exportBatches =
    deps.config.buildExportBatches === false
      ? 0
      : await exportChanged(deps, scan, task, attempt, work.findings, outcomes, seenAt);
  deps.logger.debug('page task done', {
    scanId: scan.scanId,
    taskId: task.taskId,
    fetched: work.fetched,
    changed,
    exportBatches,
  });
  return {
    status: 'done',
    fetched: work.fetched,
    analysed: work.findings.length,
    rejected: work.rejected,
    changed,
    exportBatches,
  };
}

/**
 * Every certificate of [lo, hi] in Id order: the first page asks for `CertId -ge lo AND CertId -le hi`, each next
 * one for `CertId -gt <last Id>`, until a page comes back short. Deletions and additions elsewhere cannot shift
 * these pages. Each answer is checked: Ids inside the range and strictly increasing, else Command is ignoring the
 * filter or the sort and the range cannot be trusted.
 */
async function fetchRange(
  deps: ScanDeps,
  client: CommandClient,
  scan: ScanRecord,
  task: PageTask,
  context: AnalysisContext,
  options: PageWorkerOptions,
): Promise<RangeWork> {
  const pageSize = scan.sensor.pageSize;
  const host = new URL(scan.sensor.url).host.toLowerCase();
  const work: RangeWork = { fetched: 0, rejected: 0, findings: [], certificateIds: new Map() };
  const byId = new Map<string, Finding>();
  let after: number | null = null;
  for (;;) {
    const query = rangePageQuery(scan.effectiveQuery, task, after);
    const page = await withHostLease(deps, host, scan.sensor.hostConcurrency, options, () =>
      client.getCertificatePage(1, {
        query,
        pageSize,
        sortField: 'Id',
        sortAscending: true,
        includeRevoked: true,
        includeExpired: true,
      }),
    );
    const items = inPageOrder(page.certificates, page.rejected);
    let previous = after ?? task.lo - 1;
    for (const item of items) {
      const id = item.kind === 'certificate' ? item.certificate.Id : item.rejected.id;
      if (id === undefined) continue;
      if (id < task.lo || id > task.hi || id <= previous) {
        throw new CommandResponseError(
          `GET /Certificates for CertIds ${task.lo}-${task.hi}${after === null ? '' : ` after ${after}`} returned Id ${id} ${
            id <= previous ? `not above ${previous}` : 'outside the range'
          }; Command is ignoring the CertId filter or the Id sort, so the scan cannot page safely`,
          { path: '/Certificates' },
        );
      }
      previous = id;
    }
    work.fetched += items.length;
    for (const item of items) {
      if (item.kind === 'rejected') {
        work.rejected += 1;
        deps.logger.warn('Command returned a certificate object that failed validation', {
          scanId: scan.scanId,
          taskId: task.taskId,
          certificateId: item.rejected.id ?? null,
          reason: item.rejected.reason,
        });
        continue;
      }
      const finding = analyseCertificate(item.certificate, context);
      // Two Command records with the same DER are one finding (identity = SHA-256 of the DER); the first wins.
      if (byId.has(finding.id)) continue;
      byId.set(finding.id, finding);
      work.certificateIds.set(finding.id, item.certificate.Id);
    }
    if (items.length < pageSize) break;
    const lastId = items.at(-1);
    const last = lastId?.kind === 'certificate' ? lastId.certificate.Id : lastId?.rejected.id;
    if (last === undefined) {
      throw new CommandResponseError(
        `the last certificate of a full page for CertIds ${task.lo}-${task.hi} has no Id; cannot continue after it`,
        { path: '/Certificates' },
      );
    }
    if (last >= task.hi) break;
    after = last;
  }
  work.findings = [...byId.values()];
  return work;
}

type PageItem =
  | { kind: 'certificate'; certificate: CommandCertificate }
  | { kind: 'rejected'; rejected: RejectedCertificate };

/** Valid and rejected objects back in the order Command sent them (rejected ones carry their index). */
function inPageOrder(
  certificates: readonly CommandCertificate[],
  rejected: readonly RejectedCertificate[],
): PageItem[] {
  const byIndex = new Map(rejected.map((r) => [r.index, r]));
  const items: PageItem[] = [];
  let next = 0;
  const total = certificates.length + rejected.length;
  for (let index = 0; index < total; index += 1) {
    const bad = byIndex.get(index);
    if (bad) items.push({ kind: 'rejected', rejected: bad });
    else items.push({ kind: 'certificate', certificate: certificates[next++]! });
  }
  return items;
}

/** Runs `request` holding one of the host's request slots, waiting up to leaseWaitMs for one. */
async function withHostLease<T>(
  deps: ScanDeps,
  host: string,
  limit: number,
  options: PageWorkerOptions,
  request: () => Promise<T>,
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const waitMs = options.leaseWaitMs ?? 20_000;
  const started = Date.now();
  let delay = 50;
  let leaseId = await deps.leases.acquire(host, limit, LEASE_TTL_SECONDS);
  while (leaseId === null) {
    if (Date.now() - started >= waitMs) throw new HostBusyError(host, limit);
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
    leaseId = await deps.leases.acquire(host, limit, LEASE_TTL_SECONDS);
  }
  try {
    return await request();
  } finally {
    await deps.leases.release(host, leaseId);
  }
}

/**
 * Queues the task's changed findings for export. Batches are `<scanId>.<taskId>.<n>`. A redelivered task first
 * reads the batches an earlier attempt wrote (re-announcing pending ones) and continues after them; since the
 * store now reports 'unchanged' for findings the earlier attempt wrote, a retry cannot tell which of those it had
 * changed, so it exports every finding of the range not already in one of its batches (at least once, never lost).
 */
async function exportChanged(
  deps: ScanDeps,
  scan: ScanRecord,
  task: PageTask,
  attempt: { receiveCount: number },
  findings: readonly Finding[],
  outcomes: readonly UpsertOutcome[],
  seenAt: Date,
): Promise<number> {
  const existing: ExportBatch[] = [];
  const alreadyBatched = new Set<string>();
  for (let n = 1; ; n += 1) {
    const batch = await deps.outbox.getBatch(batchIdFor(scan.scanId, task.taskId, n));
    if (!batch) break;
    existing.push(batch);
    for (const record of readBatchRecords(batch.body)) {
      const id = (record as { id?: unknown }).id;
      if (typeof id === 'string') alreadyBatched.add(id);
    }
  }
  const retry = attempt.receiveCount > 1 || existing.length > 0;
  const selected: Array<{ finding: Finding; outcome: UpsertOutcome }> = [];
  findings.forEach((finding, index) => {
    const outcome = outcomes[index]!;
    if (alreadyBatched.has(finding.id)) return;
    if (EXPORTED.has(outcome) || (retry && outcome === 'unchanged')) selected.push({ finding, outcome });
  });
  selected.sort((a, b) => (a.finding.id < b.finding.id ? -1 : a.finding.id > b.finding.id ? 1 : 0));

  // first_found comes from the store: this run for a new finding, the stored first sighting otherwise. Reads go
  // out a few at a time so a task with many changed findings does not wait on them one by one.
  const documents: Finding[] = [];
  for (let i = 0; i < selected.length; i += FIRST_FOUND_READS) {
    const chunk = selected.slice(i, i + FIRST_FOUND_READS);
    const firstFound = await Promise.all(
      chunk.map(async ({ finding, outcome }) => {
        if (outcome === 'created') return seenAt.toISOString();
        const stored = await deps.findings.getFinding(scan.sensorKey, finding.id);
        return stored?.firstSeenAt ?? seenAt.toISOString();
      }),
    );
    chunk.forEach(({ finding }, j) => documents.push({ ...finding, first_found: firstFound[j]! }));
  }
  const batches = buildExportBatches(
    scan.scanId,
    task.taskId,
    'findings',
    documents,
    {
      maxRecords: deps.config.exportBatchMaxRecords,
      maxBytes: deps.config.exportBatchMaxBytes,
      firstIndex: existing.length + 1,
    },
    seenAt,
  );
  await putAndAnnounceBatches(deps, [...existing.filter((b) => b.status === 'pending'), ...batches]);
  return existing.length + batches.length;
}
