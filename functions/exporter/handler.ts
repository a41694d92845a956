// Exporter Lambda (export queue): ships each message's outbox batch; failed ones are retried by SQS, then DLQ'd.
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { scanDepsFromEnv } from '#shared/adapters/aws/scan-deps';
import type { ScanDeps } from '#shared/scan/index';
import { exportBatch } from '#shared/scan/exporter';

const ExportMessageSchema = z.object({
  type: z.literal('export'),
  scanId: z.string().min(1),
  batchId: z.string().min(1),
});

export type SqsBatchHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

export function createExporterHandler(deps: ScanDeps): SqsBatchHandler {
  return async (event) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const message = ExportMessageSchema.parse(JSON.parse(record.body));
        await exportBatch(deps, message, {
          receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
        });
      } catch (error) {
        // An attempt error is retried; a poison batch (its last attempt, already marked failed) goes to the DLQ.
        deps.logger.warn('export message failed', {
          messageId: record.messageId,
          error: error instanceof Error ? error.message : String(error),
        });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

let fromEnv: SqsBatchHandler | undefined;

/** Deps (SDK clients, config) are built on a container's first invocation and reused. */
export const handler: SqsBatchHandler = (event, context) =>
  (fromEnv ??= createExporterHandler(scanDepsFromEnv(process.env, { service: 'exporter' })))(event, context);
