// OpenAPI 3.1 generated from the route table: the same zod schemas validate requests and shape responses, so it cannot drift.
import { z } from 'zod';
import { createDocument } from 'zod-openapi';
import type {
  ZodOpenApiOperationObject,
  ZodOpenApiPathsObject,
  ZodOpenApiResponsesObject,
} from 'zod-openapi';
import type { Route } from './router.ts';

export const IssueSchema = z
  .object({
    path: z
      .string()
      .meta({ description: 'Dotted path of the offending field, e.g. `roles.0`; empty for the whole body.' }),
    message: z.string(),
  })
  .meta({ id: 'Issue' });

export const ErrorBodySchema = z
  .object({
    message: z.string().meta({ description: 'Shown for 4xx; always `internal error` for 500.' }),
    requestId: z
      .string()
      .meta({ description: 'Also sent as the `x-request-id` header; quote it when reporting.' }),
    issues: z.array(IssueSchema).optional().meta({ description: 'Present on 400 for invalid fields.' }),
  })
  .meta({ id: 'Error' });

const STANDARD_ERRORS: Record<number, string> = {
  400: 'Invalid path parameter, query or body; `issues` names each field.',
  401: 'Missing, unknown or locked API key.',
  403: 'The key lacks the permission this operation needs.',
  404: 'Unknown route or resource.',
  409: 'Conflict with an existing resource.',
  413: 'Request body larger than the limit.',
  415: 'Request body is not `application/json`.',
  500: 'Internal error; the body carries only a request id.',
};

/** The error statuses a route can return, derived from what it declares. */
export function errorStatusesOf(route: Route): number[] {
  const statuses = new Set<number>([401, 500]);
  if (route.permission !== null || route.feature !== undefined) statuses.add(403);
  if (route.params || route.query || route.body) statuses.add(400);
  if (route.body) {
    statuses.add(413);
    statuses.add(415);
  }
  for (const status of Object.keys(route.responses).map(Number)) if (status >= 400) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

export interface OpenApiOptions {
  title: string;
  version: string;
  description?: string;
  /** Name of the header carrying the API key. */
  apiKeyHeader: string;
  apiKeyDescription?: string;
  servers?: { url: string; description?: string }[];
}

const SECURITY_SCHEME = 'apiKey';

function operationOf(route: Route): ZodOpenApiOperationObject {
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    if (Number(status) >= 400) continue;
    responses[status as `2${string}`] = {
      description: spec.description,
      ...(spec.contentType
        ? { content: { [spec.contentType]: { schema: spec.schema ?? z.string() } } }
        : spec.schema
          ? { content: { 'application/json': { schema: spec.schema } } }
          : {}),
    };
  }
  for (const status of errorStatusesOf(route)) {
    responses[String(status) as `4${string}`] = {
      description: route.responses[status]?.description ?? STANDARD_ERRORS[status] ?? 'Error.',
      content: { 'application/json': { schema: ErrorBodySchema } },
    };
  }
  const permissionNote =
    (route.permission ? `Requires permission \`${route.permission}\`.` : 'Any valid API key may call this.') +
    (route.feature ? ` Requires the license feature \`${route.feature}\` (403 otherwise).` : '');
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: route.description ? `${route.description}\n\n${permissionNote}` : permissionNote,
    ...(route.tags ? { tags: route.tags } : {}),
    security: [{ [SECURITY_SCHEME]: [] }],
    'x-required-permission': route.permission,
    ...(route.feature ? { 'x-required-feature': route.feature } : {}),
    ...(route.params || route.query
      ? {
          requestParams: {
            ...(route.params ? { path: route.params as z.ZodObject } : {}),
            ...(route.query ? { query: route.query as z.ZodObject } : {}),
          },
        }
      : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } }
      : {}),
    responses,
  };
}

export function buildOpenApiDocument(
  routes: readonly Route[],
  options: OpenApiOptions,
): Record<string, unknown> {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    item[method] = operationOf(route);
  }
  const document = createDocument({
    openapi: '3.1.0',
    info: {
      title: options.title,
      version: options.version,
      ...(options.description ? { description: options.description } : {}),
    },
    ...(options.servers ? { servers: options.servers } : {}),
    security: [{ [SECURITY_SCHEME]: [] }],
    components: {
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'apiKey',
          in: 'header',
          name: options.apiKeyHeader,
          ...(options.apiKeyDescription ? { description: options.apiKeyDescription } : {}),
        },
      },
    },
    paths,
  });
  return document as unknown as Record<string, unknown>;
}
