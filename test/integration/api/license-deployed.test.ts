// The licensing routes through the API handler over moto: the deployed entry point built from the environment (it
// trusts only the vendor key, whatever the environment says), and the same wiring with the test key injected in
// code: install, persistence across containers, feature gates, the on-demand count, alerts and the usage log.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createApiKeyTables, DynamoApiKeyStore, DynamoAuditLog } from '#shared/adapters/aws/apikey-store';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { LICENSE_ENV, licenseDepsFromEnv } from '#shared/adapters/aws/license-deps';
import { scanApiFromEnv } from '#shared/api/config';
import { ApiKeyAuthenticator, ApiKeyService, ScryptKeyHasher, type Role } from '#shared/apikeys/index';
import type { LicenseDocument } from '#shared/license/model';
import { LicenseService } from '#shared/license/service';
import { verifyUsageLog } from '#shared/license/usage-log';
import { silentLogger } from '#shared/logging';
import { gateway, lambdaContext, proxyEvent } from '#test/support/apigw';
import { issueTestLicense, TEST_VENDOR_PUBLIC_KEY } from '#test/support/license';
import { createLocalCloud, type LocalCloud } from '#test/support/local-cloud';
import { createApiHandler, handler as deployedApiHandler } from '../../../functions/api/handler.ts';
import {
  createAuthorizerHandler,
  handler as deployedAuthorizer,
} from '../../../functions/authorizer/handler.ts';

const endpoint = inject('awsEndpoint');
const names = { keys: `license-keys-${randomUUID()}`, audit: `license-audit-${randomUUID()}` };
const DAY = 86_400_000;
let cloud: LocalCloud;
let apiKeys: ApiKeyService;
let authenticator: ApiKeyAuthenticator;
const tokens = new Map<Role, string>();

beforeAll(async () => {
  cloud = await createLocalCloud(endpoint);
  const dynamo = new DynamoDBClient(localAwsClientConfig(endpoint));
  await createApiKeyTables(dynamo, names);
  for (const [name, value] of Object.entries(cloud.env)) vi.stubEnv(name, value);
  vi.stubEnv('API_KEYS_TABLE_NAME', names.keys);
  vi.stubEnv('API_KEYS_AUDIT_TABLE_NAME', names.audit);
  vi.stubEnv('LOG_LEVEL', 'error');
  const store = new DynamoApiKeyStore(dynamo, names.keys);
  const audit = new DynamoAuditLog(dynamo, names.audit);
  const hasher = new ScryptKeyHasher({ N: 1024 });
  apiKeys = new ApiKeyService({ store, audit, hasher });
  authenticator = new ApiKeyAuthenticator({ store, audit, hasher });
  for (const role of ['Administrator', 'ScanManager', 'Auditor'] as const)
    tokens.set(role, (await apiKeys.create(null, { roles: [role] })).secret);
}, 120_000);

afterAll(() => {
  vi.unstubAllEnvs();
});

const token = (role: Role) => tokens.get(role) ?? '';

const license = (overrides: Partial<LicenseDocument> = {}) =>
  JSON.parse(
    issueTestLicense({
      instanceId: cloud.instanceId,
      issuedAt: new Date(Date.now() - DAY).toISOString(),
      expiresAt: new Date(Date.now() + 365 * DAY).toISOString(),
      ...overrides,
    }),
  ) as Record<string, unknown>;

const scanBody = {
  sensorName: `lic-${randomUUID().slice(0, 8)}`,
  sensorType: 'Keyfactor Command',
  sensorConfig: {
    url: 'https://command.example.com/KeyfactorAPI',
    username: 'u',
    password: 'Lic-Deployed-9931',
  },
};

describe('the deployed API handler (built from the environment)', () => {
  const call = () => gateway(deployedAuthorizer, deployedApiHandler);

  it('serves the license state with the instance id, and gates scans: no valid license is installed', async () => {
    const res = await call()({ method: 'GET', path: '/v3/license', token: token('Auditor') });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      instanceId: cloud.instanceId,
      installed: false,
      valid: false,
      features: [],
    });
    const scan = await call()({
      method: 'POST',
      path: '/v3/scan/create',
      token: token('ScanManager'),
      json: scanBody,
    });
    expect(scan.status).toBe(403);
    expect((scan.body as { message: string }).message).toMatch(/api-scans.*no valid license is installed/);
  });

  it('trusts only the compiled-in vendor key: a license signed with the test key is refused (unknown-key)', async () => {
    const res = await call()({
      method: 'PUT',
      path: '/v3/license',
      token: token('Administrator'),
      json: license(),
    });
    expect(res.status).toBe(422);
    expect((res.body as { message: string }).message).toMatch(/^license refused \(unknown-key\)/);
  });

  it('serves the usage log signed with the instance key from Secrets Manager', async () => {
    const event = proxyEvent({
      method: 'GET',
      path: '/v3/license/usage-log',
      authorizer: { keyId: 'auditor', permissions: 'license:read' },
    });
    const res = await deployedApiHandler(event, lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('application/xml');
    const secret = await new SecretsManagerClient(cloud.aws).send(
      new GetSecretValueCommand({ SecretId: cloud.env[LICENSE_ENV.instanceKeySecretArn] }),
    );
    const { publicKeyPem } = JSON.parse(secret.SecretString ?? '{}') as { publicKeyPem: string };
    expect(res.body).not.toContain('PRIVATE KEY');
    expect(verifyUsageLog(res.body, { publicKeyPem })).toMatchObject({
      valid: true,
      instanceId: cloud.instanceId,
    });
  });
});

describe('the API handler over moto with the test vendor key injected in code', () => {
  /** A fresh "container": its own LicenseService (and verification cache) over the same tables. */
  const container = () => {
    const service = new LicenseService(
      licenseDepsFromEnv(cloud.env, { logger: silentLogger, trustedKeys: [TEST_VENDOR_PUBLIC_KEY] }),
    );
    return gateway(
      createAuthorizerHandler({ authenticator, logger: silentLogger }),
      createApiHandler({
        service: apiKeys,
        scans: scanApiFromEnv(silentLogger, cloud.env),
        license: service,
        logger: silentLogger,
      }),
    );
  };

  it('installs a license that another container then sees, and gates by its features', async () => {
    const a = container();
    const installed = await a({
      method: 'PUT',
      path: '/v3/license',
      token: token('Administrator'),
      json: license({ licenseId: 'LIC-MOTO', features: ['api-scans'] }),
    });
    expect(installed.status).toBe(200);
    expect(installed.body).toMatchObject({
      valid: true,
      license: { licenseId: 'LIC-MOTO' },
      features: ['api-scans'],
    });

    const b = container();
    expect((await b({ method: 'GET', path: '/v3/license', token: token('Auditor') })).body).toMatchObject({
      valid: true,
      license: { licenseId: 'LIC-MOTO' },
      installedBy: expect.any(String) as unknown,
    });
    const scan = await b({
      method: 'POST',
      path: '/v3/scan/create',
      token: token('ScanManager'),
      json: scanBody,
    });
    expect(scan.status).toBe(201);
    const schedule = await b({
      method: 'POST',
      path: '/v3/schedules',
      token: token('ScanManager'),
      json: { name: 'nightly', expression: 'rate(1 day)', scan: scanBody },
    });
    expect(schedule.status).toBe(403);
    expect((schedule.body as { message: string }).message).toMatch(
      /scheduled-scans is not enabled by license LIC-MOTO/,
    );

    const refused = await b({
      method: 'PUT',
      path: '/v3/license',
      token: token('Administrator'),
      json: license({ licenseId: 'LIC-ELSEWHERE', instanceId: 'another-instance' }),
    });
    expect(refused.status).toBe(422);
    expect(
      (await container()({ method: 'GET', path: '/v3/license', token: token('Auditor') })).body,
    ).toMatchObject({
      license: { licenseId: 'LIC-MOTO' },
    });
  });

  it('runs the count on demand, stores it in DynamoDB, and lists the expiry alert it raised', async () => {
    const call = container();
    await call({
      method: 'PUT',
      path: '/v3/license',
      token: token('Administrator'),
      json: license({ licenseId: 'LIC-SOON', expiresAt: new Date(Date.now() + 10 * DAY).toISOString() }),
    });
    const auditorRun = await call({
      method: 'POST',
      path: '/v3/license/actioned-certificates/run',
      token: token('Auditor'),
    });
    expect(auditorRun.status).toBe(403);
    const run = await call({
      method: 'POST',
      path: '/v3/license/actioned-certificates/run',
      token: token('Administrator'),
    });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      run: { trigger: 'manual', total: 0, allowance: 1000 },
      alerts: [{ alertId: 'license-expiry:LIC-SOON:14', kind: 'license-expiry' }],
    });
    const view = await container()({
      method: 'GET',
      path: '/v3/license/actioned-certificates',
      token: token('Auditor'),
      query: { limit: '5' },
    });
    expect(view.body).toMatchObject({
      licenseType: 'Limited',
      latest: { runId: (run.body as { run: { runId: string } }).run.runId },
    });
    const alerts = await container()({ method: 'GET', path: '/v3/alerts', token: token('Auditor') });
    expect(alerts.body).toMatchObject({ items: [{ alertId: 'license-expiry:LIC-SOON:14' }] });
  });
});
