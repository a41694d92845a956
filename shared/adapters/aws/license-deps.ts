// The licensing service's dependencies in a Lambda (API and daily job): a zod-checked environment (names shared with
// infra/) to AWS adapters. The trusted vendor keys are compiled in: no variable can make a deployment trust another key.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import type { LicenseDeps } from '#shared/license/service';
import { VENDOR_PUBLIC_KEYS } from '#shared/license/vendor-keys';
import { jsonLogger, type Logger } from '#shared/logging';
import { DEFAULT_PIPELINE_CONFIG } from '#shared/scan/deps';
import { systemClock, type Clock } from '#shared/scan/ports';
import { awsClientConfigFromEnv } from './client-config.ts';
import { EventBridgeAlertPublisher } from './events.ts';
import { SecretsManagerInstanceKey } from './instance-key.ts';
import { createDynamoLicenseStores } from './license-stores.ts';
import { DynamoFindingStore } from './scan-stores.ts';
import { SCAN_ENV } from './scan-deps.ts';

/** The variables licenseDepsFromEnv reads; infra/stacks/stateless-stack.ts sets them (plus the scan ones named). */
export const LICENSE_ENV = {
  licenseTable: 'LICENSE_TABLE_NAME',
  instanceId: 'INSTANCE_ID',
  instanceKeySecretArn: 'INSTANCE_KEY_SECRET_ARN',
  excludedMetadataFields: 'LICENSE_EXCLUDED_METADATA_FIELDS',
  /** Optional: how the usage log names this deployment (default `aws:<region>`). */
  deployment: 'SENSOR_DEPLOYMENT',
  /** Shared with the scan functions: the daily count reads the findings, alerts go on the sensor's bus. */
  findingsTable: SCAN_ENV.findingsTable,
  eventBusName: SCAN_ENV.eventBusName,
  logLevel: SCAN_ENV.logLevel,
} as const;

const required = (name: string) =>
  z.string({ error: `${name} is required` }).min(1, { error: `${name} is required` });

export const LicenseEnvSchema = z.object({
  [LICENSE_ENV.licenseTable]: required(LICENSE_ENV.licenseTable),
  [LICENSE_ENV.instanceId]: required(LICENSE_ENV.instanceId).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, {
    error: `${LICENSE_ENV.instanceId} must be 1–128 characters from A–Z, a–z, 0–9, . _ : -`,
  }),
  [LICENSE_ENV.instanceKeySecretArn]: required(LICENSE_ENV.instanceKeySecretArn).regex(
    /^arn:[^:]+:secretsmanager:/,
    {
      error: `${LICENSE_ENV.instanceKeySecretArn} must be a Secrets Manager secret ARN`,
    },
  ),
  // Comma-separated metadata field names; blanks are dropped.
  [LICENSE_ENV.excludedMetadataFields]: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  [LICENSE_ENV.deployment]: z.string().min(1).optional(),
  [LICENSE_ENV.findingsTable]: required(LICENSE_ENV.findingsTable),
  [LICENSE_ENV.eventBusName]: required(LICENSE_ENV.eventBusName),
  [LICENSE_ENV.logLevel]: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type LicenseEnv = z.output<typeof LicenseEnvSchema>;

/** Throws (failing the cold start) with every missing or malformed variable named. */
export function licenseEnvFrom(env: NodeJS.ProcessEnv = process.env): LicenseEnv {
  return LicenseEnvSchema.parse(env);
}

export interface LicenseDepsOptions {
  service?: string;
  logger?: Logger;
  clock?: Clock;
  /**
   * Tests only: the vendor keys to trust instead of VENDOR_PUBLIC_KEYS. Code, not configuration, so a deployment
   * can never be pointed at another key.
   */
  trustedKeys?: readonly string[];
}

/** LicenseDeps for a Lambda container (once per cold start); clients honour AWS_ENDPOINT_URL (moto). */
export function licenseDepsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: LicenseDepsOptions = {},
): LicenseDeps {
  const e = licenseEnvFrom(env);
  const aws = awsClientConfigFromEnv(env);
  const dynamo = new DynamoDBClient(aws);
  const logger = options.logger ?? jsonLogger({ service: options.service ?? 'license', level: e.LOG_LEVEL });
  return {
    ...createDynamoLicenseStores(dynamo, e.LICENSE_TABLE_NAME),
    findings: new DynamoFindingStore(dynamo, e.FINDINGS_TABLE_NAME),
    instanceKey: new SecretsManagerInstanceKey(new SecretsManagerClient(aws), e.INSTANCE_KEY_SECRET_ARN),
    publisher: new EventBridgeAlertPublisher(new EventBridgeClient(aws), e.SCAN_EVENT_BUS_NAME),
    clock: options.clock ?? systemClock,
    logger,
    config: {
      instanceId: e.INSTANCE_ID,
      trustedKeys: options.trustedKeys ?? VENDOR_PUBLIC_KEYS,
      excludedMetadataFields: e.LICENSE_EXCLUDED_METADATA_FIELDS,
      sensorVersion: DEFAULT_PIPELINE_CONFIG.sensorVersion,
      deployment: e.SENSOR_DEPLOYMENT ?? `aws:${aws.region}`,
    },
  };
}
