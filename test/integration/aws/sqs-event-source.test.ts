import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { SqsEventSourceEmulator } from '#shared/adapters/aws/sqs-event-source';

const sqs = new SQSClient(localAwsClientConfig(inject('awsEndpoint')));

async function queueWithDlq(maxReceiveCount: number): Promise<{ url: string; dlqUrl: string }> {
  const name = `q-${randomUUID()}`;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqUrl = dlq.QueueUrl ?? '';
  const arn = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn.Attributes?.QueueArn, maxReceiveCount }),
      },
    }),
  );
  return { url: queue.QueueUrl ?? '', dlqUrl };
}

async function send(url: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(j), MessageBody: b })),
      }),
    );
  }
}

async function drainBodies(url: string): Promise<string[]> {
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
  return (out.Messages ?? []).map((m) => m.Body ?? '');
}

describe('SqsEventSourceEmulator (the local driver) against moto SQS', () => {
  it('delivers every message once in batches and respects the mapping concurrency', async () => {
    const { url } = await queueWithDlq(3);
    await send(
      url,
      Array.from({ length: 45 }, (_, i) => `m${i}`),
    );
    const seen: string[] = [];
    let inFlight = 0;
    let peak = 0;
    const emulator = new SqsEventSourceEmulator(sqs, [
      {
        name: 'worker',
        queueUrl: url,
        batchSize: 4,
        maxConcurrency: 2,
        handler: async (event: SQSEvent) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          expect(event.Records.length).toBeLessThanOrEqual(4);
          await new Promise((r) => setTimeout(r, 10));
          seen.push(...event.Records.map((r) => r.body));
          inFlight--;
          return { batchItemFailures: [] };
        },
      },
    ]);
    const result = await emulator.drive({ timeoutMs: 60_000 });
    expect(result.drained).toBe(true);
    expect(seen.sort()).toEqual(Array.from({ length: 45 }, (_, i) => `m${i}`).sort());
    expect(peak).toBeLessThanOrEqual(2);
    expect(result.stats.worker?.failed).toBe(0);
  });

  it('retries only the reported failures, with the receive count rising, then redrives a poison message to the DLQ', async () => {
    const { url, dlqUrl } = await queueWithDlq(2);
    await send(url, ['ok-1', 'flaky', 'poison', 'ok-2']);
    const attempts = new Map<string, string[]>();
    const emulator = new SqsEventSourceEmulator(sqs, [
      {
        name: 'worker',
        queueUrl: url,
        batchSize: 10,
        maxConcurrency: 1,
        handler: (event: SQSEvent) => {
          const failures: { itemIdentifier: string }[] = [];
          for (const r of event.Records) {
            const list = attempts.get(r.body) ?? [];
            list.push(r.attributes.ApproximateReceiveCount);
            attempts.set(r.body, list);
            if (r.body === 'poison' || (r.body === 'flaky' && list.length === 1))
              failures.push({ itemIdentifier: r.messageId });
          }
          return Promise.resolve({ batchItemFailures: failures });
        },
      },
    ]);
    const result = await emulator.drive({ timeoutMs: 60_000 });
    expect(result.drained).toBe(true);
    expect(attempts.get('ok-1')).toEqual(['1']);
    expect(attempts.get('ok-2')).toEqual(['1']);
    expect(attempts.get('flaky')).toEqual(['1', '2']);
    expect(attempts.get('poison')).toEqual(['1', '2']);
    expect(await drainBodies(dlqUrl)).toEqual(['poison']);
  });

  it('retries the whole batch when the handler throws', async () => {
    const { url } = await queueWithDlq(5);
    await send(url, ['a', 'b']);
    let calls = 0;
    const delivered: string[] = [];
    const emulator = new SqsEventSourceEmulator(sqs, [
      {
        name: 'worker',
        queueUrl: url,
        batchSize: 10,
        maxConcurrency: 1,
        handler: (event: SQSEvent) => {
          calls++;
          if (calls === 1) return Promise.reject(new Error('crash mid-batch'));
          delivered.push(...event.Records.map((r) => `${r.body}@${r.attributes.ApproximateReceiveCount}`));
          return Promise.resolve({ batchItemFailures: [] });
        },
      },
    ]);
    const result = await emulator.drive({ timeoutMs: 60_000 });
    expect(result.drained).toBe(true);
    expect(result.stats.worker?.errors).toBe(1);
    expect(delivered.sort()).toEqual(['a@2', 'b@2']);
  });
});
