// The scan API service over the memory adapters: validation, credentials, de-duplication, cancel, schedules.
import { describe, expect, it } from 'vitest';
import { QueryError } from '#shared/query/index';
import {
  InvalidScanRequestError,
  InvalidScheduleError,
  validateScheduleExpression,
  type CreateScanInput,
} from '#shared/scan/index';
import { createMemoryPipeline } from '#test/support/scan/memory-pipeline';

const clockAt = (iso: string) => {
  let ms = Date.parse(iso);
  return { now: () => new Date(ms), advance: (s: number) => (ms += s * 1000) };
};

const input = (overrides: Partial<CreateScanInput> = {}): CreateScanInput => ({
  sensorName: 'kf',
  url: 'https://command.example.com/KeyfactorAPI',
  queryFilter: 'CN -contains "example"',
  credentials: { username: 'CORP\\svc', password: 's3cret-pw' },
  callbackId: null,
  labels: [{ name: 'team', value: 'pki' }],
  priority: 'normal',
  ...overrides,
});

describe('createScan', () => {
  it('stores the credentials behind a reference and queues the start message', async () => {
    const p = createMemoryPipeline({ clock: clockAt('2026-03-01T00:00:00Z') });
    const { scan, created } = await p.api.createScan(input(), { type: 'api' });
    expect(created).toBe(true);
    expect(scan).toMatchObject({
      state: 'PENDING',
      trigger: 'api',
      mode: null,
      sensor: { authMethod: 'basic', pageSize: 1000, autoResolutionInterval: 5, hostConcurrency: 4 },
      createdAt: '2026-03-01T00:00:00.000Z',
      expiresAt: Date.parse('2026-03-01T00:00:00Z') / 1000 + 90 * 86400,
    });
    expect(JSON.stringify(scan)).not.toContain('s3cret-pw');
    expect(await p.secrets.getCredentials(scan.sensor.credentialsRef)).toEqual(input().credentials);
    expect(p.queue.queues.start.map((m) => m.message)).toEqual([{ type: 'start', scanId: scan.scanId }]);
    expect(await p.api.getScan(scan.scanId)).toEqual(scan);
  });

  it('OAuth2 credentials make an oauth2 sensor', async () => {
    const p = createMemoryPipeline();
    const { scan } = await p.api.createScan(
      input({
        credentials: { token_url: 'https://idp/token', client_id: 'c', client_secret: 'x', scope: 's' },
      }),
      { type: 'api' },
    );
    expect(scan.sensor.authMethod).toBe('oauth2');
  });

  it.each([
    [{ sensorName: ' ' }, /sensorName/],
    [{ url: 'command.example.com' }, /absolute http/],
    [{ url: 'ftp://command.example.com/' }, /https/],
    [{ url: 'https://u:p@command.example.com/' }, /must not carry credentials/],
    [{ priority: 'urgent' as never }, /priority/],
    [{ credentials: {} }, /no Command credentials/],
    [{ credentials: { username: 'u' } }, /missing password/],
    [{ credentials: { username: 'u', password: 'p', client_id: 'c' } }, /not both/],
    [{ credentials: { token_url: 'https://t', client_id: 'c' } }, /missing client_secret/],
    [{ pageSize: 0 }, /pageSize/],
    [{ autoResolutionInterval: 0 }, /autoResolutionInterval/],
    [{ labels: [{ name: '', value: 'x' }] }, /labels/],
    [{ callbackId: '' }, /callbackId/],
  ])('refuses %j', async (overrides, message) => {
    const p = createMemoryPipeline();
    await expect(p.api.createScan(input(overrides), { type: 'api' })).rejects.toThrow(
      InvalidScanRequestError,
    );
    await expect(p.api.createScan(input(overrides), { type: 'api' })).rejects.toThrow(message);
    expect(p.secrets.size).toBe(0);
    expect(p.queue.size()).toBe(0);
  });

  it('an invalid filter is a QueryError naming the column, and nothing is stored', async () => {
    const p = createMemoryPipeline();
    const error = await p.api
      .createScan(input({ queryFilter: 'CN -contains "x" AND (' }), { type: 'api' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).column).toBe(23);
    expect(p.secrets.size).toBe(0);
  });

  it('de-duplicates a callbackId within the window and re-sends the start of a scan still PENDING', async () => {
    const clock = clockAt('2026-03-01T00:00:00Z');
    const p = createMemoryPipeline({ clock, config: { callbackDedupSeconds: 60 } });
    const a = await p.api.createScan(input({ callbackId: 'job-7' }), { type: 'api' });
    clock.advance(59);
    const b = await p.api.createScan(input({ callbackId: 'job-7' }), { type: 'api' });
    expect(b).toEqual({ scan: a.scan, created: false });
    expect(p.secrets.size).toBe(1);
    expect(p.queue.queues.start.map((m) => m.message.scanId)).toEqual([a.scan.scanId, a.scan.scanId]);
    clock.advance(2);
    const c = await p.api.createScan(input({ callbackId: 'job-7' }), { type: 'api' });
    expect(c.created).toBe(true);
  });

  it('a failed start message leaves no orphaned secret', async () => {
    const p = createMemoryPipeline();
    p.queue.sendStart = () => Promise.reject(new Error('queue down'));
    await expect(p.api.createScan(input(), { type: 'api' })).rejects.toThrow('queue down');
    expect(p.secrets.size).toBe(0);
  });
});

describe('cancelScan and listScans', () => {
  it('cancels a non-terminal scan once, announces it and deletes its credentials', async () => {
    const p = createMemoryPipeline();
    const { scan } = await p.api.createScan(input({ callbackId: 'cb' }), { type: 'api' });
    const cancelled = await p.api.cancelScan(scan.scanId);
    expect(cancelled?.state).toBe('CANCELLED');
    expect(cancelled?.finishedAt).not.toBeNull();
    expect(p.events.ofType('ScanFinished').map((e) => e.detail)).toEqual([
      expect.objectContaining({ scanId: scan.scanId, callbackId: 'cb', state: 'CANCELLED' }),
    ]);
    expect(p.secrets.has(scan.sensor.credentialsRef)).toBe(false);
    expect((await p.api.cancelScan(scan.scanId))?.state).toBe('CANCELLED');
    expect(p.events.ofType('ScanFinished')).toHaveLength(1);
    // The collector then skips it.
    await p.runUntilIdle();
    expect((await p.api.getScan(scan.scanId))?.state).toBe('CANCELLED');
  });

  it('lists with a bounded limit', async () => {
    const p = createMemoryPipeline();
    await p.api.createScan(input(), { type: 'api' });
    await p.api.createScan(input({ sensorName: 'other' }), { type: 'api' });
    expect((await p.api.listScans({ limit: 10, sensorName: 'other' })).items).toHaveLength(1);
    await expect(p.api.listScans({ limit: 0 })).rejects.toThrow(/limit/);
    await expect(p.api.listScans({ limit: 1000 })).rejects.toThrow(/limit/);
  });
});

describe('schedules', () => {
  it.each([
    'rate(1 minute)',
    'rate(5 minutes)',
    'rate(1 hour)',
    'rate(12 hours)',
    'rate(1 day)',
    'rate(7 days)',
    'cron(0 2 * * ? *)',
    'cron(15 10 ? * MON-FRI *)',
    'cron(0/30 * * * ? *)',
  ])('accepts %s', (expression) => {
    expect(() => validateScheduleExpression(expression)).not.toThrow();
  });

  it.each([
    ['rate(0 minutes)', /at least 1/],
    ['rate(5 minute)', /singular/],
    ['rate(1 days)', /singular/],
    ['rate(5 weeks)', /rate\(N/],
    ['rate(-1 days)', /rate\(N/],
    ['cron(0 2 * * *)', /6 fields/],
    ['cron(0 2 * * * *)', /exactly one of day-of-month/],
    ['cron(0 2 ? * ? *)', /exactly one of day-of-month/],
    ['cron(0 2 * * ? *; rm)', /unexpected characters|6 fields/],
    ['at(2026-01-01T00:00:00)', /cron\(/],
    ['', /cron\(/],
  ])('refuses %s', (expression, message) => {
    expect(() => validateScheduleExpression(expression)).toThrow(InvalidScheduleError);
    expect(() => validateScheduleExpression(expression)).toThrow(message);
  });

  it('creates, starts through the same path as the API, and deletes with its timer and secret', async () => {
    const p = createMemoryPipeline();
    const schedule = await p.api.createSchedule(
      {
        name: 'nightly',
        expression: 'cron(0 2 * * ? *)',
        timezone: 'Europe/Berlin',
        scan: input({ priority: 'high' }),
      },
      'key-1',
    );
    expect(schedule).toMatchObject({
      name: 'nightly',
      enabled: true,
      createdBy: 'key-1',
      timezone: 'Europe/Berlin',
    });
    expect(p.scheduler.schedules.get(schedule.scheduleId)).toEqual(schedule);
    expect(await p.api.listSchedules()).toEqual([schedule]);
    expect(JSON.stringify(schedule)).not.toContain('s3cret-pw');

    const scan = await p.api.startScheduledScan(schedule.scheduleId);
    expect(scan).toMatchObject({ trigger: 'schedule', scheduleId: schedule.scheduleId, state: 'PENDING' });
    expect(scan!.sensor.credentialsRef).toBe(schedule.sensor.credentialsRef);
    expect(p.queue.queues.start).toHaveLength(1);
    // A scheduled scan keeps the schedule's secret when it ends.
    await p.api.cancelScan(scan!.scanId);
    expect(p.secrets.has(schedule.sensor.credentialsRef)).toBe(true);

    expect(await p.api.deleteSchedule(schedule.scheduleId)).toBe(true);
    expect(p.scheduler.schedules.size).toBe(0);
    expect(await p.api.getSchedule(schedule.scheduleId)).toBeNull();
    expect(p.secrets.has(schedule.sensor.credentialsRef)).toBe(false);
    expect(await p.api.deleteSchedule(schedule.scheduleId)).toBe(false);
    expect(await p.api.startScheduledScan(schedule.scheduleId)).toBeNull();
  });

  it('refuses a bad timezone or name, and rolls back when the timer cannot be made', async () => {
    const p = createMemoryPipeline();
    await expect(
      p.api.createSchedule(
        { name: 'x', expression: 'rate(1 day)', timezone: 'Mars/Olympus', scan: input() },
        'k',
      ),
    ).rejects.toThrow(/timezone/);
    await expect(
      p.api.createSchedule({ name: '', expression: 'rate(1 day)', scan: input() }, 'k'),
    ).rejects.toThrow(/name/);
    p.scheduler.create = () => Promise.reject(new Error('scheduler down'));
    await expect(
      p.api.createSchedule({ name: 'x', expression: 'rate(1 day)', scan: input() }, 'k'),
    ).rejects.toThrow('scheduler down');
    expect(await p.api.listSchedules()).toEqual([]);
    expect(p.secrets.size).toBe(0);
  });
});
