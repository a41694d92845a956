// EventBridgePublisher against moto: events reach a rule's SQS target; refused entries and a missing bus throw.
import { randomUUID } from 'node:crypto';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { EVENT_SOURCE, EventBridgePublisher, EventPublishError } from '#shared/adapters/aws/events';

const config = localAwsClientConfig(inject('awsEndpoint'));

/** A bus with a rule sending the sensor's events to a fresh queue, as a subscriber would set it up. */
async function busWithQueue(
  events: EventBridgeClient,
  sqs: SQSClient,
): Promise<{ bus: string; queueUrl: string }> {
  const bus = `scan-events-${randomUUID().slice(0, 8)}`;
  await events.send(new CreateEventBusCommand({ Name: bus }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${bus}-sub` }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await events.send(
    new PutRuleCommand({
      Name: 'all-scan-events',
      EventBusName: bus,
      EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: 'all-scan-events',
      EventBusName: bus,
      Targets: [{ Id: 'q', Arn: attrs.Attributes?.QueueArn }],
    }),
  );
  return { bus, queueUrl: QueueUrl ?? '' };
}

describe('EventBridgePublisher (moto)', () => {
  const events = new EventBridgeClient(config);
  const sqs = new SQSClient(config);

  it('publishes ScanFinished with the detail on the configured bus', async () => {
    const { bus, queueUrl } = await busWithQueue(events, sqs);
    const detail = {
      scanId: 's-1',
      callbackId: 'cb-9',
      state: 'COMPLETED',
      counts: { exportedFindings: 42 },
    };
    await new EventBridgePublisher(events, bus).publish('ScanFinished', detail);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    expect(got.Messages).toHaveLength(1);
    const event = JSON.parse(got.Messages?.[0]?.Body ?? '{}') as Record<string, unknown>;
    expect(event).toMatchObject({ source: EVENT_SOURCE, 'detail-type': 'ScanFinished', detail });
  });

  it('throws when EventBridge reports a failed entry', async () => {
    const { bus } = await busWithQueue(events, sqs);
    const client = new EventBridgeClient(config);
    // Corrupts the request on its way to moto, which then answers FailedEntryCount 1 (MalformedDetail) with HTTP 200.
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Entries: { Detail?: string }[] };
        return next({
          ...args,
          input: { ...input, Entries: input.Entries.map((e) => ({ ...e, Detail: '{not json' })) },
        });
      },
      { step: 'initialize', name: 'corruptDetail' },
    );
    const error = await new EventBridgePublisher(client, bus)
      .publish('ScanStarted', { scanId: 's' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as Error).message).toBe(
      `EventBridge refused ScanStarted on bus ${bus}: MalformedDetail Detail is malformed.`,
    );
  });

  it('fails on a bus that does not exist', async () => {
    await expect(
      new EventBridgePublisher(events, `missing-${randomUUID()}`).publish('ScanStarted', { scanId: 's' }),
    ).rejects.toThrow(/does not exist|not found|EventBusName/i);
  });
});
