// EventBridge publisher: scan lifecycle events (ScanStarted, ScanFinished with the callbackId) on the sensor's bus.
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SensorError } from '#shared/errors';
import type { EventPublisher } from '#shared/scan/ports';

/** The `source` of every event the sensor publishes; rules match on it. */
export const EVENT_SOURCE = 'keyfactor-command-sensor';

/** EventBridge refused the event (FailedEntryCount > 0); PutEvents does not throw for that by itself. */
export class EventPublishError extends SensorError {}

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly source: string = EVENT_SOURCE,
  ) {}

  async publish(detailType: 'ScanFinished' | 'ScanStarted', detail: Record<string, unknown>): Promise<void> {
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: this.source,
            DetailType: detailType,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    if ((result.FailedEntryCount ?? 0) > 0) {
      const entry = result.Entries?.find((e) => e.ErrorCode);
      throw new EventPublishError(
        `EventBridge refused ${detailType} on bus ${this.busName}: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim(),
      );
    }
  }
}
