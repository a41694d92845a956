// In-memory licensing stores (shared/license/ports.ts): the local/CLI runtime and the licensing tests. Each method is
// synchronous inside, so raise()'s check-and-write is atomic like the DynamoDB adapter's conditional write. Records
// are cloned in and out. The validation and ordering helpers are shared with the DynamoDB adapter so both agree.
import { gzipSync } from 'node:zlib';
import { InputError, SensorError } from '#shared/errors';
import type { ActionedRun, Alert, CommandContextSnapshot, InstalledLicense } from '#shared/license/model';
import type {
  ActionedRunStore,
  AlertPublisher,
  AlertStore,
  CommandContextStore,
  InstanceKeySource,
  LicenseStore,
} from '#shared/license/ports';
import { parseInstanceKeyPair } from '#shared/license/usage-log';
import type { InstanceKeyPair } from '#shared/license/usage-log';

const clone = <T>(value: T): T => structuredClone(value);

/** Largest `limit` a list accepts: the API pages far below this; a bigger number is a caller bug. */
export const MAX_LIST_LIMIT = 1000;

export function assertLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    throw new InputError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT} (got ${String(limit)})`);
}

function instant(value: unknown, what: string): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
    throw new InputError(`${what} must be an ISO 8601 instant (got ${JSON.stringify(value)})`);
  // Normalised so '…:00Z' and '…:00.000Z' sort as the same instant.
  return new Date(value).toISOString();
}

function nonEmpty(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.trim() === '')
    throw new InputError(`${what} must be a non-empty string`);
}

/**
 * Newest-first sort key shared by both adapters (the DynamoDB sort key): the normalised instant, then the id, so
 * equal instants still have one order.
 */
export function orderKey(at: string, id: string): string {
  return `${instant(at, 'timestamp')}#${id}`;
}

export function runOrderKey(run: ActionedRun): string {
  nonEmpty(run.runId, 'run.runId');
  instant(run.startedAt, 'run.startedAt');
  instant(run.finishedAt, 'run.finishedAt');
  return orderKey(run.startedAt, run.runId);
}

export function alertOrderKey(alert: Alert): string {
  nonEmpty(alert.alertId, 'alert.alertId');
  nonEmpty(alert.message, 'alert.message');
  instant(alert.createdAt, 'alert.createdAt');
  return orderKey(alert.createdAt, alert.alertId);
}

export function assertInstalledLicense(license: InstalledLicense): void {
  nonEmpty(license.text, 'license.text');
  instant(license.installedAt, 'license.installedAt');
}

export function assertContext(snapshot: CommandContextSnapshot): void {
  nonEmpty(snapshot.sensorKey, 'snapshot.sensorKey');
  instant(snapshot.capturedAt, 'snapshot.capturedAt');
}

/** Largest compressed context snapshot stored: a DynamoDB item is at most 400 KB and the keys need room. */
export const CONTEXT_MAX_GZIP_BYTES = 350 * 1024;

/** A context snapshot is too large for one DynamoDB item even compressed (both adapters refuse it). */
export class ContextTooLargeError extends SensorError {}

/** Compresses a snapshot for its item, refusing one that cannot fit (both adapters store the same snapshots). */
export function compressContext(snapshot: CommandContextSnapshot): Buffer {
  const body = gzipSync(JSON.stringify(snapshot));
  if (body.byteLength > CONTEXT_MAX_GZIP_BYTES)
    throw new ContextTooLargeError(
      `Command context of sensor ${snapshot.sensorKey} is ${body.byteLength} bytes compressed; at most ` +
        `${CONTEXT_MAX_GZIP_BYTES} fit a DynamoDB item (too many or too large collections)`,
    );
  return body;
}

const newestFirst = <T>(entries: Iterable<[string, T]>, limit: number): T[] =>
  [...entries]
    .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
    .slice(0, limit)
    .map(([, value]) => clone(value));

export class MemoryLicenseStore implements LicenseStore {
  private installed: InstalledLicense | null = null;

  async getInstalled(): Promise<InstalledLicense | null> {
    await Promise.resolve();
    return this.installed === null ? null : clone(this.installed);
  }

  async putInstalled(license: InstalledLicense): Promise<void> {
    await Promise.resolve();
    assertInstalledLicense(license);
    this.installed = clone(license);
  }
}

export class MemoryActionedRunStore implements ActionedRunStore {
  private readonly runs = new Map<string, ActionedRun>();

  async putRun(run: ActionedRun): Promise<void> {
    await Promise.resolve();
    this.runs.set(runOrderKey(run), clone(run));
  }

  async listRuns(limit: number): Promise<ActionedRun[]> {
    await Promise.resolve();
    assertLimit(limit);
    return newestFirst(this.runs, limit);
  }
}

export class MemoryAlertStore implements AlertStore {
  /** By alertId (uniqueness) with the order key kept alongside. */
  private readonly alerts = new Map<string, { order: string; alert: Alert }>();

  async raise(alert: Alert): Promise<boolean> {
    await Promise.resolve();
    const order = alertOrderKey(alert);
    if (this.alerts.has(alert.alertId)) return false;
    this.alerts.set(alert.alertId, { order, alert: clone(alert) });
    return true;
  }

  async list(limit: number): Promise<Alert[]> {
    await Promise.resolve();
    assertLimit(limit);
    return newestFirst(
      [...this.alerts.values()].map(({ order, alert }) => [order, alert] as [string, Alert]),
      limit,
    );
  }
}

export class MemoryCommandContextStore implements CommandContextStore {
  private readonly contexts = new Map<string, CommandContextSnapshot>();

  async putContext(snapshot: CommandContextSnapshot): Promise<void> {
    await Promise.resolve();
    assertContext(snapshot);
    // Same limit as DynamoDB so a snapshot that fits locally also fits in the cloud.
    compressContext(snapshot);
    this.contexts.set(snapshot.sensorKey, clone(snapshot));
  }

  /** Ordered by sensor key (both adapters), so a count's warnings come out in a stable order. */
  async listContexts(): Promise<CommandContextSnapshot[]> {
    await Promise.resolve();
    return [...this.contexts.values()]
      .sort((a, b) => (a.sensorKey < b.sensorKey ? -1 : a.sensorKey > b.sensorKey ? 1 : 0))
      .map(clone);
  }
}

/** Records what would go to EventBridge. */
export class MemoryAlertPublisher implements AlertPublisher {
  readonly published: Alert[] = [];

  async publishAlert(alert: Alert): Promise<void> {
    await Promise.resolve();
    this.published.push(clone(alert));
  }
}

/** A fixed key pair (tests; a caller that already holds the key). Validated once, at construction. */
export class StaticInstanceKey implements InstanceKeySource {
  private readonly keyPair: InstanceKeyPair;

  constructor(keyPair: InstanceKeyPair) {
    this.keyPair = parseInstanceKeyPair(keyPair, 'StaticInstanceKey');
  }

  async getKeyPair(): Promise<InstanceKeyPair> {
    await Promise.resolve();
    return { ...this.keyPair };
  }
}

/** The four licensing stores together, as both adapters' factories return them. */
export interface LicenseStores {
  licenses: LicenseStore;
  runs: ActionedRunStore;
  alerts: AlertStore;
  contexts: CommandContextStore;
}

export function createMemoryLicenseStores(): LicenseStores {
  return {
    licenses: new MemoryLicenseStore(),
    runs: new MemoryActionedRunStore(),
    alerts: new MemoryAlertStore(),
    contexts: new MemoryCommandContextStore(),
  };
}
