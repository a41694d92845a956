// The licensing routes and the feature gates on the real router, LicenseService and scan core over memory adapters,
// with real signed licenses: role matrix, install/refuse, gates on the scan and schedule routes, the XML download.
import { validate } from '@readme/openapi-parser';
import SwaggerClient from 'swagger-client';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryLicenseStores,
  MemoryAlertPublisher,
  StaticInstanceKey,
} from '#shared/adapters/memory/license-stores';
import { MemoryEventPublisher } from '#shared/adapters/memory/events';
import { createMemoryScanStores } from '#shared/adapters/memory/scan-stores';
import { MemoryScheduler } from '#shared/adapters/memory/scheduler';
import { MemorySecretSource } from '#shared/adapters/memory/secrets';
import { MemoryWorkQueue } from '#shared/adapters/memory/work-queue';
import { classifyLicenseError, createLicenseRoutes } from '#shared/api/license-routes';
import { buildApiDocument, createApiRoutes } from '#shared/api/routes';
import { classifyScanError, createScanRoutes } from '#shared/api/scan-routes';
import { ApiKeyService, permissionsOf, ROLES, type Role } from '#shared/apikeys/index';
import { callerOf } from '#shared/http/caller';
import { createHttpHandler } from '#shared/http/lambda';
import { createRouter, defineRoute } from '#shared/http/router';
import { createCommandClient } from '#shared/keyfactor/index';
import { FeatureDisabledError } from '#shared/license/gates';
import type { LicenseDocument } from '#shared/license/model';
import { LicenseService } from '#shared/license/service';
import { generateInstanceKeyPair, type InstanceKeyPair } from '#shared/license/usage-log';
import { silentLogger } from '#shared/logging';
import { DEFAULT_PIPELINE_CONFIG } from '#shared/scan/deps';
import { createScanApi } from '#shared/scan/service';
import { lambdaContext, proxyEvent } from '#test/support/apigw';
import { issueTestLicense, TEST_INSTANCE_ID, TEST_VENDOR_PUBLIC_KEY } from '#test/support/license';

const NOW = '2026-06-01T12:00:00.000Z';

let instanceKey: InstanceKeyPair;
beforeAll(() => {
  instanceKey = generateInstanceKeyPair();
});

function licenseService() {
  const stores = createMemoryLicenseStores();
  const scan = createMemoryScanStores();
  const publisher = new MemoryAlertPublisher();
  const service = new LicenseService({
    ...stores,
    findings: scan.findings,
    instanceKey: new StaticInstanceKey(instanceKey),
    publisher,
    clock: { now: () => new Date(NOW) },
    logger: silentLogger,
    config: {
      instanceId: TEST_INSTANCE_ID,
      trustedKeys: [TEST_VENDOR_PUBLIC_KEY],
      excludedMetadataFields: [],
      sensorVersion: '0.1.0',
      deployment: 'unit-test',
    },
  });
  return { service, stores, publisher };
}

function scanApi() {
  return createScanApi({
    ...createMemoryScanStores(),
    queue: new MemoryWorkQueue(),
    secrets: new MemorySecretSource(),
    events: new MemoryEventPublisher(),
    scheduler: new MemoryScheduler(),
    clock: { now: () => new Date(NOW) },
    logger: silentLogger,
    config: DEFAULT_PIPELINE_CONFIG,
    commandClient: (settings) => createCommandClient(settings),
  });
}

/** The API as functions/api/handler.ts builds it when a license service is configured. */
function setup() {
  const license = licenseService();
  const routes = [
    ...createScanRoutes(scanApi(), { licensed: true }),
    ...createLicenseRoutes(license.service),
  ];
  const handler = createHttpHandler({
    router: createRouter(routes, {
      caller: callerOf,
      featureGate: (feature) => license.service.checkFeature(feature),
    }),
    logger: silentLogger,
    classify: (error) => classifyScanError(error) ?? classifyLicenseError(error),
  });
  const raw = async (
    roles: Role[],
    method: string,
    path: string,
    options: { json?: unknown; query?: Record<string, string>; rawBody?: string } = {},
  ) =>
    handler(
      proxyEvent({
        method,
        path,
        ...options,
        authorizer: { keyId: `key-${roles.join('-')}`, permissions: [...permissionsOf(roles)].join(',') },
      }),
      lambdaContext(),
    );
  const call = async (...args: Parameters<typeof raw>) => {
    const result = await raw(...args);
    const type = String(result.headers?.['content-type'] ?? '');
    return {
      status: result.statusCode,
      headers: result.headers ?? {},
      body: (type.startsWith('application/json') ? JSON.parse(result.body) : result.body) as Record<
        string,
        unknown
      > & { message?: string },
    };
  };
  return { ...license, call, raw };
}

const file = (overrides: Partial<LicenseDocument> = {}) =>
  JSON.parse(issueTestLicense(overrides)) as Record<string, unknown>;

const scanBody = {
  sensorName: 'unit',
  sensorType: 'Keyfactor Command',
  sensorConfig: { url: 'https://command.example.com/KeyfactorAPI', username: 'u', password: 'Unit-Pw-31337' },
};
const scheduleBody = { name: 'nightly', expression: 'rate(6 hours)', scan: scanBody };

describe('role matrix (docs/api.md)', () => {
  const MATRIX: Array<[string, string, Record<Role, number>, { json?: unknown }?]> = [
    ['GET', '/v3/license', { Administrator: 200, ScanManager: 403, Auditor: 200 }],
    ['POST', '/v3/license/preview', { Administrator: 200, ScanManager: 403, Auditor: 403 }, { json: file() }],
    ['PUT', '/v3/license', { Administrator: 200, ScanManager: 403, Auditor: 403 }, { json: file() }],
    ['GET', '/v3/license/actioned-certificates', { Administrator: 200, ScanManager: 403, Auditor: 200 }],
    ['POST', '/v3/license/actioned-certificates/run', { Administrator: 200, ScanManager: 403, Auditor: 403 }],
    ['GET', '/v3/license/usage-log', { Administrator: 200, ScanManager: 403, Auditor: 200 }],
    ['GET', '/v3/alerts', { Administrator: 200, ScanManager: 403, Auditor: 200 }],
  ];
  for (const [method, path, expected, options] of MATRIX) {
    for (const role of ROLES) {
      it(`${method} ${path} as ${role} → ${expected[role]}`, async () => {
        const t = setup();
        const res = await t.call([role], method, path, options);
        expect(res.status).toBe(expected[role]);
        if (res.status === 403) expect(res.body.message).toMatch(/^missing permission license:(read|write)$/);
      });
    }
  }
});

describe('install and preview', () => {
  it('PUT installs and returns the new status; a refused license is 422 with the reason and the old one stays', async () => {
    const t = setup();
    const ok = await t.call(['Administrator'], 'PUT', '/v3/license', { json: file({ licenseId: 'LIC-1' }) });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      installed: true,
      valid: true,
      installedBy: 'key-Administrator',
      license: { licenseId: 'LIC-1' },
    });

    const tampered = JSON.parse(
      issueTestLicense({ licenseId: 'LIC-2' }).replace('Example Corp', 'Example Corq'),
    ) as { signature: { value: string } };
    const refused = await t.call(['Administrator'], 'PUT', '/v3/license', { json: tampered });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/^license refused \(bad-signature\): license LIC-2: the signature/);
    expect(JSON.stringify(refused.body)).not.toContain(tampered.signature.value);

    const wrong = await t.call(['Administrator'], 'PUT', '/v3/license', {
      json: file({ instanceId: 'elsewhere' }),
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.message).toMatch(/^license refused \(wrong-instance\)/);

    const status = await t.call(['Auditor'], 'GET', '/v3/license');
    expect(status.body).toMatchObject({ valid: true, license: { licenseId: 'LIC-1' } });
  });

  it('a body that is not a JSON object is 400; one that is not a license is 422 malformed', async () => {
    const t = setup();
    const array = await t.call(['Administrator'], 'PUT', '/v3/license', { json: [1, 2] });
    expect(array.status).toBe(400);
    const notJson = await t.call(['Administrator'], 'PUT', '/v3/license', { rawBody: '{"license":' });
    expect(notJson.status).toBe(415);
    const other = await t.call(['Administrator'], 'PUT', '/v3/license', { json: { hello: 'world' } });
    expect(other.status).toBe(422);
    expect(other.body.message).toMatch(/^license refused \(malformed\)/);
  });

  it('preview shows the verification and comparison and installs nothing', async () => {
    const t = setup();
    await t.call(['Administrator'], 'PUT', '/v3/license', { json: file({ features: ['api-scans'] }) });
    const res = await t.call(['Administrator'], 'POST', '/v3/license/preview', {
      json: file({ licenseId: 'LIC-NEXT', features: ['api-scans', 'remote-scan'] }),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      verification: { valid: true },
      candidate: { licenseId: 'LIC-NEXT' },
      installed: { licenseId: 'LIC-TEST-0001' },
      comparison: { features: { gained: ['remote-scan'], lost: [], kept: ['api-scans'] } },
    });
    const expired = await t.call(['Administrator'], 'POST', '/v3/license/preview', {
      json: file({ expiresAt: '2026-01-02T00:00:00Z' }),
    });
    expect(expired.body).toMatchObject({ verification: { valid: false, reason: 'expired' } });
    expect((await t.call(['Administrator'], 'GET', '/v3/license')).body).toMatchObject({
      license: { licenseId: 'LIC-TEST-0001' },
    });
  });
});

describe('feature gates', () => {
  it('without a license: scans and schedules are 403 "no valid license"; the license routes still work', async () => {
    const t = setup();
    const schedule = await t.call(['Administrator'], 'POST', '/v3/schedules', { json: scheduleBody });
    expect(schedule.status).toBe(403);
    expect(schedule.body.message).toMatch(/scheduled-scans.*no valid license is installed/);
    const scans = await t.call(['Administrator'], 'GET', '/v3/scans');
    expect(scans.status).toBe(403);
    expect(scans.body.message).toMatch(/api-scans/);
    expect((await t.call(['Administrator'], 'GET', '/v3/license')).status).toBe(200);
    expect((await t.call(['Administrator'], 'PUT', '/v3/license', { json: file() })).status).toBe(200);
    expect((await t.call(['Administrator'], 'GET', '/v3/scans')).status).toBe(200);
  });

  it('a license without scheduled-scans: schedules are 403 naming the feature and the license; scans pass', async () => {
    const t = setup();
    await t.call(['Administrator'], 'PUT', '/v3/license', {
      json: file({ licenseId: 'LIC-SCANS-ONLY', features: ['api-scans'] }),
    });
    for (const [method, path, json] of [
      ['POST', '/v3/schedules', scheduleBody],
      ['GET', '/v3/schedules', undefined],
      ['GET', '/v3/schedules/s-1', undefined],
      ['DELETE', '/v3/schedules/s-1', undefined],
    ] as const) {
      const res = await t.call(['ScanManager'], method, path, { json });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.message).toMatch(/feature scheduled-scans is not enabled by license LIC-SCANS-ONLY/);
    }
    const created = await t.call(['ScanManager'], 'POST', '/v3/scan/create', { json: scanBody });
    expect(created.status).toBe(201);
    expect((await t.call(['ScanManager'], 'GET', '/v3/scans')).status).toBe(200);
  });

  it('a license with the feature passes through to the route', async () => {
    const t = setup();
    await t.call(['Administrator'], 'PUT', '/v3/license', { json: file({ features: ['scheduled-scans'] }) });
    const res = await t.call(['ScanManager'], 'POST', '/v3/schedules', { json: scheduleBody });
    expect(res.status).toBe(201);
    expect((await t.call(['ScanManager'], 'GET', '/v3/scans')).body.message).toMatch(/api-scans/);
  });

  it('checks the permission first: a caller without it learns nothing about the license', async () => {
    const t = setup();
    const res = await t.call(['Auditor'], 'POST', '/v3/schedules', { json: scheduleBody });
    expect(res).toMatchObject({ status: 403, body: { message: 'missing permission schedules:write' } });
  });

  it('an expired license disables every feature with the reason', async () => {
    const t = setup();
    await t.stores.licenses.putInstalled({
      text: issueTestLicense({ expiresAt: '2026-05-01T00:00:00Z' }),
      installedAt: NOW,
      installedBy: null,
    });
    const res = await t.call(['ScanManager'], 'GET', '/v3/scans');
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/api-scans.*no valid license.*expired/);
  });
});

describe('actioned certificates and alerts', () => {
  it('runs on demand, lists runs and alerts, and shows N/A under a Site-License', async () => {
    const t = setup();
    await t.call(['Administrator'], 'PUT', '/v3/license', {
      json: file({ actionedCertificates: { type: 'Site-License' } }),
    });
    const run = await t.call(['Administrator'], 'POST', '/v3/license/actioned-certificates/run');
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ run: { trigger: 'manual', total: 0, allowance: null }, alerts: [] });
    const view = await t.call(['Auditor'], 'GET', '/v3/license/actioned-certificates', {
      query: { limit: '5' },
    });
    expect(view.body).toMatchObject({
      licenseType: 'Site-License',
      allowance: 'N/A',
      latest: { total: 'N/A', categories: { requested: 'N/A', privateKey: 'N/A' } },
    });
    expect((await t.call(['Auditor'], 'GET', '/v3/alerts')).body).toEqual({ items: [] });
  });

  it('lists raised alerts newest first', async () => {
    const t = setup();
    await t.call(['Administrator'], 'PUT', '/v3/license', {
      json: file({ expiresAt: '2026-06-05T00:00:00Z' }),
    });
    await t.call(['Administrator'], 'POST', '/v3/license/actioned-certificates/run');
    const alerts = await t.call(['Auditor'], 'GET', '/v3/alerts', { query: { limit: '10' } });
    expect(alerts.body.items).toMatchObject([
      { alertId: 'license-expiry:LIC-TEST-0001:7', kind: 'license-expiry' },
    ]);
    expect(t.publisher.published).toHaveLength(1);
  });

  it.each([['0'], ['501'], ['ten'], ['-1']])('rejects limit=%s with 400', async (limit) => {
    const t = setup();
    const res = await t.call(['Auditor'], 'GET', '/v3/alerts', { query: { limit } });
    expect(res.status).toBe(400);
    expect(res.body.issues).toMatchObject([{ path: 'query.limit' }]);
  });
});

describe('usage log', () => {
  it('is an XML attachment with the security headers, signed so that verifyUsageLog accepts it', async () => {
    const { verifyUsageLog } = await import('#shared/license/usage-log');
    const t = setup();
    await t.call(['Administrator'], 'PUT', '/v3/license', { json: file({ licenseId: 'LIC-XML' }) });
    const res = await t.raw(['Auditor'], 'GET', '/v3/license/usage-log');
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'application/xml',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    expect(String(res.headers?.['content-disposition'])).toMatch(
      /^attachment; filename="kfsensor-usage-log-.*\.xml"$/,
    );
    expect(res.body).toContain('LIC-XML');
    expect(verifyUsageLog(res.body, { publicKeyPem: instanceKey.publicKeyPem })).toMatchObject({
      valid: true,
      instanceId: TEST_INSTANCE_ID,
    });
  });
});

describe('OpenAPI', () => {
  const apiKeys = new ApiKeyService({
    store: new Proxy({}, { get: () => () => Promise.reject(new Error('unused')) }) as never,
    audit: new Proxy({}, { get: () => () => Promise.reject(new Error('unused')) }) as never,
  });

  it('describes the license routes, the XML download and the gated routes; the document is valid', async () => {
    const routes = createApiRoutes(apiKeys, undefined, scanApi(), licenseService().service);
    const doc = buildApiDocument(routes, '3.0.0') as {
      paths: Record<
        string,
        Record<
          string,
          Record<string, unknown> & { responses: Record<string, { content?: Record<string, unknown> }> }
        >
      >;
    };
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
    for (const path of [
      '/v3/license',
      '/v3/license/preview',
      '/v3/license/actioned-certificates',
      '/v3/license/actioned-certificates/run',
      '/v3/license/usage-log',
      '/v3/alerts',
    ])
      expect(doc.paths[path], path).toBeDefined();
    expect(Object.keys(doc.paths['/v3/license/usage-log']?.get?.responses['200']?.content ?? {})).toEqual([
      'application/xml',
    ]);
    expect(Object.keys(doc.paths['/v3/license']?.put?.responses ?? {})).toContain('422');
    expect(doc.paths['/v3/schedules']?.post?.['x-required-feature']).toBe('scheduled-scans');
    expect(doc.paths['/v3/scan/create']?.post?.['x-required-feature']).toBe('api-scans');
    expect(doc.paths['/v3/license']?.put?.['x-required-feature']).toBeUndefined();
  });

  it('without a license service: no license routes and no feature on any route', () => {
    const routes = createApiRoutes(apiKeys, undefined, scanApi());
    expect(routes.some((r) => r.path.startsWith('/v3/license') || r.path === '/v3/alerts')).toBe(false);
    expect(routes.filter((r) => r.feature !== undefined)).toEqual([]);
  });
});

describe('router: feature gate and non-JSON bodies', () => {
  const ok = defineRoute({
    method: 'GET',
    path: '/v1/plain',
    operationId: 'plain',
    summary: 'No feature',
    permission: null,
    responses: { 200: { description: 'ok', schema: z.object({ ok: z.boolean() }) } },
    handle: () => Promise.resolve({ status: 200, body: { ok: true } }),
  });
  const gated = defineRoute({
    method: 'GET',
    path: '/v1/gated',
    operationId: 'gated',
    summary: 'Needs cbom-export',
    permission: null,
    feature: 'cbom-export',
    responses: { 200: { description: 'ok', schema: z.object({ ok: z.boolean() }) } },
    handle: () => Promise.resolve({ status: 200, body: { ok: true } }),
  });
  const xmlAsJson = defineRoute({
    method: 'GET',
    path: '/v1/xml-wrong',
    operationId: 'xmlWrong',
    summary: 'Declares XML, returns JSON',
    permission: null,
    responses: { 200: { description: 'xml', contentType: 'application/xml' } },
    handle: () => Promise.resolve({ status: 200, body: { not: 'xml' } }),
  });
  const undeclaredText = defineRoute({
    method: 'GET',
    path: '/v1/text-wrong',
    operationId: 'textWrong',
    summary: 'Declares JSON, returns text',
    permission: null,
    responses: { 200: { description: 'json' } },
    handle: () => Promise.resolve({ status: 200, body: 'hello', contentType: 'text/plain' }),
  });
  const routes = [ok, gated, xmlAsJson, undeclaredText];

  function handlerWith(featureGate?: (feature: string) => Promise<void>) {
    const asked: string[] = [];
    const handler = createHttpHandler({
      router: createRouter(routes, {
        caller: callerOf,
        ...(featureGate
          ? {
              featureGate: async (feature) => {
                asked.push(feature);
                await featureGate(feature);
              },
            }
          : {}),
      }),
      logger: silentLogger,
      classify: classifyLicenseError,
    });
    const get = async (path: string) =>
      handler(
        proxyEvent({ method: 'GET', path, authorizer: { keyId: 'k', permissions: '' } }),
        lambdaContext(),
      );
    return { get, asked };
  }

  it('asks the gate only for routes that declare a feature, and maps FeatureDisabledError to 403', async () => {
    const t = handlerWith((feature) =>
      Promise.reject(
        new FeatureDisabledError(feature as 'cbom-export', 'LIC-1', `feature ${feature} is off`),
      ),
    );
    expect((await t.get('/v1/plain')).statusCode).toBe(200);
    const res = await t.get('/v1/gated');
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ message: 'feature cbom-export is off' });
    expect(t.asked).toEqual(['cbom-export']);
  });

  it('ignores a route feature when the router has no gate (no licensing configured)', async () => {
    expect((await handlerWith().get('/v1/gated')).statusCode).toBe(200);
  });

  it('answers 500 when a route returns a body type other than the one it declares', async () => {
    const t = handlerWith();
    for (const path of ['/v1/xml-wrong', '/v1/text-wrong']) {
      const res = await t.get(path);
      expect(res.statusCode, path).toBe(500);
      expect(JSON.parse(res.body)).toMatchObject({ message: 'internal error' });
    }
  });

  it('the document with the licensing routes resolves in swagger-client without errors', async () => {
    const apiKeys = new ApiKeyService({ store: {} as never, audit: {} as never });
    const doc = buildApiDocument(
      createApiRoutes(apiKeys, undefined, scanApi(), licenseService().service),
      '3',
    );
    const resolved = await SwaggerClient.resolve({ spec: structuredClone(doc) });
    expect(resolved.errors).toEqual([]);
  });
});
