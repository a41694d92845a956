// The in-process work queue: SQS receive counts, dead letters after the last delivery, per-stage concurrency, drain.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '#shared/logging';
import { InProcessWorkQueue, type Stage, type StageHandlers } from '#shared/remote/queue';
import type { ExportMessage, PageMessage, StartMessage } from '#shared/scan/ports';

const ones = (n: number): Record<Stage, number> => ({
  start: n,
  'page-high': n,
  'page-normal': n,
  export: n,
});

function queue(options: { concurrency?: Partial<Record<Stage, number>>; max?: number } = {}) {
  return new InProcessWorkQueue({
    concurrency: { ...ones(1), ...options.concurrency },
    maxReceiveCount: ones(options.max ?? 3),
    retryDelayMs: () => 1,
    logger: silentLogger,
  });
}

const page = (n: number): PageMessage => ({
  type: 'page',
  task: { scanId: 's', taskId: `r${n}-${n}`, lo: n, hi: n, priority: 'normal' },
});
const exp = (n: number): ExportMessage => ({ type: 'export', scanId: 's', batchId: `s.b.${n}` });

function handlers(partial: Partial<StageHandlers>): StageHandlers {
  const none = async () => {
    await Promise.resolve();
  };
  return { start: none, page: none, export: none, ...partial };
}

describe('InProcessWorkQueue', () => {
  it('redelivers a failed message with receiveCount 1, 2, 3 as SQS counts receipts', async () => {
    const q = queue();
    const seen: number[] = [];
    q.setHandlers(
      handlers({
        page: async ({ receiveCount }) => {
          await Promise.resolve();
          seen.push(receiveCount);
          if (receiveCount < 3) throw new Error('transient');
        },
      }),
    );
    await q.sendPages([page(1)], 'normal');
    await q.drain();
    expect(seen).toEqual([1, 2, 3]);
    expect(q.deadLetters).toEqual([]);
  });

  it('moves a message to the dead letters after maxReceiveCount deliveries', async () => {
    const q = queue({ max: 2 });
    let deliveries = 0;
    q.setHandlers(
      handlers({
        export: async () => {
          await Promise.resolve();
          deliveries += 1;
          throw new Error('poison');
        },
      }),
    );
    await q.sendExports([exp(1)]);
    await q.drain();
    expect(deliveries).toBe(2);
    expect(q.deadLetters).toEqual([{ stage: 'export', message: exp(1), receiveCount: 2, error: 'poison' }]);
  });

  it('bounds concurrency per stage, independently', async () => {
    const q = queue({ concurrency: { 'page-normal': 3, export: 2 } });
    const running: Record<string, number> = { page: 0, export: 0 };
    const peak: Record<string, number> = { page: 0, export: 0 };
    const work = (kind: 'page' | 'export') => async () => {
      running[kind]! += 1;
      peak[kind] = Math.max(peak[kind]!, running[kind]!);
      await new Promise((r) => setTimeout(r, 5));
      running[kind]! -= 1;
    };
    q.setHandlers(handlers({ page: work('page'), export: work('export') }));
    await q.sendPages(
      Array.from({ length: 12 }, (_, i) => page(i)),
      'normal',
    );
    await q.sendExports(Array.from({ length: 9 }, (_, i) => exp(i)));
    await q.drain();
    expect(peak).toEqual({ page: 3, export: 2 });
  });

  it('drain waits for messages that handlers send (start → pages → exports)', async () => {
    const q = queue({ concurrency: { 'page-normal': 2 } });
    const done: string[] = [];
    q.setHandlers(
      handlers({
        start: async () => {
          await q.sendPages([page(1), page(2)], 'normal');
        },
        page: async ({ message }) => {
          await new Promise((r) => setTimeout(r, 3));
          await q.sendExports([exp(message.task.lo)]);
        },
        export: async ({ message }) => {
          await Promise.resolve();
          done.push(message.batchId);
        },
      }),
    );
    await q.sendStart({ type: 'start', scanId: 's' } satisfies StartMessage, 'normal');
    await q.drain();
    expect(done.sort()).toEqual(['s.b.1', 's.b.2']);
    expect(q.sent).toEqual({ start: 1, 'page-high': 0, 'page-normal': 2, export: 2 });
  });

  it('high-priority pages go to their own stage', async () => {
    const q = queue();
    const tasks: string[] = [];
    q.setHandlers(
      handlers({
        page: async ({ message }) => {
          await Promise.resolve();
          tasks.push(message.task.taskId);
        },
      }),
    );
    await q.sendPages([page(7)], 'high');
    await q.drain();
    expect(q.sent['page-high']).toBe(1);
    expect(tasks).toEqual(['r7-7']);
  });

  it('stop() takes no new work; in-flight handlers finish; drain resolves with the rest pending', async () => {
    const q = queue();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const finished: number[] = [];
    q.setHandlers(
      handlers({
        page: async ({ message }) => {
          await gate;
          finished.push(message.task.lo);
        },
      }),
    );
    await q.sendPages([page(1), page(2), page(3)], 'normal');
    expect(q.inFlight()).toBe(1);
    q.stop(['page-normal']);
    const drained = q.drain();
    release();
    await drained;
    expect(finished).toEqual([1]);
    expect(q.pending('page-normal')).toBe(2);
  });

  it('reports sends and settlements (the export journal hooks in here)', async () => {
    const sends: string[] = [];
    const settled: string[] = [];
    const q = new InProcessWorkQueue({
      concurrency: ones(1),
      maxReceiveCount: ones(1),
      logger: silentLogger,
      onSend: (stage, messages) => sends.push(`${stage}:${messages.length}`),
      onSettled: (stage, message, how) =>
        settled.push(`${stage}:${message.type === 'export' ? message.batchId : ''}:${how}`),
    });
    q.setHandlers(
      handlers({
        export: async ({ message }) => {
          await Promise.resolve();
          if (message.batchId === 's.b.2') throw new Error('no');
        },
      }),
    );
    await q.sendExports([exp(1), exp(2)]);
    await q.drain();
    expect(sends).toEqual(['export:2']);
    // A dead-lettered message leaves the queue too, marked as such (the export journal keeps it for a redrive).
    expect(settled.sort()).toEqual(['export:s.b.1:done', 'export:s.b.2:dead']);
  });

  it('rejects a concurrency or maxReceiveCount below 1', () => {
    expect(
      () =>
        new InProcessWorkQueue({
          concurrency: { ...ones(1), export: 0 },
          maxReceiveCount: ones(1),
          logger: silentLogger,
        }),
    ).toThrow(/concurrency of export/);
    expect(
      () =>
        new InProcessWorkQueue({
          concurrency: ones(1),
          maxReceiveCount: { ...ones(1), start: 0 },
          logger: silentLogger,
        }),
    ).toThrow(/maxReceiveCount of start/);
  });
});
