// The /_simulator/ control API: request log, faults and inventory changes for a simulator running in another process.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { InputError } from '#shared/errors';
import { StoreLocationSchema } from '#shared/keyfactor/model';
import type { FaultInjector, FaultRule } from './faults';
import { NewCertificateSchema, UnknownCertificateError, type SimulatorInventory } from './inventory';
import type { RequestLog } from './request-log';
import { emptyResponse, errorResponse, type ApiResponse } from './responses';

export const ADMIN_PREFIX = '/_simulator';
export const ADMIN_TOKEN_HEADER = 'x-simulator-admin-token';

/** Admin bodies can carry many certificates; anything bigger is a mistake, not a test. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

const PathPatternSchema = z.union([
  z.string(),
  z.strictObject({
    regex: z.string(),
    flags: z
      .string()
      .regex(/^[imsu]*$/)
      .optional(),
  }),
]);

const FaultActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('latency'), ms: z.number().int().nonnegative().max(600_000) }),
  z.strictObject({
    type: z.literal('status'),
    status: z.number().int().min(100).max(599),
    retryAfter: z.union([z.number().nonnegative(), z.string()]).optional(),
    body: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('reset') }),
  z.strictObject({ type: z.literal('truncated'), declaredLength: z.boolean().optional() }),
  z.strictObject({
    type: z.literal('malformed'),
    variant: z.enum(['not-json', 'html', 'wrong-shape']).optional(),
  }),
]);

/** A fault rule as JSON: RegExp paths as {regex, flags}, unlimited times as "Infinity"; no 'mutate' (code). */
export const FaultRuleBodySchema = z.strictObject({
  name: z.string().optional(),
  match: z
    .strictObject({
      path: PathPatternSchema.optional(),
      method: z.string().optional(),
      page: z.number().int().positive().optional(),
      every: z.number().int().positive().optional(),
      probability: z.number().min(0).max(1).optional(),
    })
    .optional(),
  times: z.union([z.number().int().positive(), z.literal('Infinity')]).optional(),
  action: FaultActionSchema,
});

const FaultRulesBodySchema = z.union([FaultRuleBodySchema, z.array(FaultRuleBodySchema)]);

/** Certificates to import: Id and ImportDate are assigned by the inventory, so they may be left out. */
const NewCertificatesBodySchema = z.array(NewCertificateSchema);

const RevokeBodySchema = z.strictObject({
  date: z.iso.datetime({ offset: true }).optional(),
  reason: z.number().int().optional(),
  comment: z.string().nullable().optional(),
});

const MetadataPatchSchema = z.record(z.string(), z.string().nullable());

const LocationsBodySchema = z.array(StoreLocationSchema);

export function faultRuleFromBody(body: z.infer<typeof FaultRuleBodySchema>): FaultRule {
  const path = body.match?.path;
  const match = body.match
    ? {
        ...body.match,
        path: path === undefined || typeof path === 'string' ? path : new RegExp(path.regex, path.flags),
      }
    : undefined;
  return {
    ...(body.name === undefined ? {} : { name: body.name }),
    ...(match === undefined ? {} : { match }),
    times: body.times === 'Infinity' ? Number.POSITIVE_INFINITY : (body.times ?? 1),
    action: body.action,
  };
}

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new InputError(`request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new InputError('request body is empty; expected JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputError(`request body is not valid JSON: ${(error as Error).message}`);
  }
}

function parseBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new InputError(`invalid body: ${z.prettifyError(result.error)}`);
  return result.data;
}

function json(status: number, value: unknown): ApiResponse {
  return { status, headers: {}, body: JSON.stringify(value), kind: 'object' };
}

export interface AdminDependencies {
  token: string;
  inventory: SimulatorInventory;
  faults: FaultInjector;
  requestLog: RequestLog;
  stats: () => unknown;
}

/** Serves one request under /_simulator/. `path` is the part after the prefix, e.g. '/faults'. */
export async function handleAdminRequest(
  request: IncomingMessage,
  path: string,
  deps: AdminDependencies,
): Promise<ApiResponse> {
  const token = request.headers[ADMIN_TOKEN_HEADER];
  if (!tokenMatches(Array.isArray(token) ? token[0] : token, deps.token)) {
    return errorResponse(401, `Missing or wrong ${ADMIN_TOKEN_HEADER} header.`);
  }
  const method = request.method ?? 'GET';
  const segments = path.split('/').filter(Boolean);
  try {
    return await route(method, segments, request, deps);
  } catch (error) {
    if (error instanceof UnknownCertificateError) return errorResponse(404, error.message);
    if (error instanceof InputError) return errorResponse(400, error.message);
    throw error;
  }
}

async function route(
  method: string,
  segments: string[],
  request: IncomingMessage,
  deps: AdminDependencies,
): Promise<ApiResponse> {
  const [resource, idText, action, ...rest] = segments;
  const id = idText === undefined ? undefined : Number(idText);
  if (id !== undefined && !Number.isSafeInteger(id))
    return errorResponse(404, `No admin route for ${idText}.`);
  const key = `${method} ${resource ?? ''}${idText === undefined ? '' : '/{id}'}${action === undefined ? '' : `/${action}`}`;
  if (rest.length > 0) return errorResponse(404, 'No such admin route.');
  switch (key) {
    case 'GET requests':
      return json(200, deps.requestLog.entries());
    case 'DELETE requests':
      deps.requestLog.clear();
      return emptyResponse(204);
    case 'GET faults':
      return json(200, deps.faults.list());
    case 'POST faults': {
      const body = parseBody(FaultRulesBodySchema, await readJson(request));
      const rules = (Array.isArray(body) ? body : [body]).map(faultRuleFromBody);
      return json(201, { ids: rules.map((rule) => deps.faults.add(rule)) });
    }
    case 'DELETE faults':
      deps.faults.clear();
      return emptyResponse(204);
    case 'DELETE faults/{id}':
      return deps.faults.remove(id!) ? emptyResponse(204) : errorResponse(404, `No fault rule ${id}.`);
    case 'POST certificates': {
      const body = parseBody(NewCertificatesBodySchema, await readJson(request));
      const created = deps.inventory.addNew(body);
      return json(201, { ids: created.map((c) => c.Id) });
    }
    case 'DELETE certificates/{id}':
      if (!deps.inventory.delete(id!)) throw new UnknownCertificateError(id!);
      return emptyResponse(204);
    case 'POST certificates/{id}/revoke': {
      const body = parseBody(RevokeBodySchema, await readJson(request));
      const revoked = deps.inventory.revoke(id!, {
        ...(body.date === undefined ? {} : { date: new Date(body.date) }),
        ...(body.reason === undefined ? {} : { reason: body.reason }),
        ...(body.comment === undefined ? {} : { comment: body.comment }),
      });
      return json(200, revoked);
    }
    case 'PATCH certificates/{id}/metadata': {
      const patch = parseBody(MetadataPatchSchema, await readJson(request));
      return json(200, deps.inventory.updateMetadata(id!, patch));
    }
    case 'PUT certificates/{id}/locations': {
      const locations = parseBody(LocationsBodySchema, await readJson(request));
      return json(200, deps.inventory.setLocations(id!, locations));
    }
    case 'GET stats':
      return json(200, deps.stats());
    default:
      return errorResponse(404, `No admin route ${method} ${ADMIN_PREFIX}/${segments.join('/')}.`);
  }
}
