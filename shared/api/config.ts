// Configuration of the API and authorizer Lambdas, read once per container from the environment through a schema.
import { z } from 'zod';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfigFromEnv } from '#shared/adapters/aws/client-config';
import { DynamoApiKeyStore, DynamoAuditLog } from '#shared/adapters/aws/apikey-store';
import { LICENSE_ENV, licenseDepsFromEnv } from '#shared/adapters/aws/license-deps';
import { SCAN_ENV, scanDepsFromEnv } from '#shared/adapters/aws/scan-deps';
import type { ApiKeyStore, AuditLog } from '#shared/apikeys/index';
import { LicenseService } from '#shared/license/service';
import type { Logger } from '#shared/logging';
import type { ScanApi } from '#shared/scan/ports';
import { createScanApi } from '#shared/scan/service';

const ApiEnvSchema = z.object({
  API_KEYS_TABLE_NAME: z.string().min(1, { error: 'API_KEYS_TABLE_NAME is required' }),
  API_KEYS_AUDIT_TABLE_NAME: z.string().min(1, { error: 'API_KEYS_AUDIT_TABLE_NAME is required' }),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type ApiConfig = z.output<typeof ApiEnvSchema>;

/** Throws (failing the cold start) when a variable is missing or malformed. */
export function apiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return ApiEnvSchema.parse(env);
}

/** The DynamoDB-backed key store and audit log for a config; the client honours AWS_ENDPOINT_URL (e.g. moto). */
export function dynamoBackendFromEnv(
  config: ApiConfig,
  env: NodeJS.ProcessEnv = process.env,
): { store: ApiKeyStore; audit: AuditLog } {
  const client = new DynamoDBClient(awsClientConfigFromEnv(env));
  return {
    store: new DynamoApiKeyStore(client, config.API_KEYS_TABLE_NAME),
    audit: new DynamoAuditLog(client, config.API_KEYS_AUDIT_TABLE_NAME),
  };
}

/**
 * The scan core over its AWS adapters, or undefined when the deployment has no scan resources (SCANS_TABLE_NAME
 * unset: the API then serves API keys only). When it is set, every scan variable must be valid: a missing one fails
 * the cold start, naming it.
 */
export function scanApiFromEnv(logger: Logger, env: NodeJS.ProcessEnv = process.env): ScanApi | undefined {
  if (!env[SCAN_ENV.scansTable]) return undefined;
  return createScanApi(scanDepsFromEnv(env, { service: 'api', logger }));
}

/**
 * The licensing service over its AWS adapters, or undefined when the deployment has no license table
 * (LICENSE_TABLE_NAME unset: no license routes and no feature gates). When it is set, every licensing variable must be
 * valid: a missing one fails the cold start, naming it.
 */
export function licenseServiceFromEnv(
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): LicenseService | undefined {
  if (!env[LICENSE_ENV.licenseTable]) return undefined;
  return new LicenseService(licenseDepsFromEnv(env, { service: 'api', logger }));
}
