// EventBridgeAlertPublisher against moto: a LicenseAlert reaches a subscriber's queue with the alert as its detail;
// a refused entry and a missing bus throw.
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
import {
  EVENT_SOURCE,
  EventBridgeAlertPublisher,
  EventPublishError,
  LICENSE_ALERT_DETAIL_TYPE,
} from '#shared/adapters/aws/events';
import type { Alert } from '#shared/license/model';

const config = localAwsClientConfig(inject('awsEndpoint'));

/** A bus with a rule sending only LicenseAlert events to a fresh queue, as an alert subscriber would set it up. */
async function busWithAlertQueue(
  events: EventBridgeClient,
  sqs: SQSClient,
): Promise<{ bus: string; queueUrl: string }> {
  const bus = `license-events-${randomUUID().slice(0, 8)}`;
  await events.send(new CreateEventBusCommand({ Name: bus }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${bus}-sub` }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await events.send(
    new PutRuleCommand({
      Name: 'license-alerts',
      EventBusName: bus,
      EventPattern: JSON.stringify({ source: [EVENT_SOURCE], 'detail-type': ['LicenseAlert'] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: 'license-alerts',
      EventBusName: bus,
      Targets: [{ Id: 'q', Arn: attrs.Attributes?.QueueArn }],
    }),
  );
  return { bus, queueUrl: QueueUrl ?? '' };
}

describe('EventBridgeAlertPublisher (moto)', () => {
  const events = new EventBridgeClient(config);
  const sqs = new SQSClient(config);
  const alert: Alert = {
    alertId: 'actioned-over-limit:2026-03-02',
    kind: 'actioned-over-limit',
    severity: 'warning',
    message: '120 actioned certificates exceed the licensed 100 (license LIC-1)',
    createdAt: '2026-03-02T02:01:00.000Z',
    details: { total: 120, allowance: 100, licenseId: 'LIC-1', runId: 'run-9' },
  };

  it("publishes a LicenseAlert whose detail is the alert, with the scan events' source", async () => {
    const { bus, queueUrl } = await busWithAlertQueue(events, sqs);
    await new EventBridgeAlertPublisher(events, bus).publishAlert(alert);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    expect(got.Messages).toHaveLength(1);
    const event = JSON.parse(got.Messages?.[0]?.Body ?? '{}') as Record<string, unknown>;
    expect(LICENSE_ALERT_DETAIL_TYPE).toBe('LicenseAlert');
    expect(event).toMatchObject({ source: 'keyfactor-command-sensor', 'detail-type': 'LicenseAlert' });
    expect(event.detail).toEqual(alert);
  });

  it('a refused entry throws EventPublishError naming LicenseAlert and the bus', async () => {
    const { bus } = await busWithAlertQueue(events, sqs);
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
    const error = await new EventBridgeAlertPublisher(client, bus)
      .publishAlert(alert)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as Error).message).toBe(
      `EventBridge refused LicenseAlert on bus ${bus}: MalformedDetail Detail is malformed.`,
    );
  });

  it('fails on a bus that does not exist', async () => {
    await expect(
      new EventBridgeAlertPublisher(events, `missing-${randomUUID()}`).publishAlert(alert),
    ).rejects.toThrow(/does not exist|not found|EventBusName/i);
  });
});
