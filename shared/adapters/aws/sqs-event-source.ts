// Emulates Lambda's SQS event source mapping against a real SQS API (moto locally): batches, partial batch failures,
// visibility timeouts and redrive to the DLQ are SQS's own, so handlers run exactly as they would when deployed.
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export type SqsLambdaHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface EventSourceMapping {
  /** A name for logs and stats, e.g. 'page-worker/high'. */
  name: string;
  queueUrl: string;
  handler: SqsLambdaHandler;
  /** Records per invocation (Lambda's BatchSize). */
  batchSize: number;
  /** Invocations in flight at once (the mapping's MaximumConcurrency). */
  maxConcurrency: number;
  /** How long a failed message stays invisible before SQS offers it again (the queue's visibility timeout, shortened). */
  retryDelaySeconds?: number;
  /** Without ReportBatchItemFailures a thrown error or any failure retries the whole batch. Default true. */
  reportBatchItemFailures?: boolean;
}

export interface MappingStats {
  invocations: number;
  records: number;
  succeeded: number;
  failed: number;
  /** Invocations whose handler threw (every record of the batch is retried). */
  errors: number;
}

export interface DriveOptions {
  /** Stop after this long even if work remains (then `drained` is false). */
  timeoutMs?: number;
  /** Stop early when this returns true (checked between polls). */
  until?: () => boolean | Promise<boolean>;
  signal?: AbortSignal;
}

export interface DriveResult {
  drained: boolean;
  elapsedMs: number;
  stats: Record<string, MappingStats>;
}

const LONG_INVISIBLE_SECONDS = 900;

function lambdaContext(name: string): Context {
  const requestId = crypto.randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name.replace(/[^A-Za-z0-9-_]/g, '-')}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: requestId,
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/** Pollers for several queues sharing one SQS client; `drive()` runs until every queue is empty and nothing is in flight. */
export class SqsEventSourceEmulator {
  readonly stats: Record<string, MappingStats> = {};
  readonly #arns = new Map<string, string>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly mappings: readonly EventSourceMapping[],
  ) {
    for (const m of mappings)
      this.stats[m.name] = { invocations: 0, records: 0, succeeded: 0, failed: 0, errors: 0 };
  }

  async drive(options: DriveOptions = {}): Promise<DriveResult> {
    const started = Date.now();
    const deadline = started + (options.timeoutMs ?? 300_000);
    for (const m of this.mappings)
      if (!this.#arns.has(m.queueUrl)) this.#arns.set(m.queueUrl, await this.#arn(m));
    const inFlight = new Map<string, number>(this.mappings.map((m) => [m.name, 0]));
    const running = new Set<Promise<void>>();
    let idleRounds = 0;
    while (Date.now() < deadline && !options.signal?.aborted) {
      if (options.until && (await options.until())) break;
      let received = 0;
      for (const mapping of this.mappings) {
        const free = mapping.maxConcurrency - (inFlight.get(mapping.name) ?? 0);
        for (let slot = 0; slot < free; slot++) {
          const messages = await this.#receive(mapping);
          if (messages.length === 0) break;
          received += messages.length;
          inFlight.set(mapping.name, (inFlight.get(mapping.name) ?? 0) + 1);
          const invocation = this.#invoke(mapping, messages).finally(() => {
            inFlight.set(mapping.name, (inFlight.get(mapping.name) ?? 1) - 1);
            running.delete(invocation);
          });
          running.add(invocation);
        }
      }
      if (received > 0 || running.size > 0) {
        idleRounds = 0;
        if (running.size > 0) await Promise.race([...running, sleep(received > 0 ? 0 : 20)]);
        continue;
      }
      // Nothing visible and nothing running: done once no queue holds invisible (retrying) messages either.
      if (await this.#allEmpty()) {
        idleRounds++;
        if (idleRounds >= 2) return { drained: true, elapsedMs: Date.now() - started, stats: this.stats };
      }
      await sleep(50);
    }
    await Promise.allSettled(running);
    return { drained: false, elapsedMs: Date.now() - started, stats: this.stats };
  }

  async #arn(mapping: EventSourceMapping): Promise<string> {
    const out = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: mapping.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    return out.Attributes?.QueueArn ?? `arn:aws:sqs:us-east-1:000000000000:${mapping.name}`;
  }

  async #receive(mapping: EventSourceMapping): Promise<Message[]> {
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: mapping.queueUrl,
        MaxNumberOfMessages: Math.min(10, mapping.batchSize),
        WaitTimeSeconds: 0,
        // Long enough that a slow handler does not see its own batch redelivered, as a real mapping guarantees.
        VisibilityTimeout: LONG_INVISIBLE_SECONDS,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    return out.Messages ?? [];
  }

  async #invoke(mapping: EventSourceMapping, messages: Message[]): Promise<void> {
    const stats = this.stats[mapping.name];
    if (!stats) throw new Error(`no stats for ${mapping.name}`);
    const arn = this.#arns.get(mapping.queueUrl) ?? '';
    const records = messages.map((m) => toRecord(m, arn));
    stats.invocations++;
    stats.records += records.length;
    let failedIds: Set<string>;
    try {
      const response = await mapping.handler({ Records: records }, lambdaContext(mapping.name));
      const reported = response?.batchItemFailures.map((f) => f.itemIdentifier) ?? [];
      failedIds =
        mapping.reportBatchItemFailures === false && reported.length > 0
          ? new Set(records.map((r) => r.messageId))
          : new Set(reported);
    } catch {
      stats.errors++;
      failedIds = new Set(records.map((r) => r.messageId));
    }
    const succeeded = messages.filter((m) => !failedIds.has(m.MessageId ?? ''));
    const failed = messages.filter((m) => failedIds.has(m.MessageId ?? ''));
    stats.succeeded += succeeded.length;
    stats.failed += failed.length;
    if (succeeded.length > 0) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: mapping.queueUrl,
          Entries: succeeded.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
    if (failed.length > 0) {
      // The visibility timeout expiring, shortened: SQS redelivers and counts the receive; redrive does the rest.
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: mapping.queueUrl,
          Entries: failed.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle ?? '',
            VisibilityTimeout: mapping.retryDelaySeconds ?? 0,
          })),
        }),
      );
    }
  }

  async #allEmpty(): Promise<boolean> {
    for (const mapping of this.mappings) {
      const out = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: mapping.queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const visible = Number(out.Attributes?.ApproximateNumberOfMessages ?? '0');
      const invisible = Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? '0');
      if (visible + invisible > 0) return false;
    }
    return true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
