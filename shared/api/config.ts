// Configuration of the API and authorizer Lambdas, read once per container from the environment through a schema.
import { z } from 'zod';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfigFromEnv } from '#shared/adapters/aws/client-config';
import { DynamoApiKeyStore, DynamoAuditLog } from '#shared/adapters/aws/apikey-store';
import type { ApiKeyStore, AuditLog } from '#shared/apikeys/index';

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
