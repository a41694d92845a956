// scanDepsFromEnv against moto: the environment infra sets builds working adapters, and the collector handler turns
// a schedule message into a scan through them; a wrong environment fails naming every bad variable.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateScheduleGroupCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { SCAN_ENV, scanDepsFromEnv, scanEnvFrom, type ScanEnvName } from '#shared/adapters/aws/scan-deps';
import { createScanTables } from '#shared/adapters/aws/scan-stores';
import { silentLogger } from '#shared/logging';
import { createScanApi } from '#shared/scan/index';
import { createCollectorHandler } from '../../../functions/collector/handler.ts';

const endpoint = inject('awsEndpoint');
const config = localAwsClientConfig(endpoint);

/** Creates what the stateful stack would, on moto, and returns the environment the stateless stack would set. */
async function deployLocally(): Promise<Record<ScanEnvName, string>> {
  const run = randomUUID().slice(0, 8);
  const sqs = new SQSClient(config);
  const queue = async (name: string): Promise<{ url: string; arn: string }> => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `deps-${run}-${name}` }));
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    return { url: QueueUrl ?? '', arn: attrs.Attributes?.QueueArn ?? '' };
  };
  const [start, high, normal, exp] = [
    await queue('start'),
    await queue('high'),
    await queue('normal'),
    await queue('export'),
  ];
  const tables = { scans: `scans-${run}`, findings: `findings-${run}`, outbox: `outbox-${run}` };
  await createScanTables(new DynamoDBClient(config), tables);
  await new EventBridgeClient(config).send(new CreateEventBusCommand({ Name: `bus-${run}` }));
  await new SchedulerClient(config).send(new CreateScheduleGroupCommand({ Name: `group-${run}` }));
  const token = await new SecretsManagerClient(config).send(
    new CreateSecretCommand({ Name: `token-${run}`, SecretString: 'tok' }),
  );
  return {
    [SCAN_ENV.scansTable]: tables.scans,
    [SCAN_ENV.findingsTable]: tables.findings,
    [SCAN_ENV.outboxTable]: tables.outbox,
    [SCAN_ENV.startQueueUrl]: start.url,
    [SCAN_ENV.startQueueArn]: start.arn,
    [SCAN_ENV.pageHighQueueUrl]: high.url,
    [SCAN_ENV.pageNormalQueueUrl]: normal.url,
    [SCAN_ENV.exportQueueUrl]: exp.url,
    [SCAN_ENV.eventBusName]: `bus-${run}`,
    [SCAN_ENV.scheduleGroup]: `group-${run}`,
    [SCAN_ENV.schedulerRoleArn]: 'arn:aws:iam::123456789012:role/scheduler',
    [SCAN_ENV.ingestionUrl]: '',
    [SCAN_ENV.ingestionTokenSecretArn]: token.ARN ?? '',
    [SCAN_ENV.secretPrefix]: `kfs-${run}`,
    [SCAN_ENV.ranBy]: 'test-deployment',
    [SCAN_ENV.logLevel]: 'error',
    [SCAN_ENV.pageMaxAttempts]: '3',
    [SCAN_ENV.exportMaxAttempts]: '5',
  };
}

describe('scanDepsFromEnv (moto)', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    // The SDK's default credential chain reads these; moto accepts any.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  });
  afterAll(() => {
    process.env = saved;
  });

  it('reads the pipeline settings from the environment', async () => {
    const env = await deployLocally();
    const deps = scanDepsFromEnv(
      { ...env, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint },
      { logger: silentLogger },
    );
    expect(deps.config).toMatchObject({
      ingestionUrl: null,
      ranBy: 'test-deployment',
      pageMaxAttempts: 3,
      exportMaxAttempts: 5,
    });
    expect(await deps.secrets.getIngestionToken()).toBe('tok');
    const withUrl = scanEnvFrom({ ...env, [SCAN_ENV.ingestionUrl]: 'https://ingest.example.com/v1' });
    expect(withUrl.INGESTION_URL).toBe('https://ingest.example.com/v1');
  });

  it('runs a schedule through the wired adapters: schedule created, collector starts a scan from it', async () => {
    const env = await deployLocally();
    const deps = scanDepsFromEnv(
      { ...env, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint },
      { logger: silentLogger },
    );
    const schedule = await createScanApi(deps).createSchedule(
      {
        name: 'nightly',
        expression: 'cron(0 2 * * ? *)',
        timezone: 'UTC',
        scan: {
          sensorName: 'prod',
          url: 'https://command.example.com/KeyfactorAPI',
          queryFilter: null,
          credentials: { username: 'u', password: 'p' },
          callbackId: null,
          labels: [],
          priority: 'high',
        },
      },
      'key-1',
    );
    const timer = await new SchedulerClient(config).send(
      new GetScheduleCommand({ Name: schedule.scheduleId, GroupName: env.SCHEDULE_GROUP_NAME }),
    );
    expect(timer.Target?.Arn).toBe(env.START_QUEUE_ARN);
    expect(schedule.sensor.credentialsRef).toContain(`:secret:${env.SENSOR_SECRET_PREFIX}/sensors/`);

    // What Scheduler would deliver to the start queue, handed to the collector as Lambda's mapping would.
    const event = {
      Records: [
        {
          messageId: 'm-1',
          body: JSON.stringify({ type: 'schedule', scheduleId: schedule.scheduleId }),
          attributes: { ApproximateReceiveCount: '1' },
        },
      ],
    } as unknown as SQSEvent;
    expect(await createCollectorHandler(deps)(event)).toEqual({ batchItemFailures: [] });

    const scans = await deps.scans.listScans({ limit: 10 });
    expect(scans.items).toHaveLength(1);
    expect(scans.items[0]).toMatchObject({
      trigger: 'schedule',
      scheduleId: schedule.scheduleId,
      state: 'PENDING',
    });
    const started = await new SQSClient(config).send(
      new ReceiveMessageCommand({ QueueUrl: env.START_QUEUE_URL, MaxNumberOfMessages: 10 }),
    );
    expect(started.Messages?.map((m) => JSON.parse(m.Body ?? '{}') as unknown)).toEqual([
      { type: 'start', scanId: scans.items[0]?.scanId },
    ]);
  });

  it('fails naming every missing or malformed variable', () => {
    const error = (() => {
      try {
        scanEnvFrom({
          [SCAN_ENV.startQueueUrl]: 'not a url',
          [SCAN_ENV.schedulerRoleArn]: 'role/x',
          [SCAN_ENV.pageMaxAttempts]: '0',
        });
        return null;
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).not.toBeNull();
    for (const name of [
      SCAN_ENV.scansTable,
      SCAN_ENV.findingsTable,
      SCAN_ENV.outboxTable,
      SCAN_ENV.startQueueUrl,
      SCAN_ENV.schedulerRoleArn,
      SCAN_ENV.secretPrefix,
      SCAN_ENV.pageMaxAttempts,
    ])
      expect(error?.message).toContain(name);
  });
});
