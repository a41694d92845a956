// In-process WorkQueue: messages kept per queue (start, page-high, page-normal, export) for a driver to drain.
import type { ExportMessage, PageMessage, StartMessage, WorkQueue } from '#shared/scan/ports';
import type { Priority } from '#shared/scan/model';

export type MemoryQueueName = 'start' | 'page-high' | 'page-normal' | 'export';

export interface QueuedMessage<M> {
  message: M;
  /** How often the message has been handed out (SQS ApproximateReceiveCount after receipt). */
  receiveCount: number;
}

/** Page tasks of 'high' scans get their own queue (as in the cloud); 'normal' and 'low' share the other. */
export function pageQueueFor(priority: Priority): 'page-high' | 'page-normal' {
  return priority === 'high' ? 'page-high' : 'page-normal';
}

export class MemoryWorkQueue implements WorkQueue {
  readonly queues: {
    start: QueuedMessage<StartMessage>[];
    'page-high': QueuedMessage<PageMessage>[];
    'page-normal': QueuedMessage<PageMessage>[];
    export: QueuedMessage<ExportMessage>[];
  } = { start: [], 'page-high': [], 'page-normal': [], export: [] };

  /** Every message ever sent, per queue, in order (what tests assert on after draining). */
  readonly sent: { [K in MemoryQueueName]: number } = {
    start: 0,
    'page-high': 0,
    'page-normal': 0,
    export: 0,
  };

  async sendStart(message: StartMessage, priority: Priority): Promise<void> {
    await Promise.resolve();
    // The start message carries no priority of its own: planning is short, so one start queue serves all.
    void priority;
    this.push('start', structuredClone(message));
  }

  async sendPages(messages: readonly PageMessage[], priority: Priority): Promise<void> {
    await Promise.resolve();
    const queue = pageQueueFor(priority);
    for (const message of messages) this.push(queue, structuredClone(message));
  }

  async sendExports(messages: readonly ExportMessage[]): Promise<void> {
    await Promise.resolve();
    for (const message of messages) this.push('export', structuredClone(message));
  }

  /** Takes the oldest message of a queue, counting the receipt; undefined when the queue is empty. */
  receive<K extends MemoryQueueName>(queue: K): (typeof this.queues)[K][number] | undefined {
    const item = this.queues[queue].shift();
    if (item) item.receiveCount += 1;
    return item;
  }

  /** Puts a received message back at the end (a failed attempt whose visibility timeout ran out). */
  requeue<K extends MemoryQueueName>(queue: K, item: (typeof this.queues)[K][number]): void {
    (this.queues[queue] as (typeof item)[]).push(item);
  }

  /** Removes and returns every message of a queue. */
  drain<K extends MemoryQueueName>(queue: K): (typeof this.queues)[K] {
    const items = this.queues[queue];
    this.queues[queue] = [] as never;
    return items;
  }

  size(queue?: MemoryQueueName): number {
    if (queue) return this.queues[queue].length;
    return Object.values(this.queues).reduce((sum, q) => sum + q.length, 0);
  }

  private push<K extends MemoryQueueName>(
    queue: K,
    message: (typeof this.queues)[K][number]['message'],
  ): void {
    (this.queues[queue] as QueuedMessage<typeof message>[]).push({ message, receiveCount: 0 });
    this.sent[queue] += 1;
  }
}
