// Exporter Lambda (export queue): ships each message's outbox batch; failed ones are retried by SQS, then DLQ'd.
import { z } from 'zod';
import { receiveCountOf, sqsBatchHandler, type SqsBatchHandler } from '../sqs-batch.ts';
import { scanDepsFromEnv } from '#shared/adapters/aws/scan-deps';
import type { ScanDeps } from '#shared/scan/index';
import { exportBatch } from '#shared/scan/exporter';

const ExportMessageSchema = z.object({
  type: z.literal('export'),
  scanId: z.string().min(1),
  batchId: z.string().min(1),
});

export function createExporterHandler(deps: ScanDeps): SqsBatchHandler {
  // An attempt error is retried; a poison batch (its last attempt, already marked failed) goes to the DLQ.
  return sqsBatchHandler(deps.logger, 'export message failed', async (record) => {
    const message = ExportMessageSchema.parse(JSON.parse(record.body));
    await exportBatch(deps, message, { receiveCount: receiveCountOf(record) });
  });
}

let fromEnv: SqsBatchHandler | undefined;

/** Deps (SDK clients, config) are built on a container's first invocation and reused. */
export const handler: SqsBatchHandler = (event, context) =>
  (fromEnv ??= createExporterHandler(scanDepsFromEnv(process.env, { service: 'exporter' })))(event, context);
