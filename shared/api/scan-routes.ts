// Scan and schedule routes (/v3/scan/create, /v3/scans, /v3/schedules) over the scan core's ScanApi.
import {
  ConflictError,
  NotFoundError,
  RequestValidationError,
  type HttpError,
  type Issue,
} from '#shared/http/errors';
import { defineRoute, type Route } from '#shared/http/router';
import type { LicenseFeature } from '#shared/license/model';
import { QueryError } from '#shared/query/index';
import { TERMINAL_STATES, type ScanState } from '#shared/scan/model';
import type { ScanApi } from '#shared/scan/ports';
import {
  InvalidScanRequestError,
  InvalidScheduleError,
  ScanNotFoundError,
  ScheduleNotFoundError,
} from '#shared/scan/errors';
import {
  CreatedScanSchema,
  CreateScanRequestSchema,
  CreateScheduleRequestSchema,
  ListScansQuerySchema,
  ScanIdParamsSchema,
  ScanPageSchema,
  ScanSchema,
  ScheduleIdParamsSchema,
  ScheduleListSchema,
  ScheduleSchema,
  scanView,
  scheduleView,
  toCreateScanInput,
  toCreateScheduleInput,
} from './scan-schemas.ts';

const DEFAULT_LIST_LIMIT = 25;

/** Maps the scan core's errors to HTTP; their messages name no credential. Everything else is a 500. */
export function classifyScanError(error: unknown): HttpError | undefined {
  // The schemas check everything the core does and more; these are a second line for a request they let through.
  if (
    error instanceof InvalidScheduleError ||
    error instanceof InvalidScanRequestError ||
    error instanceof QueryError
  ) {
    return new RequestValidationError(`invalid request: ${error.message}`, [
      { path: '', message: error.message },
    ]);
  }
  if (error instanceof ScanNotFoundError) return new NotFoundError(`scan not found: ${error.scanId}`);
  if (error instanceof ScheduleNotFoundError)
    return new NotFoundError(`schedule not found: ${error.scheduleId}`);
  return undefined;
}

/** Issues shown in one 400; a body with thousands of unknown keys gets the first ones and a count. */
const MAX_ISSUES = 50;
const MAX_PATH_LENGTH = 120;

/**
 * A path as shown: an unknown key is the caller's text, so control characters are replaced and its length bounded
 * (a 60 KB key name must not become a 60 KB message or log line).
 */
function shownPath(path: string): string {
  // eslint-disable-next-line no-control-regex -- replacing control characters is the point
  const clean = path.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return clean.length <= MAX_PATH_LENGTH ? clean : `${clean.slice(0, MAX_PATH_LENGTH)}…`;
}

function summary(issues: readonly Issue[], total: number): string {
  const [first] = issues;
  if (!first) return 'invalid request';
  const where = first.path === '' ? '' : `${first.path}: `;
  const more = total > 1 ? ` (and ${total - 1} more)` : '';
  return `invalid request: ${where}${first.message}${more}`;
}

/**
 * Puts the first issue in the 400's message (`invalid request: sensorConfig.query_filter: column 12: ...`), so a
 * caller that shows only the message still learns what to fix. Issues never quote submitted values.
 */
function withIssueSummary(route: Route): Route {
  return {
    ...route,
    async invoke(input) {
      try {
        return await route.invoke(input);
      } catch (error) {
        if (error instanceof RequestValidationError && error.extra.issues) {
          const all = error.extra.issues;
          const shown = all
            .slice(0, MAX_ISSUES)
            .map((i) => ({ path: shownPath(i.path), message: i.message }));
          throw new RequestValidationError(summary(shown, all.length), shown);
        }
        throw error;
      }
    },
  };
}

function notCancellable(scanId: string, state: ScanState): ConflictError {
  return TERMINAL_STATES.includes(state)
    ? new ConflictError(`scan ${scanId} has already finished (${state})`)
    : new ConflictError(`scan ${scanId} is ${state} and can no longer be cancelled`);
}

const SCAN_TAGS = ['Scans'];
const SCHEDULE_TAGS = ['Schedules'];

/**
 * The scan and schedule routes, bound to a ScanApi. With `licensed`, each declares the license feature it needs
 * (scans: api-scans, schedules: scheduled-scans), which the router checks through its featureGate.
 */
export function createScanRoutes(scans: ScanApi, options: { licensed?: boolean } = {}): Route[] {
  const routes: Route[] = [
    defineRoute({
      method: 'POST',
      path: '/v3/scan/create',
      operationId: 'createScan',
      summary: 'Start a scan of Keyfactor Command',
      description:
        'Validates the request (the query filter is parsed; exactly one authentication method must be complete), ' +
        'stores the credentials in the secret store and queues the scan. The response never shows a credential. ' +
        'A `callbackId` repeated within the de-duplication window returns the existing scan with `duplicate: true` ' +
        'and status 200 instead of starting a second one.',
      tags: SCAN_TAGS,
      permission: 'scans:create',
      body: CreateScanRequestSchema,
      responses: {
        201: { description: 'Queued; `Location` is the scan.', schema: CreatedScanSchema },
        200: {
          description: 'A scan with this callbackId already exists; it is returned.',
          schema: CreatedScanSchema,
        },
      },
      handle: async ({ body }) => {
        const { scan, created } = await scans.createScan(toCreateScanInput(body), { type: 'api' });
        return {
          status: created ? 201 : 200,
          body: { ...scanView(scan), duplicate: !created },
          headers: { location: `/v3/scans/${encodeURIComponent(scan.scanId)}` },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v3/scans',
      operationId: 'listScans',
      summary: 'List scans, newest first',
      tags: SCAN_TAGS,
      permission: 'scans:read',
      query: ListScansQuerySchema,
      responses: { 200: { description: 'A page of scans.', schema: ScanPageSchema } },
      handle: async ({ query }) => {
        const page = await scans.listScans({
          limit: query.limit ?? DEFAULT_LIST_LIMIT,
          ...(query.state !== undefined ? { state: query.state } : {}),
          ...(query.sensorName !== undefined ? { sensorName: query.sensorName } : {}),
          ...(query.nextToken !== undefined ? { nextToken: query.nextToken } : {}),
        });
        return { status: 200, body: { items: page.items.map(scanView), nextToken: page.nextToken } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v3/scans/{scanId}',
      operationId: 'getScan',
      summary: 'Get a scan: state, mode, timing, counts and errors',
      tags: SCAN_TAGS,
      permission: 'scans:read',
      params: ScanIdParamsSchema,
      responses: {
        200: { description: 'The scan.', schema: ScanSchema },
        404: { description: 'No such scan.' },
      },
      handle: async ({ params }) => {
        const scan = await scans.getScan(params.scanId);
        if (!scan) throw new NotFoundError(`scan not found: ${params.scanId}`);
        return { status: 200, body: scanView(scan) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v3/scans/{scanId}/cancel',
      operationId: 'cancelScan',
      summary: 'Cancel a scan',
      description:
        'Pending page tasks are skipped; work already done stays recorded. The cursor does not advance.',
      tags: SCAN_TAGS,
      permission: 'scans:cancel',
      params: ScanIdParamsSchema,
      responses: {
        200: { description: 'The cancelled scan.', schema: ScanSchema },
        404: { description: 'No such scan.' },
        409: {
          description:
            'The scan has already finished (COMPLETED, PARTIAL, FAILED or CANCELLED) or is FINALIZING, which is let finish.',
        },
      },
      handle: async ({ params }) => {
        const before = await scans.getScan(params.scanId);
        if (!before) throw new NotFoundError(`scan not found: ${params.scanId}`);
        if (TERMINAL_STATES.includes(before.state)) throw notCancellable(before.scanId, before.state);
        const after = await scans.cancelScan(params.scanId);
        if (!after) throw new NotFoundError(`scan not found: ${params.scanId}`);
        // It may have moved on between the read and the cancel (or be FINALIZING, which is let finish).
        if (after.state !== 'CANCELLED') throw notCancellable(after.scanId, after.state);
        return { status: 200, body: scanView(after) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v3/schedules',
      operationId: 'createSchedule',
      summary: 'Create a schedule that starts scans',
      description:
        'Stores the scan definition (credentials in the secret store) and creates an EventBridge Scheduler ' +
        'schedule; each run starts a scan the same way `POST /v3/scan/create` does.',
      tags: SCHEDULE_TAGS,
      permission: 'schedules:write',
      body: CreateScheduleRequestSchema,
      responses: { 201: { description: 'Created; `Location` is the schedule.', schema: ScheduleSchema } },
      handle: async ({ body, caller }) => {
        const schedule = await scans.createSchedule(toCreateScheduleInput(body), caller.keyId);
        return {
          status: 201,
          body: scheduleView(schedule),
          headers: { location: `/v3/schedules/${encodeURIComponent(schedule.scheduleId)}` },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v3/schedules',
      operationId: 'listSchedules',
      summary: 'List schedules',
      tags: SCHEDULE_TAGS,
      permission: 'schedules:read',
      responses: { 200: { description: 'Every schedule.', schema: ScheduleListSchema } },
      handle: async () => ({ status: 200, body: { items: (await scans.listSchedules()).map(scheduleView) } }),
    }),
    defineRoute({
      method: 'GET',
      path: '/v3/schedules/{scheduleId}',
      operationId: 'getSchedule',
      summary: 'Get a schedule',
      tags: SCHEDULE_TAGS,
      permission: 'schedules:read',
      params: ScheduleIdParamsSchema,
      responses: {
        200: { description: 'The schedule.', schema: ScheduleSchema },
        404: { description: 'No such schedule.' },
      },
      handle: async ({ params }) => {
        const schedule = await scans.getSchedule(params.scheduleId);
        if (!schedule) throw new NotFoundError(`schedule not found: ${params.scheduleId}`);
        return { status: 200, body: scheduleView(schedule) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v3/schedules/{scheduleId}',
      operationId: 'deleteSchedule',
      summary: 'Delete a schedule',
      description:
        'Removes the timer and the stored definition (and its credentials); running scans continue.',
      tags: SCHEDULE_TAGS,
      permission: 'schedules:write',
      params: ScheduleIdParamsSchema,
      responses: {
        204: { description: 'Deleted.' },
        404: { description: 'No such schedule.' },
      },
      handle: async ({ params }) => {
        if (!(await scans.deleteSchedule(params.scheduleId))) {
          throw new NotFoundError(`schedule not found: ${params.scheduleId}`);
        }
        return { status: 204, body: undefined };
      },
    }),
  ];
  return routes.map((route) => withIssueSummary(options.licensed ? withFeature(route) : route));
}

/** The feature a scan or schedule route needs under a license. */
function withFeature(route: Route): Route {
  const feature: LicenseFeature = route.path.startsWith('/v3/schedules') ? 'scheduled-scans' : 'api-scans';
  return { ...route, feature };
}
