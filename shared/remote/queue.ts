// The remote CLI's WorkQueue: the SQS queues of the cloud as in-process stages (start, page-high, page-normal,
// export), each with its own concurrency bound, redelivery of a message whose handler threw, and SQS receive counts,
// so the core's "last attempt" logic (processPageTask, exportBatch) behaves exactly as it does on Lambda.
import type { Logger } from '#shared/logging';
import type { Priority } from '#shared/scan/model';
import type { ExportMessage, PageMessage, StartMessage, WorkQueue } from '#shared/scan/ports';

export const STAGES = ['start', 'page-high', 'page-normal', 'export'] as const;
export type Stage = (typeof STAGES)[number];

type MessageOf<S extends Stage> = S extends 'start'
  ? StartMessage
  : S extends 'export'
    ? ExportMessage
    : PageMessage;

export interface Delivery<M> {
  message: M;
  /** SQS ApproximateReceiveCount: 1 on the first delivery, +1 on each redelivery. */
  receiveCount: number;
}

export type StageHandler<M> = (delivery: Delivery<M>) => Promise<void>;

export interface StageHandlers {
  start: StageHandler<StartMessage>;
  page: StageHandler<PageMessage>;
  export: StageHandler<ExportMessage>;
}

export interface DeadLetter {
  stage: Stage;
  message: StartMessage | PageMessage | ExportMessage;
  receiveCount: number;
  error: string;
}

export interface InProcessQueueOptions {
  /** Messages handled at once per stage. */
  concurrency: Record<Stage, number>;
  /** Deliveries before a message goes to the dead letters (SQS maxReceiveCount). */
  maxReceiveCount: Record<Stage, number>;
  /** Wait before a failed message is delivered again (the visibility timeout); default 200 ms × receive count. */
  retryDelayMs?: (stage: Stage, receiveCount: number, error: unknown) => number;
  logger: Logger;
  /** Called on every send, before the message can be delivered (the export journal hooks in here). */
  onSend?: (stage: Stage, messages: readonly (StartMessage | PageMessage | ExportMessage)[]) => void;
  /** Called when a message leaves the queue: handled ('done'), or moved to the dead letters ('dead'). */
  onSettled?: (
    stage: Stage,
    message: StartMessage | PageMessage | ExportMessage,
    how: 'done' | 'dead',
  ) => void;
}

interface Item<M> {
  message: M;
  receiveCount: number;
}

export function pageStageFor(priority: Priority): 'page-high' | 'page-normal' {
  return priority === 'high' ? 'page-high' : 'page-normal';
}

export class InProcessWorkQueue implements WorkQueue {
  readonly deadLetters: DeadLetter[] = [];
  /** Messages ever sent per stage (tests and progress read it). */
  readonly sent: Record<Stage, number> = { start: 0, 'page-high': 0, 'page-normal': 0, export: 0 };
  readonly #ready: { [S in Stage]: Item<MessageOf<S>>[] } = {
    start: [],
    'page-high': [],
    'page-normal': [],
    export: [],
  };
  readonly #running: Record<Stage, number> = { start: 0, 'page-high': 0, 'page-normal': 0, export: 0 };
  /** Failed messages waiting out their retry delay. */
  readonly #delayed = new Set<NodeJS.Timeout>();
  #handlers: StageHandlers | null = null;
  #stopped = false;
  #idleWaiters: Array<() => void> = [];

  constructor(private readonly options: InProcessQueueOptions) {
    for (const stage of STAGES) {
      const n = options.concurrency[stage];
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`concurrency of ${stage} must be at least 1`);
      const max = options.maxReceiveCount[stage];
      if (!Number.isInteger(max) || max < 1)
        throw new RangeError(`maxReceiveCount of ${stage} must be at least 1`);
    }
  }

  /** Wires the stage handlers; messages sent before this wait in their queues. */
  setHandlers(handlers: StageHandlers): void {
    this.#handlers = handlers;
    for (const stage of STAGES) this.#pump(stage);
  }

  async sendStart(message: StartMessage, priority: Priority): Promise<void> {
    void priority; // one start stage for every priority: planning is short
    this.#enqueue('start', [message]);
    await Promise.resolve();
  }

  async sendPages(messages: readonly PageMessage[], priority: Priority): Promise<void> {
    this.#enqueue(pageStageFor(priority), messages);
    await Promise.resolve();
  }

  async sendExports(messages: readonly ExportMessage[]): Promise<void> {
    this.#enqueue('export', messages);
    await Promise.resolve();
  }

  /** Stops handing out messages (stages: all, or the ones given); handlers already running finish. */
  stop(stages: readonly Stage[] = STAGES): void {
    if (stages.length === STAGES.length) this.#stopped = true;
    for (const stage of stages) this.#stoppedStages.add(stage);
    this.#checkIdle();
  }

  readonly #stoppedStages = new Set<Stage>();

  /** Messages waiting (ready or delayed) in a stage, or in all stages. */
  pending(stage?: Stage): number {
    if (stage) return this.#ready[stage].length;
    return STAGES.reduce((sum, s) => sum + this.#ready[s].length, 0) + this.#delayed.size;
  }

  inFlight(): number {
    return STAGES.reduce((sum, s) => sum + this.#running[s], 0);
  }

  /**
   * Resolves when nothing is running and nothing can run: every queue empty and no retry waiting, or (after stop())
   * every running handler finished. Messages left behind by stop() stay in pending().
   */
  drain(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#checkIdle();
    });
  }

  #isIdle(): boolean {
    if (this.inFlight() > 0) return false;
    if (this.#stopped) return true;
    return (
      STAGES.every((s) => this.#stoppedStages.has(s) || this.#ready[s].length === 0) && this.#delayedIdle()
    );
  }

  #delayedIdle(): boolean {
    return this.#delayed.size === 0;
  }

  #checkIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #enqueue<S extends Stage>(stage: S, messages: readonly MessageOf<S>[]): void {
    if (messages.length === 0) return;
    const copies = messages.map((m) => structuredClone(m));
    this.options.onSend?.(stage, copies);
    for (const message of copies) this.#ready[stage].push({ message, receiveCount: 0 });
    this.sent[stage] += copies.length;
    this.#pump(stage);
  }

  #pump(stage: Stage): void {
    const handlers = this.#handlers;
    if (!handlers) return;
    const limit = this.options.concurrency[stage];
    while (!this.#stopped && !this.#stoppedStages.has(stage) && this.#running[stage] < limit) {
      const item = this.#ready[stage].shift();
      if (!item) break;
      item.receiveCount += 1;
      this.#running[stage] += 1;
      void this.#deliver(stage, item, handlers);
    }
    this.#checkIdle();
  }

  async #deliver(stage: Stage, item: Item<MessageOf<Stage>>, handlers: StageHandlers): Promise<void> {
    const delivery = { message: item.message, receiveCount: item.receiveCount };
    try {
      if (stage === 'start') await handlers.start(delivery as Delivery<StartMessage>);
      else if (stage === 'export') await handlers.export(delivery as Delivery<ExportMessage>);
      else await handlers.page(delivery as Delivery<PageMessage>);
      this.options.onSettled?.(stage, item.message, 'done');
    } catch (error) {
      this.#failed(stage, item, error);
    } finally {
      this.#running[stage] -= 1;
      this.#pump(stage);
    }
  }

  #failed(stage: Stage, item: Item<MessageOf<Stage>>, error: unknown): void {
    const text = error instanceof Error ? error.message : String(error);
    if (item.receiveCount >= this.options.maxReceiveCount[stage]) {
      // As SQS's redrive policy: the message leaves the queue; the core has already recorded the failure.
      this.deadLetters.push({ stage, message: item.message, receiveCount: item.receiveCount, error: text });
      this.options.onSettled?.(stage, item.message, 'dead');
      this.options.logger.warn('message failed its last delivery; moved to the dead letters', {
        stage,
        receiveCount: item.receiveCount,
        error: text,
      });
      return;
    }
    if (this.#stopped || this.#stoppedStages.has(stage)) {
      // Not retried after stop(): it stays pending (the export journal keeps export messages for the next run).
      (this.#ready[stage] as Item<MessageOf<Stage>>[]).push(item);
      return;
    }
    const delay =
      this.options.retryDelayMs?.(stage, item.receiveCount, error) ?? Math.min(5000, 200 * item.receiveCount);
    const timer = setTimeout(() => {
      this.#delayed.delete(timer);
      (this.#ready[stage] as Item<MessageOf<Stage>>[]).push(item);
      this.#pump(stage);
    }, delay);
    this.#delayed.add(timer);
  }

  /** Drops waiting retries so no timer keeps the process up at shutdown (export messages stay in the journal). */
  clearTimers(): void {
    for (const timer of this.#delayed) clearTimeout(timer);
    this.#delayed.clear();
    this.#checkIdle();
  }
}
