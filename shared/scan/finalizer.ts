// Finalization: exactly one finalizer moves a scan from RUNNING to its end state, resolving unseen findings after a
// complete full scan, advancing the cursor only when COMPLETED, and publishing ScanFinished for the caller.
import { SENSOR_TYPE } from '#shared/findings/index';
import type { ScanDeps } from './deps.ts';
import { buildExportBatches } from './export-batches.ts';
import type { ExportBatch, Resolution, ScanRecord, ScanState } from './model.ts';
import { advancedCursor } from './plan.ts';

/** Cursor writes retried on a version conflict (another scan of the same sensor finishing at the same moment). */
const CURSOR_ATTEMPTS = 5;

/** Pages settled (done or failed) against pages planned. */
export function allPagesSettled(scan: ScanRecord): boolean {
  return scan.counts.pagesDone + scan.counts.pagesFailed >= scan.counts.pagesPlanned;
}

/** COMPLETED when no page failed, FAILED when every page failed, PARTIAL in between. */
export function endStateOf(scan: ScanRecord): Extract<ScanState, 'COMPLETED' | 'PARTIAL' | 'FAILED'> {
  const { pagesFailed, pagesDone } = scan.counts;
  if (pagesFailed === 0) return 'COMPLETED';
  return pagesDone === 0 ? 'FAILED' : 'PARTIAL';
}

/**
 * Finishes a scan whose pages have all settled. Safe to call more than once and from several workers: the
 * RUNNING → FINALIZING transition admits one; a call that finds the scan already FINALIZING (a finalizer crashed
 * and its message came back) repeats the steps, each of which is idempotent. Returns the scan as it ends up, or
 * null for an unknown id.
 */
export async function finalizeScan(deps: ScanDeps, scanId: string): Promise<ScanRecord | null> {
  let scan = await deps.scans.getScan(scanId);
  if (!scan) return null;
  // Whether this call moved the scan to FINALIZING (a first attempt) or found it there (resuming after a crash).
  let resuming = true;
  if (scan.state === 'RUNNING') {
    if (!allPagesSettled(scan)) return scan;
    const moved = await deps.scans.transition(scanId, ['RUNNING'], { state: 'FINALIZING' });
    if (moved) {
      scan = moved;
      resuming = false;
    } else {
      scan = await deps.scans.getScan(scanId);
      if (!scan) return null;
    }
  }
  if (scan.state !== 'FINALIZING') return scan;

  const state = endStateOf(scan);
  const counts: Partial<ScanRecord['counts']> = {};
  try {
    // A PARTIAL scan never resolves: findings on its missing pages would be resolved falsely.
    if (state === 'COMPLETED' && scan.mode === 'full') {
      const resolved = await resolveAndExport(deps, scan, resuming);
      counts.resolvedFindings = resolved.count;
      counts.exportBatchesPlanned = scan.counts.exportBatchesPlanned + resolved.batches;
    }
    if (state === 'COMPLETED') await advanceCursor(deps, scan);
  } catch (error) {
    // Left FINALIZING: the redelivered message of the last page calls finalizeScan again and resumes here.
    deps.logger.error('finalizing the scan failed; it will be retried', {
      scanId,
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }

  const finishedAt = deps.clock.now().toISOString();
  const finished = await deps.scans.transition(scanId, ['FINALIZING'], { state, finishedAt, counts });
  if (!finished) return deps.scans.getScan(scanId);
  await announceFinished(deps, finished);
  return finished;
}

/**
 * Marks unseen findings resolved and builds the resolution batches. A first attempt takes them from what
 * resolveUnseen yields (reading only the unseen findings); a finalizer resuming after a crash cannot know what the
 * dead attempt resolved, so it rebuilds them from every finding this scan resolved, at the cost of reading the
 * sensor's resolved findings once.
 */
async function resolveAndExport(
  deps: ScanDeps,
  scan: ScanRecord,
  resuming: boolean,
): Promise<{ count: number; batches: number }> {
  const resolvedAt = deps.clock.now().toISOString();
  const resolutions: Resolution[] = [];
  for await (const chunk of deps.findings.resolveUnseen(scan.sensorKey, scan.scanId, resolvedAt)) {
    deps.logger.debug('resolved findings', { scanId: scan.scanId, count: chunk.length });
    if (!resuming) resolutions.push(...chunk);
  }
  if (resuming) resolutions.push(...(await resolvedBy(deps, scan, resolvedAt)));
  resolutions.sort((a, b) => (a.findingId < b.findingId ? -1 : a.findingId > b.findingId ? 1 : 0));
  const sensor = {
    name: scan.sensor.sensorName,
    type: SENSOR_TYPE,
    version: deps.config.sensorVersion,
    ran_by: deps.config.ranBy,
  };
  const records = resolutions.map((resolution) => ({ ...resolution, sensor, labels: scan.sensor.labels }));
  const batches = buildExportBatches(
    scan.scanId,
    'resolve',
    'resolutions',
    records,
    { maxRecords: deps.config.exportBatchMaxRecords, maxBytes: deps.config.exportBatchMaxBytes },
    deps.clock.now(),
  );
  await putAndAnnounceBatches(deps, batches);
  return { count: resolutions.length, batches: batches.length };
}

/** Every finding of the sensor resolved by this scan, from the store (the crash-resume path). */
async function resolvedBy(deps: ScanDeps, scan: ScanRecord, resolvedAt: string): Promise<Resolution[]> {
  const resolutions: Resolution[] = [];
  for await (const page of deps.findings.listFindings(scan.sensorKey, { status: 'resolved' })) {
    for (const finding of page) {
      if (finding.resolvedByScanId !== scan.scanId) continue;
      resolutions.push({
        findingId: finding.findingId,
        certificateId: finding.certificateId,
        sensorKey: finding.sensorKey,
        resolvedAt: finding.resolvedAt ?? resolvedAt,
        scanId: scan.scanId,
      });
    }
  }
  return resolutions;
}

/**
 * Writes batches to the outbox and queues an export message for every one still pending: a new batch, or one an
 * earlier attempt wrote but may not have announced. Sent or dead-lettered batches are left alone.
 */
export async function putAndAnnounceBatches(deps: ScanDeps, batches: readonly ExportBatch[]): Promise<void> {
  const pending: ExportBatch[] = [];
  for (const batch of batches) {
    if (await deps.outbox.putBatch(batch)) {
      pending.push(batch);
      continue;
    }
    const existing = await deps.outbox.getBatch(batch.batchId);
    if (existing?.status === 'pending') pending.push(existing);
  }
  if (pending.length > 0) {
    await deps.queue.sendExports(
      pending.map((b) => ({ type: 'export', scanId: b.scanId, batchId: b.batchId })),
    );
  }
}

async function advanceCursor(deps: ScanDeps, scan: ScanRecord): Promise<void> {
  if (scan.mode === null || scan.startedAt === null) {
    throw new Error(`scan ${scan.scanId} reached FINALIZING without a mode or start time`);
  }
  for (let attempt = 1; attempt <= CURSOR_ATTEMPTS; attempt += 1) {
    const previous = await deps.scans.getCursor(scan.sensorKey);
    // A resumed finalizer must not count the same scan twice.
    if (previous?.lastScanId === scan.scanId) return;
    const next = advancedCursor(previous, {
      scanId: scan.scanId,
      sensorKey: scan.sensorKey,
      url: scan.sensor.url,
      queryFilter: scan.sensor.queryFilter,
      mode: scan.mode,
      planMaxCertId: scan.planMaxCertId,
      startedAt: scan.startedAt,
    });
    if (await deps.scans.putCursor(next, previous?.version ?? 0)) return;
  }
  throw new Error(
    `the cursor of sensor ${scan.sensorKey} kept changing; gave up after ${CURSOR_ATTEMPTS} attempts`,
  );
}

/** The ScanFinished event's detail: what the caller needs without fetching the scan. */
export function finishedEventDetail(scan: ScanRecord): Record<string, unknown> {
  return {
    scanId: scan.scanId,
    callbackId: scan.callbackId,
    sensorName: scan.sensor.sensorName,
    sensorKey: scan.sensorKey,
    trigger: scan.trigger,
    scheduleId: scan.scheduleId,
    state: scan.state,
    mode: scan.mode,
    startedAt: scan.startedAt,
    finishedAt: scan.finishedAt,
    counts: scan.counts,
    errorCount: scan.errorCount,
    errors: scan.errors.slice(-10).map((e) => ({ where: e.where, message: e.message })),
  };
}

/**
 * After a scan reached an end state (exactly one caller gets here per scan): the event, and the per-scan secret of
 * an API scan, which nothing needs any more (schedules keep theirs for the next run).
 */
export async function announceFinished(deps: ScanDeps, scan: ScanRecord): Promise<void> {
  // The transition already happened; an event lost to a crash here is logged as the scan's state is authoritative.
  try {
    await deps.events.publish('ScanFinished', finishedEventDetail(scan));
  } catch (error) {
    deps.logger.error('publishing ScanFinished failed', {
      scanId: scan.scanId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
  if (scan.trigger === 'api') {
    try {
      await deps.secrets.deleteCredentials(scan.sensor.credentialsRef);
    } catch (error) {
      deps.logger.warn('could not delete the scan credentials', {
        scanId: scan.scanId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  deps.logger.info('scan finished', {
    scanId: scan.scanId,
    state: scan.state,
    mode: scan.mode,
    pagesDone: scan.counts.pagesDone,
    pagesFailed: scan.counts.pagesFailed,
  });
}
