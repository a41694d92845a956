// Collector Lambda (start queue): plans scans from start messages, and starts scheduled scans from schedule messages.
import { z } from 'zod';
import { receiveCountOf, sqsBatchHandler, type SqsBatchHandler } from '../sqs-batch.ts';
import { scanDepsFromEnv } from '#shared/adapters/aws/scan-deps';
import { createScanApi, planScan, type ScanDeps } from '#shared/scan/index';

const StartMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), scanId: z.string().min(1) }),
  // Sent by EventBridge Scheduler (shared/adapters/aws/scheduler.ts): creates the scan, whose start message follows.
  z.object({ type: z.literal('schedule'), scheduleId: z.string().min(1) }),
]);

export function createCollectorHandler(deps: ScanDeps): SqsBatchHandler {
  const api = createScanApi(deps);
  // Retried by SQS; after maxReceiveCount it lands in the DLQ, which alarms.
  return sqsBatchHandler(deps.logger, 'start message failed', async (record) => {
    const message = StartMessageSchema.parse(JSON.parse(record.body));
    if (message.type === 'schedule') await api.startScheduledScan(message.scheduleId);
    else await planScan(deps, message, { receiveCount: receiveCountOf(record) });
  });
}

let fromEnv: SqsBatchHandler | undefined;

/** Deps (SDK clients, config) are built on a container's first invocation and reused. */
export const handler: SqsBatchHandler = (event, context) =>
  (fromEnv ??= createCollectorHandler(scanDepsFromEnv(process.env, { service: 'collector' })))(
    event,
    context,
  );
