// EventBridge publishers on the sensor's bus: scan lifecycle events (ScanStarted, ScanFinished with the callbackId)
// and licensing alerts (LicenseAlert).
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SensorError } from '#shared/errors';
import type { Alert } from '#shared/license/model';
import type { AlertPublisher } from '#shared/license/ports';
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
    await putEvent(this.client, this.busName, this.source, detailType, detail);
  }
}

/** One PutEvents entry; a refused entry (FailedEntryCount > 0) becomes EventPublishError naming the bus. */
async function putEvent(
  client: EventBridgeClient,
  busName: string,
  source: string,
  detailType: string,
  detail: unknown,
): Promise<void> {
  const result = await client.send(
    new PutEventsCommand({
      Entries: [
        { EventBusName: busName, Source: source, DetailType: detailType, Detail: JSON.stringify(detail) },
      ],
    }),
  );
  if ((result.FailedEntryCount ?? 0) > 0) {
    const entry = result.Entries?.find((e) => e.ErrorCode);
    throw new EventPublishError(
      `EventBridge refused ${detailType} on bus ${busName}: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim(),
    );
  }
}

/** Detail type of licensing alerts (expiry, expired, actioned certificates over the allowance). */
export const LICENSE_ALERT_DETAIL_TYPE = 'LicenseAlert';

/** Publishes each new licensing alert as a `LicenseAlert` event whose detail is the alert itself. */
export class EventBridgeAlertPublisher implements AlertPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly source: string = EVENT_SOURCE,
  ) {}

  async publishAlert(alert: Alert): Promise<void> {
    await putEvent(this.client, this.busName, this.source, LICENSE_ALERT_DETAIL_TYPE, alert);
  }
}
