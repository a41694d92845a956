// SQS work queue: the pipeline's start, page (high and normal+low) and export queues; JSON bodies, batched sends.
import {
  SendMessageBatchCommand,
  SendMessageCommand,
  type BatchResultErrorEntry,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SensorError } from '#shared/errors';
import type { Priority } from '#shared/scan/model';
import type { ExportMessage, PageMessage, StartMessage, WorkQueue } from '#shared/scan/ports';

export interface SqsQueueUrls {
  start: string;
  /** High-priority page tasks: their own queue and consumer, so they never wait behind a large normal scan. */
  pageHigh: string;
  /** Normal and low priority page tasks. */
  pageNormal: string;
  export: string;
}

export interface SqsWorkQueueOptions {
  /** Sends of one batch, counting the first, before failed entries become an error. */
  maxAttempts?: number;
  /** Base delay between attempts (doubled each time). */
  retryDelayMs?: number;
}

/** SQS allows 10 entries per SendMessageBatch. */
export const SQS_BATCH_ENTRIES = 10;
/** SQS caps a batch's total payload (bodies plus attributes) at 256 KiB; we stay under it with some headroom. */
const SQS_BATCH_BYTES = 256 * 1024 - 1024;

/** Some messages could not be queued after every attempt (or SQS refused them as the sender's fault). */
export class QueueSendError extends SensorError {
  constructor(
    message: string,
    readonly failed: readonly { id: string; code: string; senderFault: boolean }[],
  ) {
    super(message);
  }
}

export class SqsWorkQueue implements WorkQueue {
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly client: SQSClient,
    private readonly urls: SqsQueueUrls,
    options: SqsWorkQueueOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.retryDelayMs = options.retryDelayMs ?? 100;
  }

  /** Start messages are rare and small; one queue for every priority (the collector only plans). */
  async sendStart(message: StartMessage, _priority: Priority): Promise<void> {
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.urls.start, MessageBody: JSON.stringify(message) }),
    );
  }

  async sendPages(messages: readonly PageMessage[], priority: Priority): Promise<void> {
    await this.sendAll(priority === 'high' ? this.urls.pageHigh : this.urls.pageNormal, messages);
  }

  async sendExports(messages: readonly ExportMessage[]): Promise<void> {
    await this.sendAll(this.urls.export, messages);
  }

  private async sendAll(queueUrl: string, messages: readonly unknown[]): Promise<void> {
    const bodies = messages.map((m) => JSON.stringify(m));
    for (const chunk of chunkBodies(bodies)) await this.sendBatch(queueUrl, chunk);
  }

  /** Sends one batch; entries SQS failed on its side are resent (bounded), the sender's faults fail at once. */
  private async sendBatch(queueUrl: string, bodies: readonly string[]): Promise<void> {
    // Entry ids are positions in this batch, so a retry resends exactly the entries that failed.
    let pending: SendMessageBatchRequestEntry[] = bodies.map((body, i) => ({
      Id: String(i),
      MessageBody: body,
    }));
    let lastFailed: BatchResultErrorEntry[] = [];
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const result = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }),
      );
      lastFailed = result.Failed ?? [];
      if (lastFailed.length === 0) return;
      const senderFaults = lastFailed.filter((f) => f.SenderFault);
      if (senderFaults.length > 0) throw sendError(queueUrl, senderFaults, 'refused as malformed');
      const failedIds = new Set(lastFailed.map((f) => f.Id));
      pending = pending.filter((e) => failedIds.has(e.Id));
      if (attempt < this.maxAttempts) await sleep(this.retryDelayMs * 2 ** (attempt - 1));
    }
    throw sendError(queueUrl, lastFailed, `still failing after ${this.maxAttempts} attempts`);
  }
}

function sendError(queueUrl: string, failed: readonly BatchResultErrorEntry[], why: string): QueueSendError {
  const entries = failed.map((f) => ({
    id: f.Id ?? '?',
    code: f.Code ?? 'unknown',
    senderFault: f.SenderFault ?? false,
  }));
  const codes = [...new Set(entries.map((e) => e.code))].join(', ');
  return new QueueSendError(
    `${entries.length} message(s) to ${queueName(queueUrl)} ${why} (${codes}): ${failed[0]?.Message ?? ''}`.trim(),
    entries,
  );
}

/** The queue's name (the URL's last segment) for messages: shorter than the URL and enough to find it. */
function queueName(queueUrl: string): string {
  return queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
}

/** Groups bodies into batches of at most 10 entries and SQS_BATCH_BYTES; a single oversized body is its own batch. */
export function chunkBodies(bodies: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body);
    if (current.length > 0 && (current.length === SQS_BATCH_ENTRIES || bytes + size > SQS_BATCH_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
