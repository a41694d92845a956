// The scan routes on the real router and scan core (createScanApi over the memory adapters), without a gateway:
// messages of 400s, error mapping, cancel races and views.
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryEventPublisher } from '#shared/adapters/memory/events';
import { createMemoryScanStores } from '#shared/adapters/memory/scan-stores';
import { MemoryScheduler } from '#shared/adapters/memory/scheduler';
import { MemorySecretSource } from '#shared/adapters/memory/secrets';
import { MemoryWorkQueue } from '#shared/adapters/memory/work-queue';
import { classifyScanError, createScanRoutes } from '#shared/api/scan-routes';
import { scanView } from '#shared/api/scan-schemas';
import { callerOf } from '#shared/http/caller';
import { createHttpHandler } from '#shared/http/lambda';
import { createRouter } from '#shared/http/router';
import { createCommandClient } from '#shared/keyfactor/index';
import type { LogFields, Logger } from '#shared/logging';
import { DEFAULT_PIPELINE_CONFIG } from '#shared/scan/deps';
import { InvalidScanRequestError, InvalidScheduleError, ScanNotFoundError } from '#shared/scan/errors';
import type { ScanRecord } from '#shared/scan/model';
import type { ScanApi, SecretSource } from '#shared/scan/ports';
import { createScanApi } from '#shared/scan/service';
import { lambdaContext, parseResult, proxyEvent } from '#test/support/apigw';

const PASSWORD = 'Unit-Narwhal-2290-distinctive';
const ALL = 'scans:create,scans:read,scans:cancel,schedules:read,schedules:write';

function body(overrides: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  return {
    sensorName: 'unit',
    sensorType: 'Keyfactor Command',
    sensorConfig: {
      url: 'https://command.example.com/KeyfactorAPI',
      username: 'u',
      password: PASSWORD,
      ...config,
    },
    ...overrides,
  };
}

function setup(options: { secrets?: SecretSource; wrap?: (api: ScanApi) => ScanApi } = {}) {
  const lines: string[] = [];
  const log = (level: string) => (message: string, fields?: LogFields) =>
    void lines.push(JSON.stringify({ level, message, ...fields }));
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const stores = createMemoryScanStores();
  const api = createScanApi({
    ...stores,
    queue: new MemoryWorkQueue(),
    secrets: options.secrets ?? new MemorySecretSource(),
    events: new MemoryEventPublisher(),
    scheduler: new MemoryScheduler(),
    clock: { now: () => new Date() },
    logger,
    config: DEFAULT_PIPELINE_CONFIG,
    commandClient: (settings) => createCommandClient(settings),
  });
  const scans = options.wrap ? options.wrap(api) : api;
  const handler = createHttpHandler({
    router: createRouter(createScanRoutes(scans), { caller: callerOf }),
    logger,
    classify: classifyScanError,
  });
  const call = async (method: string, path: string, json?: unknown) =>
    parseResult(
      await handler(
        proxyEvent({ method, path, json, authorizer: { keyId: 'unit-key', permissions: ALL } }),
        lambdaContext(),
      ),
    );
  return { call, stores, api, lines };
}

let t: ReturnType<typeof setup>;
beforeEach(() => {
  t = setup();
});

describe('400 messages', () => {
  it('repeat the first issue and count the others', async () => {
    const res = await t.call('POST', '/v3/scan/create', body({ priority: 'urgent', colour: 'x' }));
    expect(res.status).toBe(400);
    const error = res.body as { message: string; issues: unknown[] };
    expect(error.issues).toHaveLength(2);
    expect(error.message).toMatch(/^invalid request: (priority|colour): .+ \(and 1 more\)$/);
  });

  it('bound what a hostile key name or a flood of unknown keys can put in the answer and the log', async () => {
    const flood: Record<string, unknown> = body();
    for (let i = 0; i < 3000; i++) flood[`k${i}`] = 1;
    const many = await t.call('POST', '/v3/scan/create', flood);
    expect(many.status).toBe(400);
    const error = many.body as { message: string; issues: unknown[] };
    expect(error.issues).toHaveLength(50);
    expect(error.message).toMatch(/\(and 2999 more\)$/);

    const longKey = `\u001b[31m${'x'.repeat(20_000)}`;
    const res = await t.call('POST', '/v3/scan/create', { ...body(), [longKey]: 1 });
    expect(res.status).toBe(400);
    const issue = (res.body as { issues: { path: string }[] }).issues[0];
    expect(issue?.path.length).toBeLessThanOrEqual(121);
    expect(issue?.path.startsWith('?[31m')).toBe(true);
    expect(JSON.stringify(res).length).toBeLessThan(2000);
    expect(t.lines.join('\n')).not.toContain('x'.repeat(200));
  });

  it('name the whole body when it is not an object', async () => {
    const res = await t.call('POST', '/v3/scan/create', ['a']);
    expect(res.status).toBe(400);
    expect((res.body as { message: string }).message).toBe('invalid request: must be a JSON object');
  });

  it('say which query parameter is wrong', async () => {
    const res = parseResult(
      await createHttpHandler({
        router: createRouter(createScanRoutes(t.api), { caller: callerOf }),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      })(
        proxyEvent({
          method: 'GET',
          path: '/v3/scans',
          query: { limit: '500' },
          authorizer: { keyId: 'k', permissions: ALL },
        }),
        lambdaContext(),
      ),
    );
    expect(res.status).toBe(400);
    expect((res.body as { message: string }).message).toBe(
      'invalid request: query.limit: must be at most 100',
    );
  });
});

describe('classifyScanError', () => {
  it('maps the core errors and leaves everything else to be a 500', () => {
    expect(classifyScanError(new InvalidScheduleError('bad cron'))?.status).toBe(400);
    expect(classifyScanError(new InvalidScanRequestError('bad'))?.status).toBe(400);
    expect(classifyScanError(new ScanNotFoundError('X'))?.status).toBe(404);
    expect(classifyScanError(new Error('boom'))).toBeUndefined();
  });

  it('a failing secret store is a plain 500 that shows nothing', async () => {
    const failing = new MemorySecretSource();
    failing.putCredentials = () => Promise.reject(new Error('secret store unavailable'));
    const f = setup({ secrets: failing });
    const res = await f.call('POST', '/v3/scan/create', body());
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ message: 'internal error' });
    expect(JSON.stringify(res)).not.toContain(PASSWORD);
    expect(f.lines.join('\n')).not.toContain(PASSWORD);
    expect(f.lines.join('\n')).toContain('secret store unavailable');
  });
});

describe('cancel', () => {
  async function createScan(): Promise<string> {
    const res = await t.call('POST', '/v3/scan/create', body());
    return (res.body as { scanId: string }).scanId;
  }

  it('is a 409 naming the state when the scan finished between the read and the cancel', async () => {
    const raced = setup({
      wrap: (api) => ({
        ...api,
        async cancelScan(scanId) {
          await raced.stores.scans.transition(scanId, ['PENDING'], { state: 'COMPLETED' });
          return api.cancelScan(scanId);
        },
      }),
    });
    const created = await raced.call('POST', '/v3/scan/create', body());
    const scanId = (created.body as { scanId: string }).scanId;
    const res = await raced.call('POST', `/v3/scans/${scanId}/cancel`);
    expect(res.status).toBe(409);
    expect((res.body as { message: string }).message).toBe(`scan ${scanId} has already finished (COMPLETED)`);
  });

  it('is a 409 for a FINALIZING scan, which is let finish', async () => {
    const scanId = await createScan();
    await t.stores.scans.transition(scanId, ['PENDING'], { state: 'FINALIZING' });
    const res = await t.call('POST', `/v3/scans/${scanId}/cancel`);
    expect(res.status).toBe(409);
    expect((res.body as { message: string }).message).toBe(
      `scan ${scanId} is FINALIZING and can no longer be cancelled`,
    );
    expect((await t.stores.scans.getScan(scanId))?.state).toBe('FINALIZING');
  });

  it('cancels a RUNNING scan and stamps its finish', async () => {
    const scanId = await createScan();
    await t.stores.scans.transition(scanId, ['PENDING'], {
      state: 'RUNNING',
      startedAt: new Date().toISOString(),
    });
    const res = await t.call('POST', `/v3/scans/${scanId}/cancel`);
    expect(res.status).toBe(200);
    const scan = res.body as {
      state: string;
      timing: { finishedAt: string | null; durationSeconds: number };
    };
    expect(scan.state).toBe('CANCELLED');
    expect(scan.timing.finishedAt).not.toBeNull();
    expect(scan.timing.durationSeconds).toBeGreaterThanOrEqual(0);
  });
});

describe('scanView', () => {
  it('computes the duration from start to finish and copies nothing it does not name', async () => {
    const scanId = (await t.call('POST', '/v3/scan/create', body())).body as { scanId: string };
    const record = (await t.stores.scans.getScan(scanId.scanId)) as ScanRecord;
    const view = scanView({
      ...record,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:01:30.500Z',
      state: 'COMPLETED',
    });
    expect(view.timing.durationSeconds).toBe(90.5);
    expect(view.terminal).toBe(true);
    expect(JSON.stringify(view)).not.toContain(record.sensor.credentialsRef);
    expect(JSON.stringify(view)).not.toContain(record.sensorKey);
    expect(view).not.toHaveProperty('expiresAt');
    expect(view).not.toHaveProperty('version');
  });

  it('measures from creation when the scan never started', async () => {
    const scanId = (await t.call('POST', '/v3/scan/create', body())).body as { scanId: string };
    const record = (await t.stores.scans.getScan(scanId.scanId)) as ScanRecord;
    const finished = new Date(Date.parse(record.createdAt) + 2000).toISOString();
    expect(scanView({ ...record, finishedAt: finished }).timing.durationSeconds).toBe(2);
  });
});

describe('schedules', () => {
  it('records the calling key as the creator', async () => {
    const res = await t.call('POST', '/v3/schedules', {
      name: 'n',
      expression: 'rate(6 hours)',
      scan: body(),
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ createdBy: 'unit-key', timezone: 'UTC', enabled: true });
  });
});
