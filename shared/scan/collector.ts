// The collector: turns a start message into a plan (mode, query, CertId ranges) and fans page tasks out.
import { InputError } from '#shared/errors';
import {
  CommandError,
  CommandResponseError,
  CommandUnavailableError,
  type CommandClient,
} from '#shared/keyfactor/index';
import { captureCommandContext } from '#shared/license/command-context';
import type { ScanDeps } from './deps.ts';
import { allPagesSettled, announceFinished, finalizeScan } from './finalizer.ts';
import type { PageMessage, StartMessage } from './ports.ts';
import type { ScanRecord } from './model.ts';
import { chooseScanMode, composeScanQuery, pageTasksFor, rangesOf, splitIdRange } from './plan.ts';

/** Page messages per sendPages call; the queue adapter batches further (SQS takes 10 per request). */
const SEND_CHUNK = 500;

export type PlanAction =
  /** Unknown scan, already past planning, cancelled or taken by another collector: nothing done. */
  | 'skipped'
  /** Page tasks sent (or a plan with no certificates finalized at once). */
  | 'planned'
  /** Redelivery of a scan already RUNNING: the recorded plan's tasks were sent again (they are idempotent). */
  | 'resent'
  | 'failed';

export interface PlanOutcome {
  action: PlanAction;
  scan: ScanRecord | null;
}

/**
 * Whether trying the start message again may help: Command unavailable (network, 429, 5xx after the client's own
 * retries) or an unexpected error (a store throttled). Refused credentials, TLS, a rejected query, a wrong URL or
 * invalid input are permanent and fail the scan.
 */
export function isTransientPlanningError(error: unknown): boolean {
  if (error instanceof CommandUnavailableError) return true;
  if (error instanceof CommandError) return error.transient;
  if (error instanceof InputError) return false;
  return !(error instanceof PermanentPlanningError);
}

/** A planning problem retrying cannot fix. */
export class PermanentPlanningError extends Error {}

/** The result set changed between the size request and the bounds requests: planning again sorts it out. */
export class PlanningRaceError extends Error {}

/**
 * Handles a start message. PENDING → PLANNING → RUNNING with the plan recorded in the same transition that leaves
 * PLANNING, so concurrent or repeated collectors agree on one plan: the one whose transition wins sends the tasks.
 * A message redelivered after a crash finds the scan PLANNING (plans again) or RUNNING (sends the recorded plan's
 * tasks again; task ids are deterministic and completions idempotent). Transient failures throw so the message is
 * retried; permanent ones, or any failure on the last attempt, mark the scan FAILED.
 */
export async function planScan(
  deps: ScanDeps,
  message: StartMessage,
  attempt: { receiveCount: number } = { receiveCount: 1 },
): Promise<PlanOutcome> {
  const log = deps.logger;
  let scan = await deps.scans.getScan(message.scanId);
  if (!scan) {
    log.warn('start message for an unknown scan', { scanId: message.scanId });
    return { action: 'skipped', scan: null };
  }
  if (scan.state === 'RUNNING') return resendPlan(deps, scan);
  if (scan.state === 'PENDING') {
    const moved = await deps.scans.transition(scan.scanId, ['PENDING'], {
      state: 'PLANNING',
      // Taken before the first query: revocations at or after (this - overlap) are re-fetched next time.
      startedAt: deps.clock.now().toISOString(),
    });
    if (!moved) return { action: 'skipped', scan: await deps.scans.getScan(scan.scanId) };
    scan = moved;
  } else if (scan.state !== 'PLANNING') {
    log.info('start message for a scan past planning; ignored', { scanId: scan.scanId, state: scan.state });
    return { action: 'skipped', scan };
  }

  try {
    return await planAndFanOut(deps, scan);
  } catch (error) {
    const transient = isTransientPlanningError(error);
    const lastAttempt = attempt.receiveCount >= deps.config.pageMaxAttempts;
    const text = error instanceof Error ? error.message : String(error);
    if (transient && !lastAttempt) {
      log.warn('planning failed; the start message will be retried', {
        scanId: scan.scanId,
        receiveCount: attempt.receiveCount,
        error: text,
      });
      throw error;
    }
    return { action: 'failed', scan: await failPlanning(deps, scan, text) };
  }
}

async function planAndFanOut(deps: ScanDeps, scan: ScanRecord): Promise<PlanOutcome> {
  const { sensor } = scan;
  const credentials = await deps.secrets.getCredentials(sensor.credentialsRef);
  const client = deps.commandClient({
    ...credentials,
    url: sensor.url,
    pageSize: sensor.pageSize,
    maxConcurrency: sensor.hostConcurrency,
  });
  await client.verifyConnection();
  const cursor = await deps.scans.getCursor(scan.sensorKey);
  const mode = chooseScanMode(cursor, sensor.autoResolutionInterval);
  const query = composeScanQuery({
    queryFilter: sensor.queryFilter,
    mode,
    cursor,
    revocationOverlapSeconds: deps.config.revocationOverlapSeconds,
  });
  const bounds = await learnBounds(client, query.text);
  const ranges =
    bounds.total === 0 ? [] : splitIdRange(bounds.minId, bounds.maxId, bounds.total, sensor.pageSize);

  const running = await deps.scans.transition(scan.scanId, ['PLANNING'], {
    state: 'RUNNING',
    mode,
    effectiveQuery: query.text,
    planMinCertId: bounds.total === 0 ? null : bounds.minId,
    planMaxCertId: bounds.total === 0 ? null : bounds.maxId,
    counts: { plannedCertificates: bounds.total, pagesPlanned: ranges.length },
  });
  if (!running) {
    // Another collector recorded its plan first (or the scan was cancelled); that one sends the tasks.
    return { action: 'skipped', scan: await deps.scans.getScan(scan.scanId) };
  }
  deps.logger.info('scan planned', {
    scanId: scan.scanId,
    mode,
    query: query.text,
    certificates: bounds.total,
    pages: ranges.length,
  });
  await sendTasks(deps, running, ranges);
  await storeCommandContext(deps, running, client);
  await deps.events
    .publish('ScanStarted', {
      scanId: running.scanId,
      callbackId: running.callbackId,
      sensorName: sensor.sensorName,
      mode,
      plannedCertificates: bounds.total,
      pagesPlanned: ranges.length,
    })
    .catch((error: unknown) => {
      deps.logger.warn('publishing ScanStarted failed', {
        scanId: running.scanId,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  // Nothing to fetch (or, in a race, every task already settled): finish now.
  if (allPagesSettled(running)) await finalizeScan(deps, running.scanId);
  return { action: 'planned', scan: (await deps.scans.getScan(running.scanId)) ?? running };
}

/**
 * Captures the sensor's collections, expiration alerts and workflow definitions for the actioned-certificate count.
 * Never fails the scan: an account that may not read them (403) or a garbled list is a warning and a scan error.
 */
async function storeCommandContext(deps: ScanDeps, scan: ScanRecord, client: CommandClient): Promise<void> {
  if (!deps.contexts) return;
  try {
    const snapshot = await captureCommandContext(
      client,
      scan.sensorKey,
      scan.sensor.url,
      scan.scanId,
      deps.clock.now(),
    );
    await deps.contexts.putContext(snapshot);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    deps.logger.warn('capturing the Command context for the licence count failed; the scan goes on', {
      scanId: scan.scanId,
      error: reason,
    });
    await keepSensorCountable(deps, scan, reason);
    await deps.scans
      .addError(scan.scanId, {
        where: 'command-context',
        message: `reading collections, expiration alerts and workflow definitions failed (the actioned-certificate count keeps the previous snapshot): ${reason}`,
        at: deps.clock.now().toISOString(),
      })
      .catch((storeError: unknown) => {
        deps.logger.warn('recording the Command context failure failed', {
          scanId: scan.scanId,
          error: storeError instanceof Error ? storeError.message : String(storeError),
        });
      });
  }
}

/**
 * The licence count reads only sensors that have a snapshot. Without an earlier one, an empty snapshot naming the
 * failure keeps the sensor's certificates counted (categories 1-6) and makes the count warn; an earlier one is kept.
 */
async function keepSensorCountable(deps: ScanDeps, scan: ScanRecord, reason: string): Promise<void> {
  if (!deps.contexts) return;
  try {
    const existing = await deps.contexts.listContexts();
    if (existing.some((context) => context.sensorKey === scan.sensorKey)) return;
    await deps.contexts.putContext({
      sensorKey: scan.sensorKey,
      url: scan.sensor.url,
      capturedAt: deps.clock.now().toISOString(),
      scanId: scan.scanId,
      collections: [],
      expirationAlerts: [],
      workflowDefinitions: [],
      captureError: reason,
    });
  } catch (error) {
    deps.logger.warn('storing an empty Command context failed', {
      scanId: scan.scanId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** x-total-count and the lowest and highest Id of the result set, from two one-certificate pages. */
export async function learnBounds(
  client: CommandClient,
  query: string,
): Promise<{ total: number; minId: number; maxId: number }> {
  const base = { query, pageSize: 1, sortField: 'Id', includeRevoked: true, includeExpired: true } as const;
  const first = await client.getCertificatePage(1, { ...base, sortAscending: true });
  const total = first.totalCount;
  if (total === undefined) {
    throw new CommandResponseError(
      'GET /Certificates sent no x-total-count header; the scan cannot be sized and split',
      { path: '/Certificates' },
    );
  }
  if (total === 0) return { total: 0, minId: 0, maxId: 0 };
  const last = await client.getCertificatePage(1, { ...base, sortAscending: false });
  const minId = first.certificates[0]?.Id ?? first.rejected[0]?.id;
  const maxId = last.certificates[0]?.Id ?? last.rejected[0]?.id;
  if (minId === undefined || maxId === undefined) {
    if (
      first.certificates.length + first.rejected.length === 0 ||
      last.certificates.length + last.rejected.length === 0
    ) {
      throw new PlanningRaceError(`Command reported ${total} certificates but returned none; planning again`);
    }
    throw new CommandResponseError('the first or last certificate of the result set has no Id', {
      path: '/Certificates',
    });
  }
  if (minId > maxId) {
    throw new CommandResponseError(
      `sorting by Id ascending gave ${minId} first but descending gave ${maxId}; Command is ignoring SortField/SortAscending`,
      { path: '/Certificates' },
    );
  }
  return { total, minId, maxId };
}

async function sendTasks(
  deps: ScanDeps,
  scan: ScanRecord,
  ranges: readonly { lo: number; hi: number }[],
): Promise<void> {
  const priority = scan.sensor.priority;
  const messages: PageMessage[] = pageTasksFor(scan.scanId, ranges, priority).map((task) => ({
    type: 'page',
    task,
  }));
  for (let i = 0; i < messages.length; i += SEND_CHUNK) {
    await deps.queue.sendPages(messages.slice(i, i + SEND_CHUNK), priority);
  }
}

/** A start message seen again for a RUNNING scan: the collector may have died before sending every task. */
async function resendPlan(deps: ScanDeps, scan: ScanRecord): Promise<PlanOutcome> {
  const { pagesPlanned } = scan.counts;
  if (pagesPlanned > 0) {
    if (scan.planMinCertId === undefined || scan.planMinCertId === null || scan.planMaxCertId === null) {
      deps.logger.error('a RUNNING scan has no recorded id bounds; its tasks cannot be re-sent', {
        scanId: scan.scanId,
      });
      return { action: 'skipped', scan };
    }
    await sendTasks(deps, scan, rangesOf(scan.planMinCertId, scan.planMaxCertId, pagesPlanned));
  }
  deps.logger.warn('start message redelivered for a running scan; re-sent its page tasks', {
    scanId: scan.scanId,
    pages: pagesPlanned,
  });
  if (allPagesSettled(scan)) await finalizeScan(deps, scan.scanId);
  return { action: 'resent', scan: (await deps.scans.getScan(scan.scanId)) ?? scan };
}

async function failPlanning(deps: ScanDeps, scan: ScanRecord, reason: string): Promise<ScanRecord | null> {
  const now = deps.clock.now().toISOString();
  const message = `planning failed: ${reason}`;
  deps.logger.error('scan failed while planning', { scanId: scan.scanId, error: reason });
  await deps.scans.addError(scan.scanId, { where: 'plan', message, at: now });
  const failed = await deps.scans.transition(scan.scanId, ['PLANNING'], { state: 'FAILED', finishedAt: now });
  if (!failed) return deps.scans.getScan(scan.scanId);
  await announceFinished(deps, failed);
  return failed;
}
