// The deployed API entry point with scan resources on moto: built from the environment (scanApiFromEnv →
// scanDepsFromEnv + createScanApi), it queues a scan on SQS, keeps the credentials in Secrets Manager and the scan in
// DynamoDB, and creates an EventBridge Scheduler schedule.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createApiKeyTables, DynamoApiKeyStore, DynamoAuditLog } from '#shared/adapters/aws/apikey-store';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { SCAN_ENV } from '#shared/adapters/aws/scan-deps';
import { createDynamoScanStores } from '#shared/adapters/aws/scan-stores';
import { scanApiFromEnv } from '#shared/api/config';
import { ApiKeyService, ScryptKeyHasher } from '#shared/apikeys/index';
import { silentLogger } from '#shared/logging';
import { createLocalCloud, type LocalCloud } from '#test/support/local-cloud';
import { gateway } from '#test/support/apigw';
import { handler as apiHandler } from '../../../functions/api/handler.ts';
import { handler as authorizerHandler } from '../../../functions/authorizer/handler.ts';

const endpoint = inject('awsEndpoint');
const PASSWORD = 'Deployed-Okapi-4410-distinctive';
const names = { keys: `scan-deployed-keys-${randomUUID()}`, audit: `scan-deployed-audit-${randomUUID()}` };
let cloud: LocalCloud;
let token: string;

beforeAll(async () => {
  cloud = await createLocalCloud(endpoint);
  const dynamo = new DynamoDBClient(localAwsClientConfig(endpoint));
  await createApiKeyTables(dynamo, names);
  for (const [name, value] of Object.entries(cloud.env)) vi.stubEnv(name, value);
  vi.stubEnv('API_KEYS_TABLE_NAME', names.keys);
  vi.stubEnv('API_KEYS_AUDIT_TABLE_NAME', names.audit);
  vi.stubEnv('LOG_LEVEL', 'error');
  // Licensing off: with it, the deployed handler gates scans and trusts only the vendor key, so no test license
  // could enable them (test/integration/api/license-deployed.test.ts covers that wiring).
  vi.stubEnv('LICENSE_TABLE_NAME', '');
  const service = new ApiKeyService({
    store: new DynamoApiKeyStore(dynamo, names.keys),
    audit: new DynamoAuditLog(dynamo, names.audit),
    hasher: new ScryptKeyHasher({ N: 1024 }),
  });
  token = (await service.create(null, { roles: ['ScanManager'] })).secret;
});

afterAll(() => {
  vi.unstubAllEnvs();
});

describe('the deployed API handler with scan resources', () => {
  it('queues a scan on SQS, with the credentials in Secrets Manager and only their ARN in DynamoDB', async () => {
    const call = gateway(authorizerHandler, apiHandler);
    const res = await call({
      method: 'POST',
      path: '/v3/scan/create',
      token,
      json: {
        sensorName: `deployed-${randomUUID().slice(0, 8)}`,
        sensorType: 'Keyfactor Command',
        sensorConfig: {
          url: 'https://command.example.com/KeyfactorAPI',
          username: 'svc',
          password: PASSWORD,
        },
        callbackId: 'deployed-1',
        labels: [{ env: 'test' }],
      },
    });
    expect(res.status).toBe(201);
    const { scanId } = res.body as { scanId: string };
    expect(JSON.stringify(res)).not.toContain(PASSWORD);

    const received = await cloud.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: cloud.queues.start.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    expect((received.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}') as unknown)).toContainEqual({
      type: 'start',
      scanId,
    });

    const stores = createDynamoScanStores(cloud.dynamo, cloud.tables);
    const record = await stores.scans.getScan(scanId);
    expect(record?.sensor.credentialsRef).toMatch(/^arn:aws:secretsmanager:/);
    expect(JSON.stringify(record)).not.toContain(PASSWORD);
    const secret = await new SecretsManagerClient(cloud.aws).send(
      new GetSecretValueCommand({ SecretId: record?.sensor.credentialsRef }),
    );
    expect(JSON.parse(secret.SecretString ?? '{}')).toMatchObject({ username: 'svc', password: PASSWORD });

    const read = await call({ method: 'GET', path: `/v3/scans/${scanId}`, token });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ scanId, state: 'PENDING', callbackId: 'deployed-1' });
    expect(JSON.stringify(read)).not.toMatch(/secretsmanager|credential/i);
  });

  it('creates and deletes an EventBridge Scheduler schedule', async () => {
    const call = gateway(authorizerHandler, apiHandler);
    const res = await call({
      method: 'POST',
      path: '/v3/schedules',
      token,
      json: {
        name: 'nightly',
        expression: 'cron(0 2 * * ? *)',
        scan: {
          sensorName: `scheduled-${randomUUID().slice(0, 8)}`,
          sensorType: 'Keyfactor Command',
          sensorConfig: {
            url: 'https://command.example.com/KeyfactorAPI',
            username: 'svc',
            password: PASSWORD,
          },
        },
      },
    });
    expect(res.status).toBe(201);
    const { scheduleId } = res.body as { scheduleId: string };
    const scheduler = new SchedulerClient(cloud.aws);
    const group = cloud.env[SCAN_ENV.scheduleGroup];
    const timer = await scheduler.send(new GetScheduleCommand({ Name: scheduleId, GroupName: group }));
    expect(timer.ScheduleExpression).toBe('cron(0 2 * * ? *)');
    expect(JSON.stringify(timer)).not.toContain(PASSWORD);

    expect((await call({ method: 'DELETE', path: `/v3/schedules/${scheduleId}`, token })).status).toBe(204);
    await expect(
      scheduler.send(new GetScheduleCommand({ Name: scheduleId, GroupName: group })),
    ).rejects.toThrow();
  });
});

describe('scanApiFromEnv', () => {
  it('is undefined without SCANS_TABLE_NAME, and fails naming a missing variable otherwise', () => {
    expect(scanApiFromEnv(silentLogger, {})).toBeUndefined();
    const { [SCAN_ENV.startQueueUrl]: _missing, ...rest } = cloud.env;
    expect(() => scanApiFromEnv(silentLogger, rest)).toThrow(SCAN_ENV.startQueueUrl);
    expect(scanApiFromEnv(silentLogger, cloud.env)).toBeDefined();
  });
});
