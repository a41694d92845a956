// A small table-driven router: each route declares its schemas, permission and responses, which also feed the OpenAPI document.
import type { z } from 'zod';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { LicenseFeature } from '#shared/license/model';
import type { Caller } from './caller.ts';
import {
  ForbiddenError,
  MethodNotAllowedError,
  NotFoundError,
  RequestValidationError,
  SensorHttpInvariantError,
  toIssues,
} from './errors.ts';
import { DEFAULT_BODY_LIMIT_BYTES, jsonResponse, rawResponse, readJsonBody } from './request.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ResponseSpec {
  description: string;
  /** Describes the body in OpenAPI and is applied to it before sending, so undeclared fields never leave. */
  schema?: z.ZodType;
  /** A non-JSON body (e.g. `application/xml`): the handler returns it as a string with this content type. */
  contentType?: string;
}

/** What a handler returns: a JSON body, or a string body with the content type its ResponseSpec declares. */
export interface RouteResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Set for a non-JSON body (which must then be a string); absent means JSON. */
  contentType?: string;
}

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: HttpMethod;
  /** OpenAPI-style template, e.g. `/v3/api-keys/{keyId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  /** The permission a caller needs (checked by the router); null means any authenticated caller. */
  permission: string | null;
  /** The license feature this route needs; checked after the permission when the router has a featureGate. */
  feature?: LicenseFeature;
  params?: P;
  query?: Q;
  body?: B;
  responses: Record<number, ResponseSpec>;
  handle: (input: {
    params: z.output<P>;
    query: z.output<Q>;
    body: z.output<B>;
    caller: Caller;
    requestId: string;
  }) => Promise<RouteResult>;
}

export interface RequestInput {
  pathParams: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  caller: Caller;
  requestId: string;
}

/** A route with its types erased so routes of different shapes share one table. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags?: string[];
  readonly permission: string | null;
  readonly feature?: LicenseFeature;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  invoke(input: RequestInput): Promise<RouteResult>;
}

function parseOr400<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new RequestValidationError(
    `invalid ${where}`,
    toIssues(parsed.error.issues, where === 'body' ? undefined : where),
  );
}

export function defineRoute<
  P extends z.ZodType = z.ZodType<Record<string, never>>,
  Q extends z.ZodType = z.ZodType<Record<string, never>>,
  B extends z.ZodType = z.ZodType<undefined>,
>(spec: RouteSpec<P, Q, B>): Route {
  const { handle, ...meta } = spec;
  return {
    ...meta,
    async invoke(input) {
      const params = (meta.params ? parseOr400(meta.params, input.pathParams, 'path') : {}) as z.output<P>;
      const query = (meta.query ? parseOr400(meta.query, input.query, 'query') : {}) as z.output<Q>;
      const body = (meta.body ? parseOr400(meta.body, input.body, 'body') : undefined) as z.output<B>;
      const result = await handle({ params, query, body, caller: input.caller, requestId: input.requestId });
      const spec = meta.responses[result.status];
      if (!spec)
        throw new SensorHttpInvariantError(`${meta.operationId} returned undeclared status ${result.status}`);
      if (
        (result.contentType ?? null) !== (spec.contentType ?? null) ||
        (spec.contentType && typeof result.body !== 'string')
      )
        throw new SensorHttpInvariantError(
          `${meta.operationId} returned a ${result.contentType ?? 'JSON'} body for a ${spec.contentType ?? 'JSON'} response`,
        );
      // The response schema is an allow-list: a field the spec does not declare is stripped, a wrong shape is a 500.
      const body_ = spec.schema ? spec.schema.parse(result.body) : result.body;
      return { ...result, body: body_ };
    },
  };
}

interface Match {
  route: Route;
  pathParams: Record<string, string>;
  staticSegments: number;
}

function segmentsOf(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.split('/');
}

function matchPath(template: string, path: string): Omit<Match, 'route'> | undefined {
  const want = segmentsOf(template);
  const got = segmentsOf(path);
  if (want.length !== got.length) return undefined;
  const pathParams: Record<string, string> = {};
  let staticSegments = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? '';
    const g = got[i] ?? '';
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(g);
      } catch {
        return undefined;
      }
      pathParams[w.slice(1, -1)] = decoded;
    } else if (w === g) {
      staticSegments++;
    } else {
      return undefined;
    }
  }
  return { pathParams, staticSegments };
}

export interface RouterOptions {
  bodyLimitBytes?: number;
  /** Resolves the caller; called only once a route matched, so unknown routes are 404 without authentication. */
  caller(event: APIGatewayProxyEvent): Caller;
  /**
   * Throws (e.g. FeatureDisabledError, mapped to 403 by the handler's classifier) when the license does not enable
   * a route's `feature`. Without it, `feature` is not checked.
   */
  featureGate?: (feature: LicenseFeature) => Promise<void>;
}

export interface Router {
  readonly routes: readonly Route[];
  handle(event: APIGatewayProxyEvent, requestId: string): Promise<APIGatewayProxyResult>;
}

export function createRouter(routes: readonly Route[], options: RouterOptions): Router {
  const seen = new Set<string>();
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) throw new SensorHttpInvariantError(`duplicate route ${key}`);
    seen.add(key);
  }
  return {
    routes,
    async handle(event, requestId) {
      const matches: Match[] = [];
      for (const route of routes) {
        const m = matchPath(route.path, event.path);
        if (m) matches.push({ route, ...m });
      }
      if (matches.length === 0) throw new NotFoundError('no such route');
      const method = event.httpMethod.toUpperCase();
      const best = matches
        .filter((m) => m.route.method === method)
        .sort((a, b) => b.staticSegments - a.staticSegments)[0];
      if (!best) throw new MethodNotAllowedError([...new Set(matches.map((m) => m.route.method))].sort());
      const caller = options.caller(event);
      // Permission before the body is read: a caller without it learns nothing about what the body should be.
      const permission = best.route.permission;
      if (permission !== null && !caller.permissions.has(permission)) {
        throw new ForbiddenError(`missing permission ${permission}`);
      }
      // The license after the permission: a caller who may not use the route learns nothing about the license.
      if (best.route.feature !== undefined && options.featureGate)
        await options.featureGate(best.route.feature);
      const needsBody = best.route.body !== undefined;
      const body = needsBody
        ? readJsonBody(event, options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES)
        : undefined;
      const result = await best.route.invoke({
        pathParams: best.pathParams,
        query: Object.fromEntries(
          Object.entries(event.queryStringParameters ?? {}).filter(
            (entry): entry is [string, string] => typeof entry[1] === 'string',
          ),
        ),
        body,
        caller,
        requestId,
      });
      if (result.contentType !== undefined)
        return rawResponse(result.status, String(result.body), result.contentType, requestId, result.headers);
      return jsonResponse(result.status, result.body, requestId, result.headers);
    },
  };
}
