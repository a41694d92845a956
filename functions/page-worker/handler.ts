// Page-worker Lambda (page-high and page-normal queues): one page task per record, failures reported per message.
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { scanDepsFromEnv } from '#shared/adapters/aws/scan-deps';
import { PRIORITIES, processPageTask, type ScanDeps } from '#shared/scan/index';

const PageMessageSchema = z.object({
  type: z.literal('page'),
  task: z.object({
    scanId: z.string().min(1),
    taskId: z.string().min(1),
    lo: z.number().int().nonnegative(),
    hi: z.number().int().nonnegative(),
    priority: z.enum(PRIORITIES),
  }),
});

export type SqsBatchHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

export function createPageWorkerHandler(deps: ScanDeps): SqsBatchHandler {
  return async (event) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const { task } = PageMessageSchema.parse(JSON.parse(record.body));
        // processPageTask throws only when a redelivery may help; the last attempt is recorded as failed instead.
        await processPageTask(deps, task, {
          receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
        });
      } catch (error) {
        deps.logger.warn('page message failed; SQS will redeliver it', {
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
  (fromEnv ??= createPageWorkerHandler(scanDepsFromEnv(process.env, { service: 'page-worker' })))(
    event,
    context,
  );
