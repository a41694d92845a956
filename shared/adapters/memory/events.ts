// In-memory EventPublisher: records what would go to EventBridge.
import type { EventPublisher } from '#shared/scan/ports';

export interface RecordedEvent {
  detailType: 'ScanFinished' | 'ScanStarted';
  detail: Record<string, unknown>;
}

export class MemoryEventPublisher implements EventPublisher {
  readonly events: RecordedEvent[] = [];

  async publish(detailType: RecordedEvent['detailType'], detail: Record<string, unknown>): Promise<void> {
    await Promise.resolve();
    this.events.push({ detailType, detail: structuredClone(detail) });
  }

  ofType(detailType: RecordedEvent['detailType']): RecordedEvent[] {
    return this.events.filter((e) => e.detailType === detailType);
  }
}
