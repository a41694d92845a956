// Page-worker Lambda (page-high and page-normal queues): one page task per record, failures reported per message.
import { z } from 'zod';
import { receiveCountOf, sqsBatchHandler, type SqsBatchHandler } from '../sqs-batch.ts';
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

export function createPageWorkerHandler(deps: ScanDeps): SqsBatchHandler {
  // processPageTask throws only when a redelivery may help; the last attempt is recorded as failed instead.
  return sqsBatchHandler(deps.logger, 'page message failed; SQS will redeliver it', async (record) => {
    const { task } = PageMessageSchema.parse(JSON.parse(record.body));
    await processPageTask(deps, task, { receiveCount: receiveCountOf(record) });
  });
}

let fromEnv: SqsBatchHandler | undefined;

/** Deps (SDK clients, config) are built on a container's first invocation and reused. */
export const handler: SqsBatchHandler = (event, context) =>
  (fromEnv ??= createPageWorkerHandler(scanDepsFromEnv(process.env, { service: 'page-worker' })))(
    event,
    context,
  );
