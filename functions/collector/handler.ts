// Collector Lambda (start queue): plans scans from start messages, and starts scheduled scans from schedule messages.
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { scanDepsFromEnv } from '#shared/adapters/aws/scan-deps';
import { createScanApi, planScan, type ScanDeps } from '#shared/scan/index';

const StartMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), scanId: z.string().min(1) }),
  // Sent by EventBridge Scheduler (shared/adapters/aws/scheduler.ts): creates the scan, whose start message follows.
  z.object({ type: z.literal('schedule'), scheduleId: z.string().min(1) }),
]);

export type SqsBatchHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

export function createCollectorHandler(deps: ScanDeps): SqsBatchHandler {
  const api = createScanApi(deps);
  return async (event) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const message = StartMessageSchema.parse(JSON.parse(record.body));
        if (message.type === 'schedule') await api.startScheduledScan(message.scheduleId);
        else
          await planScan(deps, message, {
            receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
          });
      } catch (error) {
        // Retried by SQS; after maxReceiveCount it lands in the DLQ, which alarms.
        deps.logger.error('start message failed', {
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
  (fromEnv ??= createCollectorHandler(scanDepsFromEnv(process.env, { service: 'collector' })))(
    event,
    context,
  );
