import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiConfigFromEnv } from '#shared/api/config';
import { buildOpenApiDocument, errorStatusesOf } from '#shared/http/openapi';
import { defineRoute } from '#shared/http/router';

const item = z.object({ id: z.string() }).meta({ id: 'Item' });
const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/items/{id}',
    operationId: 'getItem',
    summary: 'Get',
    permission: 'items:read',
    params: z.object({ id: z.string() }),
    responses: { 200: { description: 'ok', schema: item }, 404: { description: 'No such item.' } },
    handle: ({ params }) => Promise.resolve({ status: 200, body: { id: params.id } }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/items',
    operationId: 'createItem',
    summary: 'Create',
    permission: null,
    body: z.strictObject({ id: z.string() }),
    responses: { 201: { description: 'created', schema: item } },
    handle: ({ body }) => Promise.resolve({ status: 201, body }),
  }),
];

describe('buildOpenApiDocument', () => {
  const doc = buildOpenApiDocument(routes, { title: 'T', version: '1', apiKeyHeader: 'x-key' }) as {
    paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
  };

  it('produces a valid OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
  });

  it('derives error responses from what each route declares', () => {
    expect(errorStatusesOf(routes[0]!)).toEqual([400, 401, 403, 404, 500]);
    expect(errorStatusesOf(routes[1]!)).toEqual([400, 401, 413, 415, 500]);
    expect(doc.paths['/v1/items/{id}']?.get?.responses['404']?.description).toBe('No such item.');
    expect(Object.keys(doc.paths['/v1/items']?.post?.responses ?? {})).toEqual([
      '201',
      '400',
      '401',
      '413',
      '415',
      '500',
    ]);
  });
});

describe('apiConfigFromEnv', () => {
  it('fails when a table name is missing', () => {
    expect(() => apiConfigFromEnv({ API_KEYS_TABLE_NAME: 'k' })).toThrow(/API_KEYS_AUDIT_TABLE_NAME/);
  });

  it('reads table names and defaults the log level', () => {
    expect(apiConfigFromEnv({ API_KEYS_TABLE_NAME: 'k', API_KEYS_AUDIT_TABLE_NAME: 'a' })).toEqual({
      API_KEYS_TABLE_NAME: 'k',
      API_KEYS_AUDIT_TABLE_NAME: 'a',
      LOG_LEVEL: 'info',
    });
  });
});
