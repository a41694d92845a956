// EventBridgeScheduler against moto: the schedule's target, input, role and window; re-create, delete, bad ids.
// moto 5.2.5 stores schedules but neither validates expressions nor fires them: a schedule reaching the queue is not
// testable here (the collector's handling of the message is tested with the handler).
import { randomUUID } from 'node:crypto';
import { CreateScheduleGroupCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { describe, expect, inject, it } from 'vitest';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { EventBridgeScheduler, ScheduleError } from '#shared/adapters/aws/scheduler';
import type { Schedule } from '#shared/scan/model';

const config = localAwsClientConfig(inject('awsEndpoint'));
const startQueueArn = 'arn:aws:sqs:us-east-1:123456789012:kfs-start';
const roleArn = 'arn:aws:iam::123456789012:role/kfs-scheduler';

const schedule = (scheduleId: string, overrides: Partial<Schedule> = {}): Schedule => ({
  scheduleId,
  name: 'nightly prod',
  expression: 'cron(0 2 * * ? *)',
  timezone: 'Europe/Berlin',
  enabled: true,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'key-1',
  sensor: {
    sensorName: 'prod',
    url: 'https://command.example.com/KeyfactorAPI',
    queryFilter: null,
    authMethod: 'basic',
    credentialsRef: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kfs/sensors/prod-AbCdEf',
    labels: [],
    priority: 'normal',
    autoResolutionInterval: 5,
    pageSize: 1000,
    hostConcurrency: 4,
  },
  ...overrides,
});

describe('EventBridgeScheduler (moto)', () => {
  const client = new SchedulerClient(config);

  async function group(): Promise<string> {
    const name = `kfs-${randomUUID().slice(0, 8)}`;
    await client.send(new CreateScheduleGroupCommand({ Name: name }));
    return name;
  }

  it('creates a schedule that sends {type: schedule, scheduleId} to the start queue as the scheduler role', async () => {
    const groupName = await group();
    await new EventBridgeScheduler(client, { groupName, startQueueArn, roleArn }).create(schedule('sch-1'));
    const got = await client.send(new GetScheduleCommand({ Name: 'sch-1', GroupName: groupName }));
    expect(got).toMatchObject({
      GroupName: groupName,
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: { Arn: startQueueArn, RoleArn: roleArn },
    });
    expect(JSON.parse(got.Target?.Input ?? '')).toEqual({ type: 'schedule', scheduleId: 'sch-1' });
  });

  it('updates in place when the schedule exists (a retried create) and keeps a disabled one disabled', async () => {
    const groupName = await group();
    const scheduler = new EventBridgeScheduler(client, { groupName, startQueueArn, roleArn });
    await scheduler.create(schedule('sch-2'));
    await scheduler.create(schedule('sch-2', { expression: 'rate(6 hours)', enabled: false }));
    const got = await client.send(new GetScheduleCommand({ Name: 'sch-2', GroupName: groupName }));
    expect(got.ScheduleExpression).toBe('rate(6 hours)');
    expect(got.State).toBe('DISABLED');
  });

  it('deletes a schedule, and deleting it again is not an error', async () => {
    const groupName = await group();
    const scheduler = new EventBridgeScheduler(client, { groupName, startQueueArn, roleArn });
    await scheduler.create(schedule('sch-3'));
    await scheduler.delete('sch-3');
    await expect(
      client.send(new GetScheduleCommand({ Name: 'sch-3', GroupName: groupName })),
    ).rejects.toThrow();
    await expect(scheduler.delete('sch-3')).resolves.toBeUndefined();
  });

  it('refuses a schedule id Scheduler could not use as a name', async () => {
    const groupName = await group();
    const scheduler = new EventBridgeScheduler(client, { groupName, startQueueArn, roleArn });
    await expect(scheduler.create(schedule('has space'))).rejects.toBeInstanceOf(ScheduleError);
    await expect(scheduler.delete('x'.repeat(65))).rejects.toThrow(/not a valid EventBridge Scheduler name/);
  });

  it('fails when the group does not exist', async () => {
    const scheduler = new EventBridgeScheduler(client, {
      groupName: `missing-${randomUUID()}`,
      startQueueArn,
      roleArn,
    });
    await expect(scheduler.create(schedule('sch-4'))).rejects.toThrow();
  });
});
