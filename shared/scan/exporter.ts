// The exporter: ships one outbox batch to the ingestion URL per export message. The outbox makes it safe to repeat:
// a crash anywhere leads to a resend with the same batch id (the receiver de-duplicates), and counts are added once.
import { SensorError } from '#shared/errors';
import {
  IngestionClient,
  IngestionError,
  type IngestionClientOptions,
  type IngestionSensor,
} from '#shared/export/ingestion';
import type { ScanDeps } from './deps.ts';
import type { ExportBatch, ScanRecord } from './model.ts';
import type { ExportMessage } from './ports.ts';

/**
 * The batch failed on its last allowed attempt: it is marked failed, the scan records the error, and the queue
 * should move the message to the DLQ (not retry it).
 */
export class PoisonBatchError extends SensorError {
  constructor(
    readonly batchId: string,
    readonly scanId: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`export batch ${batchId} of scan ${scanId} failed its last attempt: ${reason}`, options);
  }
}

/** One attempt failed; the message should be redelivered (the queue's retry). */
export class ExportAttemptError extends SensorError {
  constructor(
    readonly batchId: string,
    readonly attempt: number,
    reason: string,
    /** How long the receiver asked us to wait, when it said (a hint for the message's visibility timeout). */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(`export batch ${batchId}, attempt ${attempt}: ${reason}`, options);
  }
}

/** Client tuning for tests and the local driver (the cloud uses the defaults). */
export interface ExportOptions {
  ingestion?: Pick<
    IngestionClientOptions,
    'retry' | 'timeoutMs' | 'random' | 'caCert' | 'insecureSkipTlsVerify'
  >;
}

/** Configs for which "no ingestion URL" has been logged (once each). */
const warnedNoUrl = new WeakSet<object>();

export async function exportBatch(
  deps: ScanDeps,
  message: ExportMessage,
  attempt: { receiveCount: number },
  options: ExportOptions = {},
): Promise<void> {
  const { outbox, scans, logger, config } = deps;
  const batch = await outbox.getBatch(message.batchId);
  if (batch === null) {
    // Batches are written before their message is sent, so this is a stray message (or an expired outbox item).
    logger.warn('export message for a batch the outbox does not have; dropped', {
      scanId: message.scanId,
      batchId: message.batchId,
    });
    return;
  }
  if (batch.status === 'sent') {
    logger.debug('export batch already sent; redelivered message ignored', { batchId: batch.batchId });
    return;
  }
  if (config.ingestionUrl === null) {
    if (!warnedNoUrl.has(config)) {
      warnedNoUrl.add(config);
      logger.warn('no ingestion URL configured: export batches stay pending in the outbox', {
        scanId: batch.scanId,
      });
    }
    return;
  }

  let client: IngestionClient | undefined;
  try {
    const scan = await scans.getScan(batch.scanId);
    if (scan === null) throw new SensorError(`scan ${batch.scanId} not found`);
    const token = await deps.secrets.getIngestionToken();
    client = new IngestionClient({
      ...options.ingestion,
      url: config.ingestionUrl,
      token,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      logger,
    });
    const result = await client.send(batch, sensorOf(scan, deps));
    logger.info('export batch delivered', {
      scanId: batch.scanId,
      batchId: batch.batchId,
      kind: batch.kind,
      count: batch.count,
      duplicate: result.duplicate,
      attempts: result.attempts,
    });
  } catch (error) {
    await recordFailure(deps, batch, attempt.receiveCount, error);
  } finally {
    await client?.close();
  }

  // Only the caller whose markSent flips the batch adds the counts, so a redelivery never counts twice.
  if (await outbox.markSent(batch.batchId, deps.clock.now().toISOString())) {
    await scans.addCounts(batch.scanId, {
      ...(batch.kind === 'findings'
        ? { exportedFindings: batch.count }
        : { exportedResolutions: batch.count }),
      exportBatchesSent: 1,
      // A batch redriven from the DLQ and now delivered is no longer failed (its scan error stays as history).
      ...(batch.status === 'failed' ? { exportBatchesFailed: -1 } : {}),
    });
  }
}

function sensorOf(scan: ScanRecord, deps: ScanDeps): IngestionSensor {
  return {
    name: scan.sensor.sensorName,
    version: deps.config.sensorVersion,
    ranBy: deps.config.ranBy,
    labels: scan.sensor.labels,
  };
}

async function recordFailure(
  deps: ScanDeps,
  batch: ExportBatch,
  receiveCount: number,
  error: unknown,
): Promise<never> {
  const reason = error instanceof Error ? error.message : String(error);
  const final = receiveCount >= deps.config.exportMaxAttempts;
  const retryAfterMs = error instanceof IngestionError ? error.details.retryAfterMs : undefined;
  // markAttempt is true only for the first final report, so the failure is counted once however often it repeats.
  const first = await deps.outbox.markAttempt(batch.batchId, reason, final);
  if (final) {
    if (first) {
      await deps.scans.addCounts(batch.scanId, { exportBatchesFailed: 1 });
      await deps.scans.addError(batch.scanId, {
        where: `export:${batch.batchId}`,
        message: `${batch.count} ${batch.kind} not delivered after ${receiveCount} attempts: ${reason}`,
        at: deps.clock.now().toISOString(),
      });
    }
    deps.logger.error('export batch failed its last attempt; it goes to the DLQ', {
      scanId: batch.scanId,
      batchId: batch.batchId,
      attempts: receiveCount,
      reason,
    });
    throw new PoisonBatchError(batch.batchId, batch.scanId, reason, { cause: error });
  }
  deps.logger.warn('export batch attempt failed; the message will be retried', {
    scanId: batch.scanId,
    batchId: batch.batchId,
    attempt: receiveCount,
    of: deps.config.exportMaxAttempts,
    reason,
  });
  throw new ExportAttemptError(batch.batchId, receiveCount, reason, retryAfterMs, { cause: error });
}
