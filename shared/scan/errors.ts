// Errors of the scan engine: each says what is wrong and what to do; none carries a credential.
import { InputError, SensorError } from '#shared/errors';

/** A scan or schedule id that does not exist. */
export class ScanNotFoundError extends SensorError {
  constructor(readonly scanId: string) {
    super(`scan ${scanId} not found`);
  }
}

export class ScheduleNotFoundError extends SensorError {
  constructor(readonly scheduleId: string) {
    super(`schedule ${scheduleId} not found`);
  }
}

/** A schedule expression EventBridge Scheduler would not accept (or one we refuse). */
export class InvalidScheduleError extends InputError {}

/** A scan request that cannot run (missing or half-filled credentials, a bad URL, out-of-range settings). */
export class InvalidScanRequestError extends InputError {}

/**
 * Every lease on the Command host is taken: the page task is given back to the queue to try again later
 * (transient: the message is redelivered, nothing is recorded).
 */
export class HostBusyError extends SensorError {
  constructor(
    readonly host: string,
    readonly limit: number,
  ) {
    super(`all ${limit} request slots for Command host ${host} are taken; the page task will be retried`);
  }
}
