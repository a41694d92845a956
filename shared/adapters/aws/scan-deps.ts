// The scan pipeline's dependencies in a Lambda: a zod-checked environment (names shared with infra/) to AWS adapters.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createCommandClient } from '#shared/keyfactor/index';
import { jsonLogger, type Logger } from '#shared/logging';
import { DEFAULT_PIPELINE_CONFIG, type ScanDeps } from '#shared/scan/deps';
import { systemClock, type Clock } from '#shared/scan/ports';
import { awsClientConfigFromEnv } from './client-config.ts';
import { EventBridgePublisher } from './events.ts';
import { EventBridgeScheduler } from './scheduler.ts';
import { createDynamoScanStores } from './scan-stores.ts';
import { DynamoCommandContextStore } from './license-stores.ts';
import { SecretsManagerSecretSource } from './secrets.ts';
import { SqsWorkQueue } from './work-queue.ts';

/** The environment variables the scan functions read; infra/stacks/stateless-stack.ts sets exactly these. */
export const SCAN_ENV = {
  scansTable: 'SCANS_TABLE_NAME',
  findingsTable: 'FINDINGS_TABLE_NAME',
  outboxTable: 'EXPORT_OUTBOX_TABLE_NAME',
  startQueueUrl: 'START_QUEUE_URL',
  startQueueArn: 'START_QUEUE_ARN',
  pageHighQueueUrl: 'PAGE_HIGH_QUEUE_URL',
  pageNormalQueueUrl: 'PAGE_NORMAL_QUEUE_URL',
  exportQueueUrl: 'EXPORT_QUEUE_URL',
  eventBusName: 'SCAN_EVENT_BUS_NAME',
  scheduleGroup: 'SCHEDULE_GROUP_NAME',
  schedulerRoleArn: 'SCHEDULER_ROLE_ARN',
  ingestionUrl: 'INGESTION_URL',
  ingestionTokenSecretArn: 'INGESTION_TOKEN_SECRET_ARN',
  secretPrefix: 'SENSOR_SECRET_PREFIX',
  ranBy: 'SENSOR_RAN_BY',
  logLevel: 'LOG_LEVEL',
  pageMaxAttempts: 'PAGE_MAX_ATTEMPTS',
  exportMaxAttempts: 'EXPORT_MAX_ATTEMPTS',
} as const;

export type ScanEnvName = (typeof SCAN_ENV)[keyof typeof SCAN_ENV];

const required = (name: string) =>
  z.string({ error: `${name} is required` }).min(1, { error: `${name} is required` });
/** Attempts are SQS maxReceiveCount values: the handlers must agree with the queues' redrive policies. */
const attempts = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number from 1 to 100` })
    .int({ error: `${name} must be a whole number from 1 to 100` })
    .min(1, { error: `${name} must be a whole number from 1 to 100` })
    .max(100, { error: `${name} must be a whole number from 1 to 100` })
    .default(fallback);

export const ScanEnvSchema = z.object({
  [SCAN_ENV.scansTable]: required(SCAN_ENV.scansTable),
  [SCAN_ENV.findingsTable]: required(SCAN_ENV.findingsTable),
  [SCAN_ENV.outboxTable]: required(SCAN_ENV.outboxTable),
  [SCAN_ENV.startQueueUrl]: z.url({ error: `${SCAN_ENV.startQueueUrl} must be a queue URL` }),
  [SCAN_ENV.startQueueArn]: required(SCAN_ENV.startQueueArn).regex(/^arn:[^:]+:sqs:/, {
    error: `${SCAN_ENV.startQueueArn} must be an SQS queue ARN`,
  }),
  [SCAN_ENV.pageHighQueueUrl]: z.url({ error: `${SCAN_ENV.pageHighQueueUrl} must be a queue URL` }),
  [SCAN_ENV.pageNormalQueueUrl]: z.url({ error: `${SCAN_ENV.pageNormalQueueUrl} must be a queue URL` }),
  [SCAN_ENV.exportQueueUrl]: z.url({ error: `${SCAN_ENV.exportQueueUrl} must be a queue URL` }),
  [SCAN_ENV.eventBusName]: required(SCAN_ENV.eventBusName),
  [SCAN_ENV.scheduleGroup]: required(SCAN_ENV.scheduleGroup),
  [SCAN_ENV.schedulerRoleArn]: required(SCAN_ENV.schedulerRoleArn).regex(/^arn:[^:]+:iam::/, {
    error: `${SCAN_ENV.schedulerRoleArn} must be an IAM role ARN`,
  }),
  // Empty or absent: exports stay pending in the outbox (a deployment without an ingestion endpoint yet).
  [SCAN_ENV.ingestionUrl]: z
    .union([
      z.literal(''),
      z.url({ protocol: /^https?$/, error: `${SCAN_ENV.ingestionUrl} must be an http(s) URL` }),
    ])
    .optional()
    .transform((v) => (v ? v : null)),
  [SCAN_ENV.ingestionTokenSecretArn]: z.string().optional(),
  [SCAN_ENV.secretPrefix]: required(SCAN_ENV.secretPrefix).regex(/^[A-Za-z0-9_+=.@/-]*[A-Za-z0-9_+=.@-]$/, {
    error: `${SCAN_ENV.secretPrefix} must be a secret-name path without a trailing /`,
  }),
  [SCAN_ENV.ranBy]: z.string().min(1).default(DEFAULT_PIPELINE_CONFIG.ranBy),
  [SCAN_ENV.logLevel]: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  [SCAN_ENV.pageMaxAttempts]: attempts(SCAN_ENV.pageMaxAttempts, DEFAULT_PIPELINE_CONFIG.pageMaxAttempts),
  [SCAN_ENV.exportMaxAttempts]: attempts(
    SCAN_ENV.exportMaxAttempts,
    DEFAULT_PIPELINE_CONFIG.exportMaxAttempts,
  ),
});

export type ScanEnv = z.output<typeof ScanEnvSchema>;

/** Throws (failing the cold start) with every missing or malformed variable named. */
export function scanEnvFrom(env: NodeJS.ProcessEnv = process.env): ScanEnv {
  return ScanEnvSchema.parse(env);
}

export interface ScanDepsOptions {
  /** The function's name in log lines (`collector`, `page-worker`, ...). */
  service?: string;
  logger?: Logger;
  clock?: Clock;
}

/**
 * Builds ScanDeps for a Lambda container (once per cold start): one SDK client per service, honouring
 * AWS_ENDPOINT_URL so the same wiring runs against moto.
 */
export function scanDepsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: ScanDepsOptions = {},
): ScanDeps {
  const e = scanEnvFrom(env);
  const aws = awsClientConfigFromEnv(env);
  const logger = options.logger ?? jsonLogger({ service: options.service ?? 'scan', level: e.LOG_LEVEL });
  const clock = options.clock ?? systemClock;
  const dynamo = new DynamoDBClient(aws);
  // Schedules and host leases are items of the scans table (their own partition keys), not tables of their own.
  const stores = createDynamoScanStores(
    dynamo,
    { scans: e.SCANS_TABLE_NAME, findings: e.FINDINGS_TABLE_NAME, outbox: e.EXPORT_OUTBOX_TABLE_NAME },
    { clock },
  );
  return {
    ...stores,
    queue: new SqsWorkQueue(new SQSClient(aws), {
      start: e.START_QUEUE_URL,
      pageHigh: e.PAGE_HIGH_QUEUE_URL,
      pageNormal: e.PAGE_NORMAL_QUEUE_URL,
      export: e.EXPORT_QUEUE_URL,
    }),
    secrets: new SecretsManagerSecretSource(new SecretsManagerClient(aws), {
      prefix: e.SENSOR_SECRET_PREFIX,
      ingestionTokenSecretId: e.INGESTION_TOKEN_SECRET_ARN ?? null,
    }),
    events: new EventBridgePublisher(new EventBridgeClient(aws), e.SCAN_EVENT_BUS_NAME),
    scheduler: new EventBridgeScheduler(new SchedulerClient(aws), {
      groupName: e.SCHEDULE_GROUP_NAME,
      startQueueArn: e.START_QUEUE_ARN,
      roleArn: e.SCHEDULER_ROLE_ARN,
    }),
    // The collector keeps each sensor's Command context for the license job (licensing deployed: the table is set).
    ...(env.LICENSE_TABLE_NAME
      ? { contexts: new DynamoCommandContextStore(dynamo, env.LICENSE_TABLE_NAME) }
      : {}),
    clock,
    logger,
    config: {
      ...DEFAULT_PIPELINE_CONFIG,
      ingestionUrl: e.INGESTION_URL,
      ranBy: e.SENSOR_RAN_BY,
      pageMaxAttempts: e.PAGE_MAX_ATTEMPTS,
      exportMaxAttempts: e.EXPORT_MAX_ATTEMPTS,
    },
    commandClient: (settings) =>
      createCommandClient(settings, {
        pageSize: settings.pageSize,
        maxConcurrency: settings.maxConcurrency,
        logger,
      }),
  };
}
