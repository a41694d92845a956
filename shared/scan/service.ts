// The scan API over the ports: create (validated, de-duplicated by callbackId), read, list, cancel; schedules.
import { announceFinished } from './finalizer.ts';
import type { ScanDeps } from './deps.ts';
import { InvalidScanRequestError, InvalidScheduleError } from './errors.ts';
import { newScanId, sensorKey } from './keys.ts';
import {
  DEFAULT_AUTO_RESOLUTION_INTERVAL,
  DEFAULT_PAGE_SIZE,
  PRIORITIES,
  ZERO_COUNTS,
  type CommandCredentials,
  type Schedule,
  type ScanRecord,
  type ScanTrigger,
  type SensorDefinition,
} from './model.ts';
import type { CreateScanInput, CreateScheduleInput, ScanApi, ScanListQuery } from './ports.ts';

/** Requests in flight to one Command host across the deployment when the request does not say. */
export const DEFAULT_HOST_CONCURRENCY = 4;
export const MAX_PAGE_SIZE = 10_000;
export const MAX_AUTO_RESOLUTION_INTERVAL = 1000;
export const MAX_LIST_LIMIT = 100;
/** States a cancel may leave; FINALIZING is nearly done and is let finish. */
const CANCELLABLE = ['PENDING', 'PLANNING', 'RUNNING'] as const;

/** Which auth the credentials complete: exactly one of Basic or OAuth2, else an error naming what is missing. */
export function authMethodOf(credentials: CommandCredentials): 'basic' | 'oauth2' | 'kerberos' {
  const basic = [credentials.username, credentials.password];
  const oauth = [credentials.token_url, credentials.client_id, credentials.client_secret];
  const basicGiven = basic.some(Boolean);
  const oauthGiven = oauth.some(Boolean);
  // Kerberos comes only from the remote config, which has already checked it is the one method given.
  if (credentials.kerberos !== undefined) {
    if (basicGiven || oauthGiven)
      throw new InvalidScanRequestError('give exactly one auth method: kerberos, Basic or OAuth2');
    return 'kerberos';
  }
  if (basicGiven && oauthGiven) {
    throw new InvalidScanRequestError(
      'give either username/password (Basic) or token_url/client_id/client_secret (OAuth2), not both',
    );
  }
  if (oauthGiven) {
    const missing = (['token_url', 'client_id', 'client_secret'] as const).filter((k) => !credentials[k]);
    if (missing.length > 0)
      throw new InvalidScanRequestError(`OAuth2 credentials are incomplete: missing ${missing.join(', ')}`);
    return 'oauth2';
  }
  if (basicGiven) {
    const missing = (['username', 'password'] as const).filter((k) => !credentials[k]);
    if (missing.length > 0)
      throw new InvalidScanRequestError(`Basic credentials are incomplete: missing ${missing.join(', ')}`);
    return 'basic';
  }
  throw new InvalidScanRequestError(
    'no Command credentials: give username/password (Basic) or token_url/client_id/client_secret (OAuth2)',
  );
}

/** Checks everything but the credentials' validity against Command; returns the sensor key. QueryError propagates. */
export function validateScanInput(input: CreateScanInput): string {
  if (
    typeof input.sensorName !== 'string' ||
    input.sensorName.trim() === '' ||
    input.sensorName.length > 200
  ) {
    throw new InvalidScanRequestError('sensorName must be 1 to 200 characters');
  }
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new InvalidScanRequestError(
      "url must be an absolute http(s) URL of Command's API, e.g. https://command.example.com/KeyfactorAPI",
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidScanRequestError(`url must use https (or http), not ${url.protocol.replace(':', '')}`);
  }
  if (url.username || url.password) {
    throw new InvalidScanRequestError('url must not carry credentials; give them as username/password');
  }
  if (!(PRIORITIES as readonly string[]).includes(input.priority)) {
    throw new InvalidScanRequestError(`priority must be one of ${PRIORITIES.join(', ')}`);
  }
  if (
    input.callbackId !== null &&
    (typeof input.callbackId !== 'string' || input.callbackId === '' || input.callbackId.length > 256)
  ) {
    throw new InvalidScanRequestError('callbackId must be 1 to 256 characters when given');
  }
  if (
    !Array.isArray(input.labels) ||
    input.labels.some((l) => typeof l?.name !== 'string' || typeof l.value !== 'string' || l.name === '')
  ) {
    throw new InvalidScanRequestError(
      'labels must be a list of { name, value } strings with non-empty names',
    );
  }
  const interval = input.autoResolutionInterval ?? DEFAULT_AUTO_RESOLUTION_INTERVAL;
  if (!Number.isInteger(interval) || interval < 1 || interval > MAX_AUTO_RESOLUTION_INTERVAL) {
    throw new InvalidScanRequestError(
      `autoResolutionInterval must be an integer from 1 to ${MAX_AUTO_RESOLUTION_INTERVAL}`,
    );
  }
  const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new InvalidScanRequestError(`pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  authMethodOf(input.credentials);
  // Parses the filter: an invalid one throws QueryError with the column.
  return sensorKey(input.url, input.queryFilter);
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON_FIELD = /^[0-9A-Za-z*?,\-/#]+$/;

/**
 * EventBridge Scheduler's recurring forms: `rate(N unit)` (N >= 1; unit singular exactly when N is 1) or
 * `cron(minutes hours day-of-month month day-of-week year)` with exactly one of the two day fields `?`.
 */
export function validateScheduleExpression(expression: string): void {
  const text = typeof expression === 'string' ? expression.trim() : '';
  if (text.startsWith('rate(')) {
    const match = RATE.exec(text);
    if (!match) {
      throw new InvalidScheduleError(
        `invalid rate expression "${text}": use rate(N minute|minutes|hour|hours|day|days), e.g. rate(6 hours)`,
      );
    }
    const n = Number(match[1]);
    const unit = match[2]!;
    if (n < 1)
      throw new InvalidScheduleError(`invalid rate expression "${text}": the value must be at least 1`);
    if ((n === 1) !== !unit.endsWith('s')) {
      throw new InvalidScheduleError(
        `invalid rate expression "${text}": EventBridge Scheduler wants the singular unit for 1 and the plural otherwise (rate(1 day), rate(2 days))`,
      );
    }
    return;
  }
  if (text.startsWith('cron(') && text.endsWith(')')) {
    const fields = text.slice(5, -1).trim().split(/\s+/);
    if (fields.length !== 6) {
      throw new InvalidScheduleError(
        `invalid cron expression "${text}": EventBridge Scheduler needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`,
      );
    }
    const bad = fields.find((f) => !CRON_FIELD.test(f));
    if (bad !== undefined)
      throw new InvalidScheduleError(
        `invalid cron expression "${text}": field "${bad}" has unexpected characters`,
      );
    const [, , dayOfMonth, , dayOfWeek] = fields;
    if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
      throw new InvalidScheduleError(
        `invalid cron expression "${text}": exactly one of day-of-month and day-of-week must be "?", e.g. cron(0 2 * * ? *)`,
      );
    }
    return;
  }
  throw new InvalidScheduleError(
    `invalid schedule expression "${text}": use cron(minutes hours day-of-month month day-of-week year) or rate(N unit)`,
  );
}

function validateTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidScheduleError(
      `unknown timezone "${timezone}": use an IANA name such as UTC or Europe/Berlin`,
    );
  }
}

function sensorDefinition(input: CreateScanInput, credentialsRef: string): SensorDefinition {
  return {
    sensorName: input.sensorName.trim(),
    url: input.url.trim(),
    queryFilter: input.queryFilter === null || input.queryFilter.trim() === '' ? null : input.queryFilter,
    authMethod: authMethodOf(input.credentials),
    credentialsRef,
    labels: input.labels.map((l) => ({ name: l.name, value: l.value })),
    priority: input.priority,
    autoResolutionInterval: input.autoResolutionInterval ?? DEFAULT_AUTO_RESOLUTION_INTERVAL,
    pageSize: input.pageSize ?? DEFAULT_PAGE_SIZE,
    hostConcurrency: DEFAULT_HOST_CONCURRENCY,
  };
}

export function createScanApi(deps: ScanDeps): ScanApi {
  const now = () => deps.clock.now();

  /** The one path every scan takes, whether the API, a schedule or the CLI started it. */
  async function startScan(
    scanId: string,
    sensor: SensorDefinition,
    callbackId: string | null,
    trigger: ScanTrigger,
    scheduleId: string | null,
  ): Promise<ScanRecord> {
    const createdAt = now();
    const record: ScanRecord = {
      scanId,
      sensorKey: sensorKey(sensor.url, sensor.queryFilter),
      sensor,
      callbackId,
      trigger,
      scheduleId,
      state: 'PENDING',
      mode: null,
      effectiveQuery: null,
      planMaxCertId: null,
      planMinCertId: null,
      createdAt: createdAt.toISOString(),
      startedAt: null,
      finishedAt: null,
      counts: { ...ZERO_COUNTS },
      errors: [],
      errorCount: 0,
      expiresAt: Math.floor(createdAt.getTime() / 1000) + deps.config.scanRetentionDays * 86_400,
      version: 1,
    };
    await deps.scans.createScan(record);
    await deps.queue.sendStart({ type: 'start', scanId }, sensor.priority);
    deps.logger.info('scan created', {
      scanId,
      trigger,
      sensorName: sensor.sensorName,
      priority: sensor.priority,
    });
    return record;
  }

  return {
    async createScan(input, trigger) {
      validateScanInput(input);
      if (input.callbackId !== null) {
        const since = new Date(now().getTime() - deps.config.callbackDedupSeconds * 1000).toISOString();
        const existing = await deps.scans.findByCallbackId(input.callbackId, since);
        if (existing) {
          // A request whose start message was lost (the send failed after the record was written) is started again.
          if (existing.state === 'PENDING') {
            await deps.queue.sendStart({ type: 'start', scanId: existing.scanId }, existing.sensor.priority);
          }
          return { scan: existing, created: false };
        }
      }
      const scanId = newScanId(now());
      const credentialsRef = await deps.secrets.putCredentials(`scan-${scanId}`, input.credentials);
      try {
        const scan = await startScan(
          scanId,
          sensorDefinition(input, credentialsRef),
          input.callbackId,
          trigger.type,
          trigger.scheduleId ?? null,
        );
        return { scan, created: true };
      } catch (error) {
        // No record (or no start message): nothing will ever use the secret.
        await deps.secrets.deleteCredentials(credentialsRef).catch(() => undefined);
        throw error;
      }
    },

    getScan: (scanId) => deps.scans.getScan(scanId),

    async listScans(query: ScanListQuery) {
      if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_LIST_LIMIT) {
        throw new InvalidScanRequestError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
      }
      return deps.scans.listScans(query);
    },

    async cancelScan(scanId) {
      const cancelled = await deps.scans.transition(scanId, CANCELLABLE, {
        state: 'CANCELLED',
        finishedAt: now().toISOString(),
      });
      if (!cancelled) return deps.scans.getScan(scanId);
      await announceFinished(deps, cancelled);
      return cancelled;
    },

    async createSchedule(input: CreateScheduleInput, createdBy: string) {
      if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 64) {
        throw new InvalidScheduleError('schedule name must be 1 to 64 characters');
      }
      validateScheduleExpression(input.expression);
      const timezone = input.timezone ?? 'UTC';
      validateTimezone(timezone);
      validateScanInput(input.scan);
      const scheduleId = newScanId(now());
      const credentialsRef = await deps.secrets.putCredentials(
        `schedule-${scheduleId}`,
        input.scan.credentials,
      );
      const schedule: Schedule = {
        scheduleId,
        name: input.name.trim(),
        expression: input.expression.trim(),
        timezone,
        sensor: sensorDefinition(input.scan, credentialsRef),
        enabled: true,
        createdAt: now().toISOString(),
        createdBy,
      };
      try {
        await deps.schedules.putSchedule(schedule);
        await deps.scheduler.create(schedule);
      } catch (error) {
        // Leave nothing half-made: no stored schedule without a timer, no orphaned secret.
        await deps.schedules.deleteSchedule(scheduleId).catch(() => false);
        await deps.secrets.deleteCredentials(credentialsRef).catch(() => undefined);
        throw error;
      }
      return schedule;
    },

    listSchedules: () => deps.schedules.listSchedules(),
    getSchedule: (scheduleId) => deps.schedules.getSchedule(scheduleId),

    async deleteSchedule(scheduleId) {
      const schedule = await deps.schedules.getSchedule(scheduleId);
      if (!schedule) return false;
      await deps.scheduler.delete(scheduleId);
      await deps.schedules.deleteSchedule(scheduleId);
      await deps.secrets.deleteCredentials(schedule.sensor.credentialsRef);
      return true;
    },

    async startScheduledScan(scheduleId) {
      const schedule = await deps.schedules.getSchedule(scheduleId);
      if (!schedule || !schedule.enabled) {
        deps.logger.warn('scheduled start for a missing or disabled schedule', { scheduleId });
        return null;
      }
      return startScan(newScanId(now()), schedule.sensor, null, 'schedule', scheduleId);
    },
  };
}
