// The /v3 route table: each operation's schemas, permission and responses, bound to the API-key service.
import {
  ApiKeyConflictError,
  ApiKeyNotFoundError,
  ApiKeyValidationError,
  DuplicateKeyIdError,
} from '#shared/apikeys/index';
import type { ApiKeyService } from '#shared/apikeys/index';
import type { LicenseService } from '#shared/license/service';
import type { ScanApi } from '#shared/scan/ports';
import { ConflictError, NotFoundError, RequestValidationError, type HttpError } from '#shared/http/errors';
import { buildOpenApiDocument } from '#shared/http/openapi';
import { defineRoute, type Route } from '#shared/http/router';
import {
  ApiKeyPageSchema,
  ApiKeySchema,
  AuditPageSchema,
  AuditQuerySchema,
  BulkKeyIdsRequestSchema,
  BulkResultSchema,
  CreateApiKeyRequestSchema,
  CreatedApiKeySchema,
  EditApiKeyRequestSchema,
  ImportApiKeyRequestSchema,
  KeyIdParamsSchema,
  ListApiKeysQuerySchema,
  OpenApiDocumentSchema,
} from './schemas.ts';
import { createLicenseRoutes } from './license-routes.ts';
import { createScanRoutes } from './scan-routes.ts';

export const API_KEY_HEADER = 'isg-api-token';

/** Maps the key service's errors to HTTP; everything it does not name is a 500. */
export function classifyApiKeyError(error: unknown): HttpError | undefined {
  if (error instanceof ApiKeyValidationError)
    return new RequestValidationError('invalid request', error.issues);
  if (error instanceof ApiKeyNotFoundError) return new NotFoundError(`API key not found: ${error.keyId}`);
  if (error instanceof DuplicateKeyIdError)
    return new ConflictError(`an API key with this id already exists: ${error.keyId}`);
  if (error instanceof ApiKeyConflictError)
    return new ConflictError('the API key changed concurrently; retry');
  return undefined;
}

const TAG_KEYS = ['API keys'];

function bulkRoute(action: 'lock' | 'unlock' | 'delete', service: ApiKeyService, summary: string): Route {
  return defineRoute({
    method: 'POST',
    path: `/v3/api-keys/${action}`,
    operationId: `${action}ApiKeys`,
    summary,
    description:
      'Each distinct Key ID gets its own outcome; unknown ids are reported `not-found`, not an error.',
    tags: TAG_KEYS,
    permission: 'apikeys:write',
    body: BulkKeyIdsRequestSchema,
    responses: { 200: { description: 'Per-id outcomes.', schema: BulkResultSchema } },
    handle: async ({ body, caller }) => ({
      status: 200,
      body: await service[action](caller.keyId, body.keyIds),
    }),
  });
}

/**
 * Every /v3 route. `GET /v3/openapi.json` describes the table it belongs to. The scan and schedule routes are served
 * when a ScanApi is given. With a LicenseService the licensing routes are served too, and the scan and schedule
 * routes declare the license feature they need (the router checks it through its featureGate).
 */
export function createApiRoutes(
  service: ApiKeyService,
  info: { version: string } = { version: '3.0.0' },
  scans?: ScanApi,
  license?: LicenseService,
): Route[] {
  let document: Record<string, unknown> | undefined;
  const routes: Route[] = [
    defineRoute({
      method: 'POST',
      path: '/v3/api-keys',
      operationId: 'createApiKey',
      summary: 'Create an API key',
      description: 'The response is the only time the secret is shown.',
      tags: TAG_KEYS,
      permission: 'apikeys:write',
      body: CreateApiKeyRequestSchema,
      responses: {
        201: { description: 'Created; `secret` is shown only here.', schema: CreatedApiKeySchema },
        409: { description: 'A key with this Key ID already exists.' },
      },
      handle: async ({ body, caller }) => ({ status: 201, body: await service.create(caller.keyId, body) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/v3/api-keys/import',
      operationId: 'importApiKey',
      summary: 'Import an existing API key',
      description: 'Registers a token issued elsewhere (e.g. another environment); the secret is not echoed.',
      tags: TAG_KEYS,
      permission: 'apikeys:write',
      body: ImportApiKeyRequestSchema,
      responses: {
        201: { description: 'Imported.', schema: ApiKeySchema },
        409: { description: 'A key with this Key ID already exists.' },
      },
      handle: async ({ body, caller }) => ({ status: 201, body: await service.import(caller.keyId, body) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/v3/api-keys',
      operationId: 'listApiKeys',
      summary: 'List API keys',
      tags: TAG_KEYS,
      permission: 'apikeys:read',
      query: ListApiKeysQuerySchema,
      responses: { 200: { description: 'A page of keys.', schema: ApiKeyPageSchema } },
      handle: async ({ query }) => ({ status: 200, body: await service.list(query) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/v3/api-keys/{keyId}',
      operationId: 'getApiKey',
      summary: 'Get an API key',
      tags: TAG_KEYS,
      permission: 'apikeys:read',
      params: KeyIdParamsSchema,
      responses: {
        200: { description: 'The key.', schema: ApiKeySchema },
        404: { description: 'No such key.' },
      },
      handle: async ({ params }) => ({ status: 200, body: await service.get(params.keyId) }),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/v3/api-keys/{keyId}',
      operationId: 'editApiKey',
      summary: 'Edit an API key',
      description:
        'Changes description, roles and/or reauthenticationTimeoutSeconds; any other field is a 400.',
      tags: TAG_KEYS,
      permission: 'apikeys:write',
      params: KeyIdParamsSchema,
      body: EditApiKeyRequestSchema,
      responses: {
        200: { description: 'The edited key.', schema: ApiKeySchema },
        404: { description: 'No such key.' },
        409: { description: 'The key changed concurrently; retry.' },
      },
      handle: async ({ params, body, caller }) => ({
        status: 200,
        body: await service.edit(caller.keyId, params.keyId, body),
      }),
    }),
    bulkRoute('lock', service, 'Lock API keys'),
    bulkRoute('unlock', service, 'Unlock API keys'),
    bulkRoute('delete', service, 'Delete API keys permanently'),
    defineRoute({
      method: 'GET',
      path: '/v3/audit',
      operationId: 'listAudit',
      summary: 'List audit records, newest first',
      tags: ['Audit'],
      permission: 'audit:read',
      query: AuditQuerySchema,
      responses: { 200: { description: 'A page of audit records.', schema: AuditPageSchema } },
      handle: async ({ query }) => ({ status: 200, body: await service.listAudit(query) }),
    }),
    ...(scans ? createScanRoutes(scans, { licensed: license !== undefined }) : []),
    ...(license ? createLicenseRoutes(license) : []),
    defineRoute({
      method: 'GET',
      path: '/v3/openapi.json',
      operationId: 'getOpenApiDocument',
      summary: 'This API as an OpenAPI 3.1 document',
      tags: ['Meta'],
      permission: null,
      responses: { 200: { description: 'The OpenAPI document.', schema: OpenApiDocumentSchema } },
      handle: () => {
        document ??= buildApiDocument(routes, info.version);
        return Promise.resolve({ status: 200, body: document });
      },
    }),
  ];
  return routes;
}

export function buildApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  return buildOpenApiDocument(routes, {
    title: 'Keyfactor Command Sensor API',
    version,
    description: `Send an API key in the \`${API_KEY_HEADER}\` header. See docs/api.md for roles and errors.`,
    apiKeyHeader: API_KEY_HEADER,
    apiKeyDescription: 'An API key token `kfsk_<keyId>_<secret>`; create one with `POST /v3/api-keys`.',
  });
}
