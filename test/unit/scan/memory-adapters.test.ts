// The in-memory queue, secret source, event publisher and scheduler used by the local runtime and the tests.
import { describe, expect, it } from 'vitest';
import { MemoryEventPublisher } from '#shared/adapters/memory/events';
import { MemoryScheduler } from '#shared/adapters/memory/scheduler';
import { MemorySecretSource, SecretNotFoundError } from '#shared/adapters/memory/secrets';
import { MemoryWorkQueue, pageQueueFor } from '#shared/adapters/memory/work-queue';
import type { PageMessage } from '#shared/scan/index';

const page = (scanId: string, taskId: string): PageMessage => ({
  type: 'page',
  task: { scanId, taskId, lo: 1, hi: 2, priority: 'normal' },
});

describe('MemoryWorkQueue', () => {
  it('keeps high-priority pages apart from normal and low ones, counts receipts and requeues', async () => {
    const q = new MemoryWorkQueue();
    await q.sendPages([page('a', 'r1-2'), page('a', 'r3-4')], 'normal');
    await q.sendPages([page('b', 'r1-2')], 'high');
    await q.sendPages([page('c', 'r1-2')], 'low');
    await q.sendStart({ type: 'start', scanId: 'a' }, 'normal');
    await q.sendExports([{ type: 'export', scanId: 'a', batchId: 'a.r1-2.1' }]);
    expect(pageQueueFor('high')).toBe('page-high');
    expect(pageQueueFor('low')).toBe('page-normal');
    expect(q.size('page-high')).toBe(1);
    expect(q.size('page-normal')).toBe(3);
    expect(q.size()).toBe(6);
    const item = q.receive('page-normal')!;
    expect(item).toMatchObject({ receiveCount: 1, message: { task: { scanId: 'a', taskId: 'r1-2' } } });
    q.requeue('page-normal', item);
    expect(q.drain('page-normal').map((i) => [i.message.task.scanId, i.receiveCount])).toEqual([
      ['a', 0],
      ['c', 0],
      ['a', 1],
    ]);
    expect(q.receive('page-normal')).toBeUndefined();
    expect(q.sent).toEqual({ start: 1, 'page-high': 1, 'page-normal': 3, export: 1 });
  });

  it('copies messages, so a sender changing its object later changes nothing queued', async () => {
    const q = new MemoryWorkQueue();
    const message = page('a', 'r1-2');
    await q.sendPages([message], 'normal');
    message.task.taskId = 'changed';
    expect(q.receive('page-normal')!.message.task.taskId).toBe('r1-2');
  });
});

describe('MemorySecretSource', () => {
  it('stores behind memory:<name>, returns copies, deletes, and names no secret when a ref is unknown', async () => {
    const s = new MemorySecretSource('tok');
    const ref = await s.putCredentials('scan-1', { username: 'u', password: 'p4ss' });
    expect(ref).toBe('memory:scan-1');
    const got = await s.getCredentials(ref);
    got.password = 'x';
    expect((await s.getCredentials(ref)).password).toBe('p4ss');
    await s.deleteCredentials(ref);
    const error = await s.getCredentials(ref).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(String(error)).not.toContain('p4ss');
    expect(await s.getIngestionToken()).toBe('tok');
    await expect(s.putCredentials(' ', {})).rejects.toThrow(/name/);
  });
});

describe('MemoryEventPublisher and MemoryScheduler', () => {
  it('record what they are given', async () => {
    const e = new MemoryEventPublisher();
    await e.publish('ScanStarted', { scanId: 'a' });
    await e.publish('ScanFinished', { scanId: 'a', state: 'COMPLETED' });
    expect(e.ofType('ScanFinished')).toEqual([
      { detailType: 'ScanFinished', detail: { scanId: 'a', state: 'COMPLETED' } },
    ]);
    const s = new MemoryScheduler();
    const schedule = {
      scheduleId: 'S1',
      name: 'n',
      expression: 'rate(1 day)',
      timezone: 'UTC',
      enabled: true,
      createdAt: 'now',
      createdBy: 'k',
      sensor: {
        sensorName: 'x',
        url: 'https://h/api',
        queryFilter: null,
        authMethod: 'basic' as const,
        credentialsRef: 'memory:x',
        labels: [],
        priority: 'normal' as const,
        autoResolutionInterval: 5,
        pageSize: 1000,
        hostConcurrency: 4,
      },
    };
    await s.create(schedule);
    expect(s.schedules.get('S1')).toEqual(schedule);
    await s.delete('S1');
    expect(s.schedules.size).toBe(0);
  });
});
