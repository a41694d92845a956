// The deployed stack's stateful resources on moto (tables, queues with DLQs, secrets, bus, schedule group), named
// uniquely per call, and the environment the scan functions read (SCAN_ENV): the cloud path, minus Lambda itself.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { localAwsClientConfig, type AwsClientConfig } from '#shared/adapters/aws/client-config';
import { ensureInstanceKey } from '#shared/adapters/aws/instance-key';
import { LICENSE_ENV } from '#shared/adapters/aws/license-deps';
import { createLicenseTable } from '#shared/adapters/aws/license-stores';
import { SCAN_ENV } from '#shared/adapters/aws/scan-deps';
import { createScanTables, type ScanTableNames } from '#shared/adapters/aws/scan-stores';

export interface LocalQueue {
  url: string;
  arn: string;
  dlqUrl: string;
}

export interface LocalCloud {
  endpoint: string;
  aws: AwsClientConfig;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  tables: ScanTableNames & { license: string };
  /** What licenses for this deployment must name. */
  instanceId: string;
  queues: { start: LocalQueue; pageHigh: LocalQueue; pageNormal: LocalQueue; export: LocalQueue };
  /** Process-style environment for scanDepsFromEnv (includes AWS_ENDPOINT_URL and region). */
  env: Record<string, string>;
  /** Bodies of the messages sitting in a DLQ (received and left there, visibility 0). */
  dlqBodies(queue: LocalQueue): Promise<string[]>;
}

export interface LocalCloudOptions {
  ingestionUrl?: string | null;
  ingestionToken?: string;
  pageMaxAttempts?: number;
  exportMaxAttempts?: number;
  /** Metadata fields excluded from the actioned-certificate count (LICENSE_EXCLUDED_METADATA_FIELDS). */
  excludedMetadataFields?: readonly string[];
}

async function createQueue(sqs: SQSClient, name: string, maxReceiveCount: number): Promise<LocalQueue> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqUrl = dlq.QueueUrl ?? '';
  const dlqArn = await queueArn(sqs, dlqUrl);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
        VisibilityTimeout: '900',
      },
    }),
  );
  const url = queue.QueueUrl ?? '';
  return { url, arn: await queueArn(sqs, url), dlqUrl };
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${url} has no ARN`);
  return arn;
}

export async function createLocalCloud(
  endpoint: string,
  options: LocalCloudOptions = {},
): Promise<LocalCloud> {
  const aws = localAwsClientConfig(endpoint);
  const id = randomUUID().slice(0, 8);
  const sqs = new SQSClient(aws);
  const dynamo = new DynamoDBClient(aws);
  const tables = {
    scans: `scans-${id}`,
    findings: `findings-${id}`,
    outbox: `outbox-${id}`,
    license: `license-${id}`,
  };
  const pageAttempts = options.pageMaxAttempts ?? 3;
  const exportAttempts = options.exportMaxAttempts ?? 5;
  const [, , start, pageHigh, pageNormal, exportQueue] = await Promise.all([
    createScanTables(dynamo, tables),
    createLicenseTable(dynamo, tables.license),
    createQueue(sqs, `start-${id}`, 3),
    createQueue(sqs, `page-high-${id}`, pageAttempts),
    createQueue(sqs, `page-normal-${id}`, pageAttempts),
    createQueue(sqs, `export-${id}`, exportAttempts),
  ]);
  const secrets = new SecretsManagerClient(aws);
  const tokenSecret = await secrets.send(
    new CreateSecretCommand({
      Name: `kfsensor-${id}/ingestion-token`,
      SecretString: JSON.stringify({ token: options.ingestionToken ?? `ingest-${randomUUID()}` }),
    }),
  );
  // As deployed: a placeholder secret that the bootstrap custom resource fills with a generated key.
  const instanceKeySecret = await secrets.send(
    new CreateSecretCommand({ Name: `kfsensor-${id}/instance-key`, SecretString: '{"placeholder":true}' }),
  );
  await ensureInstanceKey(secrets, instanceKeySecret.ARN ?? '');
  const instanceId = `local:${id}`;
  const busName = `scan-events-${id}`;
  await new EventBridgeClient(aws).send(new CreateEventBusCommand({ Name: busName }));
  const scheduleGroup = `schedules-${id}`;
  await new SchedulerClient(aws).send(new CreateScheduleGroupCommand({ Name: scheduleGroup }));
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: aws.region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    [SCAN_ENV.scansTable]: tables.scans,
    [SCAN_ENV.findingsTable]: tables.findings,
    [SCAN_ENV.outboxTable]: tables.outbox,
    [SCAN_ENV.startQueueUrl]: start.url,
    [SCAN_ENV.startQueueArn]: start.arn,
    [SCAN_ENV.pageHighQueueUrl]: pageHigh.url,
    [SCAN_ENV.pageNormalQueueUrl]: pageNormal.url,
    [SCAN_ENV.exportQueueUrl]: exportQueue.url,
    [SCAN_ENV.eventBusName]: busName,
    [SCAN_ENV.scheduleGroup]: scheduleGroup,
    [SCAN_ENV.schedulerRoleArn]: 'arn:aws:iam::123456789012:role/local-scheduler',
    [SCAN_ENV.ingestionUrl]: options.ingestionUrl ?? '',
    [SCAN_ENV.ingestionTokenSecretArn]: tokenSecret.ARN ?? '',
    [SCAN_ENV.secretPrefix]: `kfsensor-${id}`,
    [SCAN_ENV.ranBy]: 'local-driver',
    [SCAN_ENV.logLevel]: 'error',
    [SCAN_ENV.pageMaxAttempts]: String(pageAttempts),
    [SCAN_ENV.exportMaxAttempts]: String(exportAttempts),
    [LICENSE_ENV.licenseTable]: tables.license,
    [LICENSE_ENV.instanceId]: instanceId,
    [LICENSE_ENV.instanceKeySecretArn]: instanceKeySecret.ARN ?? '',
    [LICENSE_ENV.excludedMetadataFields]: (options.excludedMetadataFields ?? []).join(','),
    [LICENSE_ENV.deployment]: `local-driver-${id}`,
  };
  return {
    endpoint,
    aws,
    sqs,
    dynamo,
    tables,
    instanceId,
    queues: { start, pageHigh, pageNormal, export: exportQueue },
    env,
    dlqBodies: async (queue) => {
      const bodies: string[] = [];
      for (;;) {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.dlqUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 30,
          }),
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) return bodies;
        bodies.push(...messages.map((m) => m.Body ?? ''));
      }
    },
  };
}
