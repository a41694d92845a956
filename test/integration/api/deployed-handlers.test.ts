import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { createApiKeyTables, DynamoApiKeyStore, DynamoAuditLog } from '#shared/adapters/aws/apikey-store';
import { ApiKeyService, ScryptKeyHasher } from '#shared/apikeys/index';
import type { LogFields, Logger } from '#shared/logging';
import { createApiHandler, handler as apiHandler } from '../../../functions/api/handler.ts';
import { handler as authorizerHandler } from '../../../functions/authorizer/handler.ts';
import { gateway, lambdaContext, parseResult, proxyEvent } from '#test/support/apigw';

const endpoint = inject('awsEndpoint');
const dynamo = new DynamoDBClient(localAwsClientConfig(endpoint));
const names = { keys: `deployed-keys-${randomUUID()}`, audit: `deployed-audit-${randomUUID()}` };

beforeAll(async () => {
  await createApiKeyTables(dynamo, names);
  vi.stubEnv('API_KEYS_TABLE_NAME', names.keys);
  vi.stubEnv('API_KEYS_AUDIT_TABLE_NAME', names.audit);
  vi.stubEnv('LOG_LEVEL', 'error');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ENDPOINT_URL', endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
});

afterAll(() => {
  vi.unstubAllEnvs();
});

describe('the deployed entry points', () => {
  it('build themselves from the environment and serve a request end to end', async () => {
    const service = new ApiKeyService({
      store: new DynamoApiKeyStore(dynamo, names.keys),
      audit: new DynamoAuditLog(dynamo, names.audit),
      hasher: new ScryptKeyHasher({ N: 1024 }),
    });
    const { secret } = await service.create(null, { keyId: 'deployed-admin', roles: ['Administrator'] });
    const call = gateway(authorizerHandler, apiHandler);
    const res = await call({ method: 'GET', path: '/v3/api-keys/deployed-admin', token: secret });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ keyId: 'deployed-admin', roles: ['Administrator'] });
    expect((await call({ method: 'GET', path: '/v3/api-keys', token: 'kfsk_nope' })).status).toBe(401);
  });
});

describe('an unexpected failure', () => {
  it('is a plain 500 with the request id; the details go only to the log', async () => {
    const logged: LogFields[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn() {},
      error: (_message, fields) => void logged.push(fields ?? {}),
    };
    const missing = `no-such-table-${randomUUID()}`;
    const api = createApiHandler({
      service: new ApiKeyService({
        store: new DynamoApiKeyStore(dynamo, missing),
        audit: new DynamoAuditLog(dynamo, missing),
      }),
      logger,
    });
    const result = parseResult(
      await api(
        proxyEvent({
          method: 'GET',
          path: '/v3/api-keys',
          requestId: 'req-500',
          authorizer: { keyId: 'k', permissions: 'apikeys:read' },
        }),
        lambdaContext(),
      ),
    );
    expect(result.status).toBe(500);
    expect(result.body).toEqual({ message: 'internal error', requestId: 'req-500' });
    expect(result.headers['x-request-id']).toBe('req-500');
    expect(logged).toHaveLength(1);
    expect(logged[0]?.requestId).toBe('req-500');
    expect(JSON.stringify(logged[0])).toContain('ResourceNotFound');
  });
});
