// SqsWorkQueue against moto: routing by priority, batching, retries of failed entries and the sender's faults.
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type BatchResultErrorEntry,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
} from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import {
  QueueSendError,
  SqsWorkQueue,
  chunkBodies,
  type SqsQueueUrls,
} from '#shared/adapters/aws/work-queue';
import type { PageMessage } from '#shared/scan/ports';

const config = localAwsClientConfig(inject('awsEndpoint'));

async function createQueues(sqs: SQSClient): Promise<SqsQueueUrls> {
  const run = randomUUID().slice(0, 8);
  const make = async (name: string): Promise<string> => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `wq-${run}-${name}` }));
    if (!QueueUrl) throw new Error('no queue url');
    return QueueUrl;
  };
  return {
    start: await make('start'),
    pageHigh: await make('page-high'),
    pageNormal: await make('page-normal'),
    export: await make('export'),
  };
}

/** Receives (and deletes) everything in a queue, returning the parsed bodies. */
async function drain(sqs: SQSClient, queueUrl: string): Promise<unknown[]> {
  const bodies: unknown[] = [];
  for (;;) {
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    const messages = got.Messages ?? [];
    if (messages.length === 0) return bodies;
    for (const m of messages) bodies.push(JSON.parse(m.Body ?? 'null'));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

const pages = (
  scanId: string,
  n: number,
  priority: PageMessage['task']['priority'] = 'normal',
): PageMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    type: 'page',
    task: { scanId, taskId: `r${i * 100}-${i * 100 + 99}`, lo: i * 100, hi: i * 100 + 99, priority },
  }));

type BatchHook = (
  input: SendMessageBatchCommandInput,
  send: (input: SendMessageBatchCommandInput) => Promise<SendMessageBatchCommandOutput>,
) => Promise<SendMessageBatchCommandOutput>;

/**
 * A real client whose SendMessageBatch calls pass through `hook` (an SDK middleware), so a test can make moto see a
 * changed request or the adapter see a changed answer. Counts the calls.
 */
function hookedClient(hook: BatchHook): { client: SQSClient; calls: () => number } {
  const client = new SQSClient(config);
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      calls++;
      let raw: unknown;
      const output = await hook(args.input as SendMessageBatchCommandInput, async (input) => {
        const result = await next({ ...args, input });
        raw = result.response;
        return result.output as SendMessageBatchCommandOutput;
      });
      return { output, response: raw };
    },
    { step: 'initialize', name: 'testBatchHook' },
  );
  return { client, calls: () => calls };
}

describe('SqsWorkQueue (moto)', () => {
  const sqs = new SQSClient(config);

  it('sends high-priority pages to their own queue and normal and low ones to the other', async () => {
    const urls = await createQueues(sqs);
    const queue = new SqsWorkQueue(sqs, urls);
    await queue.sendPages(pages('s-high', 3, 'high'), 'high');
    await queue.sendPages(pages('s-normal', 25), 'normal');
    await queue.sendPages(pages('s-low', 2, 'low'), 'low');

    const high = (await drain(sqs, urls.pageHigh)) as PageMessage[];
    const normal = (await drain(sqs, urls.pageNormal)) as PageMessage[];
    expect(high.map((m) => m.task.scanId)).toEqual(['s-high', 's-high', 's-high']);
    expect(normal).toHaveLength(27);
    expect(new Set(normal.map((m) => m.task.scanId))).toEqual(new Set(['s-normal', 's-low']));
    // JSON round trip: every task arrives whole, once.
    expect(
      normal
        .filter((m) => m.task.scanId === 's-normal')
        .map((m) => m.task.taskId)
        .sort(),
    ).toEqual(
      pages('s-normal', 25)
        .map((m) => m.task.taskId)
        .sort(),
    );
    expect(await drain(sqs, urls.start)).toEqual([]);
  });

  it('sends start and export messages to their queues as JSON', async () => {
    const urls = await createQueues(sqs);
    const queue = new SqsWorkQueue(sqs, urls);
    await queue.sendStart({ type: 'start', scanId: 's-1' }, 'high');
    const exports = Array.from({ length: 12 }, (_, i) => ({
      type: 'export' as const,
      scanId: 's-1',
      batchId: `s-1.t.${i}`,
    }));
    await queue.sendExports(exports);
    expect(await drain(sqs, urls.start)).toEqual([{ type: 'start', scanId: 's-1' }]);
    expect(((await drain(sqs, urls.export)) as { batchId: string }[]).map((m) => m.batchId).sort()).toEqual(
      exports.map((m) => m.batchId).sort(),
    );
  });

  it('sends nothing for an empty list', async () => {
    const { client, calls } = hookedClient((input, send) => send(input));
    const urls = await createQueues(sqs);
    await new SqsWorkQueue(client, urls).sendPages([], 'normal');
    expect(calls()).toBe(0);
  });

  it('uses batches of at most 10 entries', async () => {
    const sizes: number[] = [];
    const { client } = hookedClient((input, send) => {
      sizes.push(input.Entries?.length ?? 0);
      return send(input);
    });
    const urls = await createQueues(sqs);
    await new SqsWorkQueue(client, urls).sendPages(pages('s-b', 23), 'normal');
    expect(sizes).toEqual([10, 10, 3]);
    expect(await drain(sqs, urls.pageNormal)).toHaveLength(23);
  });

  it('resends only the entries SQS failed on its side, so each message arrives exactly once', async () => {
    let first = true;
    const { client, calls } = hookedClient(async (input, send) => {
      if (!first) return send(input);
      first = false;
      // SQS drops two entries with a server-side error: moto never sees them, the adapter is told they failed.
      const dropped = new Set(['2', '7']);
      const out = await send({ ...input, Entries: input.Entries?.filter((e) => !dropped.has(e.Id ?? '')) });
      const failed: BatchResultErrorEntry[] = [...dropped].map((Id) => ({
        Id,
        SenderFault: false,
        Code: 'InternalError',
        Message: 'try again',
      }));
      return { ...out, Failed: failed };
    });
    const urls = await createQueues(sqs);
    await new SqsWorkQueue(client, urls, { retryDelayMs: 1 }).sendPages(pages('s-r', 10), 'normal');
    expect(calls()).toBe(2);
    const got = (await drain(sqs, urls.pageNormal)) as PageMessage[];
    expect(got.map((m) => m.task.taskId).sort()).toEqual(
      pages('s-r', 10)
        .map((m) => m.task.taskId)
        .sort(),
    );
  });

  it('gives up with a clear error when an entry keeps failing', async () => {
    const { client, calls } = hookedClient(async (input, send) => {
      const failed = [{ Id: '0', SenderFault: false, Code: 'ServiceUnavailable', Message: 'busy' }];
      const rest = input.Entries?.filter((e) => e.Id !== '0') ?? [];
      // A resend of entry 0 alone never reaches moto (an empty batch is invalid): SQS fails it again.
      if (rest.length === 0) return { Successful: [], Failed: failed, $metadata: {} };
      return { ...(await send({ ...input, Entries: rest })), Failed: failed };
    });
    const urls = await createQueues(sqs);
    const queue = new SqsWorkQueue(client, urls, { maxAttempts: 3, retryDelayMs: 1 });
    const error = await queue.sendPages(pages('s-f', 4), 'high').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueSendError);
    expect((error as Error).message).toMatch(
      /1 message\(s\) to wq-.*-page-high still failing after 3 attempts \(ServiceUnavailable\)/,
    );
    expect((error as QueueSendError).failed).toEqual([
      { id: '0', code: 'ServiceUnavailable', senderFault: false },
    ]);
    expect(calls()).toBe(3);
    expect(await drain(sqs, urls.pageHigh)).toHaveLength(3);
  });

  it('fails at once, without resending, when SQS refuses an entry as the sender’s fault', async () => {
    // An out-of-range DelaySeconds on one entry: moto itself reports it as a failed entry with SenderFault.
    const { client, calls } = hookedClient((input, send) =>
      send({
        ...input,
        Entries: input.Entries?.map((e) => (e.Id === '1' ? { ...e, DelaySeconds: 901 } : e)),
      }),
    );
    const urls = await createQueues(sqs);
    const error = await new SqsWorkQueue(client, urls, { retryDelayMs: 1 })
      .sendExports([1, 2, 3].map((i) => ({ type: 'export', scanId: 's', batchId: `b${i}` })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueSendError);
    expect((error as Error).message).toMatch(/refused as malformed/);
    expect((error as QueueSendError).failed).toEqual([
      expect.objectContaining({ id: '1', senderFault: true }),
    ]);
    expect(calls()).toBe(1);
  });

  it('surfaces a missing queue as the SDK error', async () => {
    const urls = await createQueues(sqs);
    const queue = new SqsWorkQueue(sqs, { ...urls, export: `${urls.export}-missing` });
    await expect(queue.sendExports([{ type: 'export', scanId: 's', batchId: 'b' }])).rejects.toThrow(
      /queue does not exist|NonExistentQueue/i,
    );
  });
});

describe('chunkBodies', () => {
  it('splits by count and by bytes, keeping order', () => {
    expect(chunkBodies(Array.from({ length: 21 }, (_, i) => String(i))).map((c) => c.length)).toEqual([
      10, 10, 1,
    ]);
    const big = 'x'.repeat(100 * 1024);
    expect(chunkBodies([big, big, big, 'a']).map((c) => c.length)).toEqual([2, 2]);
    expect(chunkBodies([])).toEqual([]);
  });
});
