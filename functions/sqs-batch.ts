// The per-record loop every SQS-triggered handler shares: one record at a time, failures reported per message so
// SQS redelivers only those (ReportBatchItemFailures), and the DLQ takes what fails every attempt.
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger } from '#shared/logging';

export type SqsBatchHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** SQS's ApproximateReceiveCount: the core's final-attempt logic keys on it. */
export function receiveCountOf(record: SQSRecord): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}

export function sqsBatchHandler(
  logger: Logger,
  failureMessage: string,
  processRecord: (record: SQSRecord) => Promise<unknown>,
): SqsBatchHandler {
  return async (event) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        await processRecord(record);
      } catch (error) {
        logger.warn(failureMessage, {
          messageId: record.messageId,
          error: error instanceof Error ? error.message : String(error),
        });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}
