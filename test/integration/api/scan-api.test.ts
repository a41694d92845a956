// The scan and schedule routes through the real API handler, the real authorizer (API keys on moto) and the real scan
// core (createScanApi) over the memory adapters: queue, secret store, scheduler and stores are inspected directly.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createApiKeyTables, DynamoApiKeyStore, DynamoAuditLog } from '#shared/adapters/aws/apikey-store';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { MemoryEventPublisher } from '#shared/adapters/memory/events';
import { createMemoryScanStores } from '#shared/adapters/memory/scan-stores';
import { MemoryScheduler } from '#shared/adapters/memory/scheduler';
import { MemorySecretSource } from '#shared/adapters/memory/secrets';
import { MemoryWorkQueue } from '#shared/adapters/memory/work-queue';
import { ApiKeyAuthenticator, ApiKeyService, ScryptKeyHasher, type Role } from '#shared/apikeys/index';
import { createCommandClient } from '#shared/keyfactor/index';
import type { LogFields, Logger } from '#shared/logging';
import { DEFAULT_PIPELINE_CONFIG, type ScanDeps } from '#shared/scan/deps';
import { createScanApi } from '#shared/scan/service';
import { createSelfSignedCertificate } from '#shared/simulator/tls';
import { apiStack, gateway } from '#test/support/apigw';
import { validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import SwaggerClient from 'swagger-client';
import { createApiRoutes } from '#shared/api/routes';
import { errorStatusesOf } from '#shared/http/openapi';
import { createApiHandler } from '../../../functions/api/handler.ts';
import { createAuthorizerHandler } from '../../../functions/authorizer/handler.ts';

const PASSWORD = 'Zebra-Quartz-7731-distinctive';
const CLIENT_SECRET = 'oauth-Walrus-5519-distinctive';

/** Records every log line as JSON, so a test can search them for a secret. */
function recordingLogger(lines: string[]): Logger {
  const log = (level: string) => (message: string, fields?: LogFields) =>
    void lines.push(JSON.stringify({ level, message, ...fields }));
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

async function scanStack(awsEndpoint: string) {
  const dynamo = new DynamoDBClient(localAwsClientConfig(awsEndpoint));
  const names = { keys: `scan-api-keys-${randomUUID()}`, audit: `scan-api-audit-${randomUUID()}` };
  await createApiKeyTables(dynamo, names);
  const keyStore = new DynamoApiKeyStore(dynamo, names.keys);
  const audit = new DynamoAuditLog(dynamo, names.audit);
  let now = Date.parse('2026-03-02T08:00:00Z');
  const clock = { now: () => new Date(now) };
  const advance = (ms: number) => void (now += ms);
  const hasher = new ScryptKeyHasher({ N: 1024 });
  const service = new ApiKeyService({ store: keyStore, audit, hasher, clock: () => new Date(now) });
  const authenticator = new ApiKeyAuthenticator({ store: keyStore, audit, hasher, clock: () => now });
  const logs: string[] = [];
  const stores = createMemoryScanStores(clock);
  const queue = new MemoryWorkQueue();
  const secrets = new MemorySecretSource();
  const events = new MemoryEventPublisher();
  const scheduler = new MemoryScheduler();
  const deps: ScanDeps = {
    ...stores,
    queue,
    secrets,
    events,
    scheduler,
    clock,
    logger: recordingLogger(logs),
    config: DEFAULT_PIPELINE_CONFIG,
    commandClient: (settings) => createCommandClient(settings),
  };
  const scans = createScanApi(deps);
  const call = gateway(
    createAuthorizerHandler({ authenticator, logger: recordingLogger(logs) }),
    createApiHandler({ service, scans, logger: recordingLogger(logs) }),
  );
  const tokenFor = async (roles: Role[]) => (await service.create(null, { roles })).secret;
  return {
    call,
    service,
    scans,
    stores,
    queue,
    secrets,
    events,
    scheduler,
    logs,
    advance,
    tokens: {
      admin: await tokenFor(['Administrator']),
      manager: await tokenFor(['ScanManager']),
      auditor: await tokenFor(['Auditor']),
    },
  };
}

type Stack = Awaited<ReturnType<typeof scanStack>>;

function basicBody(overrides: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  return {
    sensorName: 'prod command',
    sensorType: 'Keyfactor Command',
    sensorConfig: {
      url: 'https://command.example.com/KeyfactorAPI',
      username: 'CORP\\scanner',
      password: PASSWORD,
      query_filter: 'IssuerDN -contains "Example"',
      ...config,
    },
    labels: [{ env: 'prod' }],
    ...overrides,
  };
}

function oauthBody(overrides: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  return {
    sensorName: 'oauth command',
    sensorType: 'Keyfactor Command',
    sensorConfig: {
      url: 'https://command.example.com/KeyfactorAPI',
      token_url: 'https://login.example.com/tenant/oauth2/v2.0/token',
      client_id: 'sensor-client',
      client_secret: CLIENT_SECRET,
      scope: 'api://command/.default',
      ...config,
    },
    ...overrides,
  };
}

interface ScanBody {
  scanId: string;
  state: string;
  duplicate?: boolean;
  callbackId: string | null;
  sensor: Record<string, unknown>;
  timing: Record<string, unknown>;
  counts: Record<string, number>;
}

let s: Stack;

beforeAll(async () => {
  s = await scanStack(inject('awsEndpoint'));
});

async function create(body: unknown, token = s.tokens.manager) {
  return s.call({ method: 'POST', path: '/v3/scan/create', token, json: body });
}

describe('POST /v3/scan/create', () => {
  it('queues a scan: 201, Location, a start message, credentials in the secret store and nowhere else', async () => {
    const logsBefore = s.logs.length;
    const startsBefore = s.queue.sent.start;
    const res = await create(basicBody({ callbackId: `cb-${randomUUID()}`, priority: 'HIGH' }));
    expect(res.status).toBe(201);
    const body = res.body as ScanBody;
    expect(body.scanId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(res.headers.location).toBe(`/v3/scans/${body.scanId}`);
    expect(body).toMatchObject({
      state: 'PENDING',
      duplicate: false,
      trigger: 'api',
      sensor: {
        sensorName: 'prod command',
        url: 'https://command.example.com/KeyfactorAPI',
        queryFilter: 'IssuerDN -contains "Example"',
        authMethod: 'basic',
        labels: [{ name: 'env', value: 'prod' }],
        priority: 'high',
      },
    });
    // The start message went to the queue for the collector.
    expect(s.queue.sent.start).toBe(startsBefore + 1);
    expect(s.queue.queues.start.map((m) => m.message)).toContainEqual({ type: 'start', scanId: body.scanId });
    // The record keeps a reference; the secret store holds the credentials.
    const record = await s.stores.scans.getScan(body.scanId);
    expect(record).not.toBeNull();
    const ref = record?.sensor.credentialsRef ?? '';
    expect(s.secrets.has(ref)).toBe(true);
    expect(await s.secrets.getCredentials(ref)).toMatchObject({
      username: 'CORP\\scanner',
      password: PASSWORD,
    });
    expect(JSON.stringify(record)).not.toContain(PASSWORD);
    // Neither the response nor any log line shows the password or where it is kept.
    const text = JSON.stringify(res);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(ref);
    expect(text).not.toContain('credentialsRef');
    expect(s.logs.slice(logsBefore).join('\n')).not.toContain(PASSWORD);
  });

  it('stores OAuth2 credentials and the CA certificate as secrets', async () => {
    const { caCertPem } = createSelfSignedCertificate();
    const res = await create(oauthBody({}, { audience: 'api://aud', ca_cert: caCertPem }));
    expect(res.status).toBe(201);
    const body = res.body as ScanBody;
    expect(body.sensor.authMethod).toBe('oauth2');
    expect(body.sensor.priority).toBe('normal');
    const record = await s.stores.scans.getScan(body.scanId);
    expect(await s.secrets.getCredentials(record?.sensor.credentialsRef ?? '')).toMatchObject({
      token_url: 'https://login.example.com/tenant/oauth2/v2.0/token',
      client_id: 'sensor-client',
      client_secret: CLIENT_SECRET,
      scope: 'api://command/.default',
      audience: 'api://aud',
      ca_cert: caCertPem,
    });
    expect(JSON.stringify(record)).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(res)).not.toContain(CLIENT_SECRET);
  });

  it('returns the existing scan for a repeated callbackId within the window, and a new one after it', async () => {
    const callbackId = `pipeline-${randomUUID()}`;
    const first = await create(basicBody({ callbackId }));
    expect(first.status).toBe(201);
    const again = await create(basicBody({ callbackId, priority: 'low' }));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      scanId: (first.body as ScanBody).scanId,
      duplicate: true,
      callbackId,
      sensor: { priority: 'normal' },
    });
    expect(again.headers.location).toBe(first.headers.location);
    // One scan exists for the callbackId, and every start message is for it.
    const all = await s.stores.scans.listScans({ limit: 100 });
    expect(all.items.filter((scan) => scan.callbackId === callbackId)).toHaveLength(1);
    const startedIds = new Set(s.queue.queues.start.map((m) => m.message.scanId));
    expect(startedIds.has((first.body as ScanBody).scanId)).toBe(true);
    // Another callbackId is another scan.
    expect((await create(basicBody({ callbackId: `${callbackId}-b` }))).status).toBe(201);
    s.advance((DEFAULT_PIPELINE_CONFIG.callbackDedupSeconds + 60) * 1000);
    const later = await create(basicBody({ callbackId }));
    expect(later.status).toBe(201);
    expect((later.body as ScanBody).scanId).not.toBe((first.body as ScanBody).scanId);
  });

  it('rejects a bad body without echoing the password, in the response or in the logs', async () => {
    const logsBefore = s.logs.length;
    const storedBefore = s.secrets.size;
    const res = await create(
      basicBody({ priority: 'urgent', colour: 'blue' }, { url: 'http://command.example.com' }),
    );
    expect(res.status).toBe(400);
    const body = res.body as { message: string; issues: { path: string; message: string }[] };
    expect(body.issues.map((i) => i.path).sort()).toEqual(['colour', 'priority', 'sensorConfig.url']);
    expect(body.message).toMatch(/^invalid request: /);
    expect(JSON.stringify(res)).not.toContain(PASSWORD);
    expect(s.logs.slice(logsBefore).join('\n')).not.toContain(PASSWORD);
    expect(s.logs.length).toBeGreaterThan(logsBefore);
    expect(s.secrets.size).toBe(storedBefore);
  });

  it('names the column of an invalid query_filter in the message and the issue', async () => {
    const res = await create(basicBody({}, { query_filter: 'IssuerDN -contains "x" AND' }));
    expect(res.status).toBe(400);
    const body = res.body as { message: string; issues: { path: string; message: string }[] };
    expect(body.message).toMatch(/^invalid request: sensorConfig\.query_filter: column \d+: /);
    expect(body.issues).toHaveLength(1);
    expect(body.issues[0]?.path).toBe('sensorConfig.query_filter');
    expect(body.issues[0]?.message).toMatch(/^column \d+: /);
  });

  it('says which authentication fields are missing, or that both methods were given', async () => {
    const half = await create(oauthBody({}, { client_secret: undefined, scope: undefined }));
    expect(half.status).toBe(400);
    expect((half.body as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual([
      'sensorConfig.client_secret',
      'sensorConfig.scope',
    ]);
    const both = await create(basicBody({}, { client_id: 'c', client_secret: CLIENT_SECRET }));
    expect(both.status).toBe(400);
    expect((both.body as { message: string }).message).toContain('not both');
    expect(JSON.stringify(both)).not.toContain(CLIENT_SECRET);
    const wrongType = await create(basicBody({ sensorType: 'Venafi' }));
    expect((wrongType.body as { message: string }).message).toBe(
      'invalid request: sensorType: must be exactly "Keyfactor Command" (the only sensor type this API runs)',
    );
  });

  it('refuses malformed JSON, a non-JSON body and an oversized body', async () => {
    const raw = await s.call({
      method: 'POST',
      path: '/v3/scan/create',
      token: s.tokens.manager,
      rawBody: `{"sensorName": "x", "password": "${PASSWORD}"`,
      headers: { 'content-type': 'application/json' },
    });
    expect(raw.status).toBe(400);
    expect(JSON.stringify(raw)).not.toContain(PASSWORD);
    const text = await s.call({
      method: 'POST',
      path: '/v3/scan/create',
      token: s.tokens.manager,
      rawBody: 'sensorName=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(text.status).toBe(415);
    const big = await create(basicBody({}, { ca_cert: 'x'.repeat(70 * 1024) }));
    expect(big.status).toBe(413);
  });
});

describe('GET /v3/scans/{scanId} and GET /v3/scans', () => {
  it('shows state, timing, counts, errors and the sensor, never credentials', async () => {
    const created = (await create(basicBody({ callbackId: `get-${randomUUID()}` }))).body as ScanBody;
    const res = await s.call({ method: 'GET', path: `/v3/scans/${created.scanId}`, token: s.tokens.auditor });
    expect(res.status).toBe(200);
    const body = res.body as ScanBody & Record<string, unknown>;
    expect(body).toMatchObject({ scanId: created.scanId, state: 'PENDING', mode: null, terminal: false });
    expect(body.timing).toMatchObject({ startedAt: null, finishedAt: null, durationSeconds: null });
    expect(Number.isNaN(Date.parse(body.timing.createdAt as string))).toBe(false);
    expect(body.counts.pagesPlanned).toBe(0);
    expect(body.errors).toEqual([]);
    expect(body.errorCount).toBe(0);
    expect(body).not.toHaveProperty('duplicate');
    expect(Object.keys(body.sensor).sort()).toEqual([
      'authMethod',
      'autoResolutionInterval',
      'labels',
      'pageSize',
      'priority',
      'queryFilter',
      'sensorName',
      'url',
    ]);
    expect(JSON.stringify(body)).not.toMatch(/credential|password|memory:/i);
    // Lower-case ids are the same id.
    const lower = await s.call({
      method: 'GET',
      path: `/v3/scans/${created.scanId.toLowerCase()}`,
      token: s.tokens.auditor,
    });
    expect((lower.body as ScanBody).scanId).toBe(created.scanId);
  });

  it('answers 404 for an unknown id and 400 for something that is not a scan id', async () => {
    const unknown = await s.call({
      method: 'GET',
      path: '/v3/scans/01JDQ3Z6W8K4N2V7R5T9B1C3XH',
      token: s.tokens.admin,
    });
    expect(unknown.status).toBe(404);
    expect((unknown.body as { message: string }).message).toBe('scan not found: 01JDQ3Z6W8K4N2V7R5T9B1C3XH');
    for (const id of ['nope', '..%2F..%2Fetc', '01JDQ3Z6W8K4N2V7R5T9B1C3XU', 'x'.repeat(300)]) {
      const bad = await s.call({ method: 'GET', path: `/v3/scans/${id}`, token: s.tokens.admin });
      expect(bad.status, id).toBe(400);
      expect((bad.body as { issues: { path: string }[] }).issues[0]?.path).toBe('path.scanId');
    }
  });

  it('lists newest first, filters by state and sensor, and pages with nextToken', async () => {
    const sensorName = `list-${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      s.advance(1000);
      const res = await create(basicBody({ sensorName }));
      ids.push((res.body as ScanBody).scanId);
    }
    const seen: string[] = [];
    let nextToken: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { sensorName, limit: '2' };
      if (nextToken) query.nextToken = nextToken;
      const res = await s.call({ method: 'GET', path: '/v3/scans', token: s.tokens.auditor, query });
      expect(res.status).toBe(200);
      const page = res.body as { items: ScanBody[]; nextToken: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const item of page.items) expect(item.sensor.sensorName).toBe(sensorName);
      seen.push(...page.items.map((item) => item.scanId));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken !== null && pages < 10);
    expect(seen).toEqual([...ids].reverse());

    await s.call({ method: 'POST', path: `/v3/scans/${ids[1]}/cancel`, token: s.tokens.manager });
    const cancelled = await s.call({
      method: 'GET',
      path: '/v3/scans',
      token: s.tokens.auditor,
      query: { sensorName, state: 'cancelled' },
    });
    expect((cancelled.body as { items: ScanBody[] }).items.map((i) => i.scanId)).toEqual([ids[1]]);
  });

  it('rejects a bad listing query', async () => {
    const queries: Record<string, string>[] = [
      { state: 'DONE' },
      { limit: '0' },
      { limit: '500' },
      { sort: 'asc' },
    ];
    for (const query of queries) {
      const res = await s.call({ method: 'GET', path: '/v3/scans', token: s.tokens.auditor, query });
      expect(res.status, JSON.stringify(query)).toBe(400);
    }
  });
});

describe('POST /v3/scans/{scanId}/cancel', () => {
  it('cancels a running scan once; a second cancel is 409; an unknown scan is 404', async () => {
    const created = (await create(basicBody())).body as ScanBody;
    const res = await s.call({
      method: 'POST',
      path: `/v3/scans/${created.scanId}/cancel`,
      token: s.tokens.manager,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ scanId: created.scanId, state: 'CANCELLED', terminal: true });
    expect((await s.stores.scans.getScan(created.scanId))?.state).toBe('CANCELLED');
    const again = await s.call({
      method: 'POST',
      path: `/v3/scans/${created.scanId}/cancel`,
      token: s.tokens.admin,
    });
    expect(again.status).toBe(409);
    expect((again.body as { message: string }).message).toContain('already finished (CANCELLED)');
    const unknown = await s.call({
      method: 'POST',
      path: '/v3/scans/01JDQ3Z6W8K4N2V7R5T9B1C3XH/cancel',
      token: s.tokens.admin,
    });
    expect(unknown.status).toBe(404);
  });

  it('answers 409 for a scan that already completed', async () => {
    const created = (await create(basicBody())).body as ScanBody;
    const done = await s.stores.scans.transition(created.scanId, ['PENDING'], {
      state: 'COMPLETED',
      finishedAt: new Date().toISOString(),
    });
    expect(done?.state).toBe('COMPLETED');
    const res = await s.call({
      method: 'POST',
      path: `/v3/scans/${created.scanId}/cancel`,
      token: s.tokens.admin,
    });
    expect(res.status).toBe(409);
    expect((await s.stores.scans.getScan(created.scanId))?.state).toBe('COMPLETED');
  });
});

describe('schedules', () => {
  const scheduleBody = (overrides: Record<string, unknown> = {}) => ({
    name: 'nightly',
    expression: 'cron(0 2 * * ? *)',
    timezone: 'Europe/Berlin',
    scan: basicBody(),
    ...overrides,
  });

  it('creates, lists, reads and deletes a schedule; the timer and the secret follow', async () => {
    const res = await s.call({
      method: 'POST',
      path: '/v3/schedules',
      token: s.tokens.manager,
      json: scheduleBody(),
    });
    expect(res.status).toBe(201);
    const schedule = res.body as { scheduleId: string; sensor: Record<string, unknown>; createdBy: string };
    expect(res.headers.location).toBe(`/v3/schedules/${schedule.scheduleId}`);
    expect(schedule).toMatchObject({
      name: 'nightly',
      expression: 'cron(0 2 * * ? *)',
      timezone: 'Europe/Berlin',
      enabled: true,
      sensor: { sensorName: 'prod command', authMethod: 'basic', priority: 'normal' },
    });
    expect(JSON.stringify(res)).not.toContain(PASSWORD);
    expect(JSON.stringify(res)).not.toMatch(/credential|memory:/i);
    // The timer exists and the stored definition points at a secret that holds the password.
    expect(s.scheduler.schedules.has(schedule.scheduleId)).toBe(true);
    const stored = await s.stores.schedules.getSchedule(schedule.scheduleId);
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);
    expect((await s.secrets.getCredentials(stored?.sensor.credentialsRef ?? '')).password).toBe(PASSWORD);

    const list = await s.call({ method: 'GET', path: '/v3/schedules', token: s.tokens.auditor });
    expect(list.status).toBe(200);
    expect((list.body as { items: { scheduleId: string }[] }).items.map((i) => i.scheduleId)).toContain(
      schedule.scheduleId,
    );
    const one = await s.call({
      method: 'GET',
      path: `/v3/schedules/${schedule.scheduleId}`,
      token: s.tokens.auditor,
    });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(schedule);

    const del = await s.call({
      method: 'DELETE',
      path: `/v3/schedules/${schedule.scheduleId}`,
      token: s.tokens.manager,
    });
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expect(s.scheduler.schedules.has(schedule.scheduleId)).toBe(false);
    const gone = await s.call({
      method: 'GET',
      path: `/v3/schedules/${schedule.scheduleId}`,
      token: s.tokens.admin,
    });
    expect(gone.status).toBe(404);
    const again = await s.call({
      method: 'DELETE',
      path: `/v3/schedules/${schedule.scheduleId}`,
      token: s.tokens.admin,
    });
    expect(again.status).toBe(404);
  });

  it('rejects an invalid expression, naming the field and the problem, and creates nothing', async () => {
    const timers = s.scheduler.schedules.size;
    for (const [expression, problem] of [
      ['cron(0 2 * * *)', 'needs 6 fields'],
      ['cron(0 25 * * ? *)', "hours '25'"],
      ['rate(1 hours)', 'singular'],
      ['every night', 'must be cron'],
    ] as const) {
      const res = await s.call({
        method: 'POST',
        path: '/v3/schedules',
        token: s.tokens.manager,
        json: scheduleBody({ expression }),
      });
      expect(res.status, expression).toBe(400);
      const body = res.body as { message: string; issues: { path: string; message: string }[] };
      expect(body.issues[0]?.path).toBe('expression');
      expect(body.message).toContain(`expression: `);
      expect(body.message).toContain(problem);
    }
    const badScan = await s.call({
      method: 'POST',
      path: '/v3/schedules',
      token: s.tokens.manager,
      json: scheduleBody({ scan: basicBody({}, { query_filter: 'CertState -eq' }) }),
    });
    expect(badScan.status).toBe(400);
    expect((badScan.body as { issues: { path: string }[] }).issues[0]?.path).toBe(
      'scan.sensorConfig.query_filter',
    );
    expect(s.scheduler.schedules.size).toBe(timers);
  });

  it('answers 400 for a malformed schedule id and 404 for an unknown one', async () => {
    expect((await s.call({ method: 'GET', path: '/v3/schedules/a%20b', token: s.tokens.admin })).status).toBe(
      400,
    );
    const bad = await s.call({
      method: 'GET',
      path: '/v3/schedules/no-such-schedule',
      token: s.tokens.admin,
    });
    expect(bad.status).toBe(400);
    expect((bad.body as { issues: { path: string }[] }).issues[0]?.path).toBe('path.scheduleId');
    const unknown = await s.call({
      method: 'GET',
      path: '/v3/schedules/01JDQ40D3N6Q8S1V4X7Z9B2D5F',
      token: s.tokens.admin,
    });
    expect(unknown.status).toBe(404);
    expect((unknown.body as { message: string }).message).toBe(
      'schedule not found: 01JDQ40D3N6Q8S1V4X7Z9B2D5F',
    );
    const del = await s.call({
      method: 'DELETE',
      path: '/v3/schedules/01JDQ40D3N6Q8S1V4X7Z9B2D5F',
      token: s.tokens.admin,
    });
    expect(del.status).toBe(404);
  });
});

describe('roles', () => {
  /** Status each role gets (docs/api.md); 403s come before any body or id is looked at. */
  const MATRIX: [string, string, Record<'admin' | 'manager' | 'auditor', number>][] = [
    ['POST', '/v3/scan/create', { admin: 201, manager: 201, auditor: 403 }],
    ['GET', '/v3/scans', { admin: 200, manager: 200, auditor: 200 }],
    ['GET', '/v3/scans/{scanId}', { admin: 200, manager: 200, auditor: 200 }],
    ['POST', '/v3/scans/{scanId}/cancel', { admin: 200, manager: 200, auditor: 403 }],
    ['POST', '/v3/schedules', { admin: 201, manager: 201, auditor: 403 }],
    ['GET', '/v3/schedules', { admin: 200, manager: 200, auditor: 200 }],
    ['GET', '/v3/schedules/{scheduleId}', { admin: 200, manager: 200, auditor: 200 }],
    ['DELETE', '/v3/schedules/{scheduleId}', { admin: 204, manager: 204, auditor: 403 }],
  ];
  const PERMISSION: Record<string, string> = {
    'POST /v3/scan/create': 'scans:create',
    'GET /v3/scans': 'scans:read',
    'GET /v3/scans/{scanId}': 'scans:read',
    'POST /v3/scans/{scanId}/cancel': 'scans:cancel',
    'POST /v3/schedules': 'schedules:write',
    'GET /v3/schedules': 'schedules:read',
    'GET /v3/schedules/{scheduleId}': 'schedules:read',
    'DELETE /v3/schedules/{scheduleId}': 'schedules:write',
  };

  async function request(method: string, template: string) {
    const scanId = ((await create(basicBody())).body as ScanBody).scanId;
    const scheduleRes = await s.call({
      method: 'POST',
      path: '/v3/schedules',
      token: s.tokens.admin,
      json: { name: 'm', expression: 'rate(1 day)', scan: basicBody() },
    });
    const scheduleId = (scheduleRes.body as { scheduleId: string }).scheduleId;
    const path = template.replace('{scanId}', scanId).replace('{scheduleId}', scheduleId);
    const json =
      template === '/v3/scan/create'
        ? basicBody()
        : template === '/v3/schedules' && method === 'POST'
          ? { name: 'n', expression: 'rate(2 days)', scan: basicBody() }
          : undefined;
    return { method, path, ...(json ? { json } : {}) };
  }

  const cases = MATRIX.flatMap(([method, path, byRole]) =>
    (['admin', 'manager', 'auditor'] as const).map((role) => ({ method, path, role, status: byRole[role] })),
  );

  it.each(cases)('$role: $method $path → $status', async ({ method, path, role, status }) => {
    const res = await s.call({ ...(await request(method, path)), token: s.tokens[role] });
    expect(res.status).toBe(status);
    if (status === 403) {
      expect((res.body as { message: string }).message).toBe(
        `missing permission ${PERMISSION[`${method} ${path}`]}`,
      );
    }
  });

  it('refuses a caller without the permission before looking at the body', async () => {
    const res = await create({ sensorType: 'nonsense', password: PASSWORD }, s.tokens.auditor);
    expect(res.status).toBe(403);
    expect(res.body).not.toHaveProperty('issues');
  });

  it('declares each permission in the OpenAPI document', async () => {
    const doc = (await s.call({ method: 'GET', path: '/v3/openapi.json', token: s.tokens.auditor })).body as {
      paths: Record<string, Record<string, { 'x-required-permission': string | null }>>;
    };
    for (const [key, permission] of Object.entries(PERMISSION)) {
      const [method = '', path = ''] = key.split(' ');
      expect(doc.paths[path]?.[method.toLowerCase()]?.['x-required-permission'], key).toBe(permission);
    }
  });

  it('serves no scan routes when the handler has no scan core', async () => {
    const plain = await apiStack(inject('awsEndpoint'));
    const res = await plain.call({ method: 'GET', path: '/v3/scans', token: plain.adminToken });
    expect(res.status).toBe(404);
  });
});

describe('the OpenAPI document with the scan routes', () => {
  interface Operation {
    operationId: string;
    'x-required-permission': string | null;
    responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
    requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  }
  interface Document {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, Record<string, unknown>> };
  }
  let doc: Document;

  beforeAll(async () => {
    const res = await s.call({ method: 'GET', path: '/v3/openapi.json', token: s.tokens.auditor });
    expect(res.status).toBe(200);
    doc = res.body as Document;
  });

  it('is valid OpenAPI 3.1 and resolves in swagger-client', async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
    const resolved = await SwaggerClient.resolve({ spec: structuredClone(doc) });
    expect(resolved.errors).toEqual([]);
  });

  it('describes exactly the routes served, with their responses and errors', () => {
    const routes = createApiRoutes(s.service, undefined, s.scans);
    const inRouter = routes.map((r) => `${r.method} ${r.path}`).sort();
    const inSpec = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(inSpec).toEqual(inRouter);
    for (const path of ['/v3/scan/create', '/v3/scans', '/v3/scans/{scanId}', '/v3/scans/{scanId}/cancel']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    for (const route of routes) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op?.operationId).toBe(route.operationId);
      const statuses = Object.keys(op?.responses ?? {});
      for (const status of [...Object.keys(route.responses), ...errorStatusesOf(route).map(String)]) {
        expect(statuses, `${route.operationId} ${status}`).toContain(status);
      }
    }
    const create = doc.paths['/v3/scan/create']?.post;
    expect(create?.requestBody?.content['application/json']?.schema.$ref).toBe(
      '#/components/schemas/CreateScanRequest',
    );
    for (const status of ['200', '201']) {
      expect(create?.responses[status]?.content?.['application/json']?.schema.$ref).toBe(
        '#/components/schemas/CreatedScan',
      );
    }
    expect(Object.keys(doc.paths['/v3/scans/{scanId}/cancel']?.post?.responses ?? {})).toContain('409');
    expect(Object.keys(doc.paths['/v3/schedules/{scheduleId}']?.delete?.responses ?? {})).toContain('204');
  });

  it('publishes the request schemas the API validates with', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ $id: 'doc', components: doc.components });
    const check = ajv.getSchema('doc#/components/schemas/CreateScanRequest');
    expect(check).toBeDefined();
    const good = { ...basicBody(), callbackId: 'x', priority: 'high' };
    expect(check?.(good), JSON.stringify(check?.errors)).toBe(true);
    expect(check?.({ ...good, labels: [{ name: 'env', value: 'prod' }] })).toBe(true);
    expect(check?.({ ...good, colour: 'blue' })).toBe(false);
    expect(check?.({ ...good, sensorType: 'Venafi' })).toBe(false);
    expect(check?.({ ...good, priority: 'urgent' })).toBe(false);
    expect(check?.({ ...good, labels: [{ a: '1', b: '2' }] })).toBe(false);
    expect(check?.({ ...good, sensorConfig: { ...good.sensorConfig, plugin_config: {} } })).toBe(false);
    const schedule = ajv.getSchema('doc#/components/schemas/CreateScheduleRequest');
    expect(schedule?.({ name: 'n', expression: 'rate(1 day)', scan: good })).toBe(true);
  });

  it('never describes a credential or its reference in a response', () => {
    for (const name of ['Scan', 'CreatedScan', 'ScanPage', 'Schedule', 'ScheduleList', 'SensorView']) {
      expect(doc.components.schemas[name], name).toBeDefined();
      const text = JSON.stringify(doc.components.schemas[name]);
      expect(text, name).not.toMatch(/password|client_secret|credentialsRef|sensorKey|"secret"/);
    }
    // The request does describe them (that is where they are sent), marked as stored secrets.
    expect(JSON.stringify(doc.components.schemas.SensorConfig)).toContain('client_secret');
  });
});
