import { validate } from '@readme/openapi-parser';
import SwaggerClient from 'swagger-client';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createApiRoutes } from '#shared/api/routes';
import { errorStatusesOf } from '#shared/http/openapi';
import { apiStack, type ApiStack } from '#test/support/apigw';

interface Operation {
  operationId: string;
  security: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
  requestBody?: unknown;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

let stack: ApiStack;
let doc: Document;

beforeAll(async () => {
  stack = await apiStack(inject('awsEndpoint'));
  const res = await stack.call({ method: 'GET', path: '/v3/openapi.json', token: stack.adminToken });
  expect(res.status).toBe(200);
  doc = res.body as Document;
});

describe('GET /v3/openapi.json', () => {
  it('serves a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
    expect(result.specification).toBe('OpenAPI');
  });

  it("loads in Swagger UI's own spec resolver (swagger-client) without errors", async () => {
    const resolved = await SwaggerClient.resolve({ spec: structuredClone(doc) });
    expect(resolved.errors).toEqual([]);
    expect(Object.keys(resolved.spec.paths ?? {}).sort()).toEqual(Object.keys(doc.paths).sort());
    // The resolver does report what Swagger UI would show as an error: a dangling reference.
    const dangling = structuredClone(doc);
    dangling.paths['/v3/openapi.json'] = {
      get: {
        operationId: 'x',
        security: [],
        responses: { '200': { $ref: '#/components/responses/Missing' } },
      },
    } as unknown as Record<string, Operation>;
    expect((await SwaggerClient.resolve({ spec: dangling })).errors).not.toEqual([]);
  });

  it('describes exactly the routes the router serves', () => {
    const routes = createApiRoutes(stack.service);
    const inRouter = routes.map((r) => `${r.method} ${r.path}`).sort();
    const inSpec = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(inSpec).toEqual(inRouter);
    for (const route of routes) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op?.operationId).toBe(route.operationId);
      const statuses = Object.keys(op?.responses ?? {});
      for (const status of [...Object.keys(route.responses), ...errorStatusesOf(route).map(String)]) {
        expect(statuses, `${route.operationId} ${status}`).toContain(status);
      }
      expect(Boolean(op?.requestBody)).toBe(route.body !== undefined);
    }
  });

  it('declares the isg-api-token scheme on every operation and the error body on every error', () => {
    expect(doc.components.securitySchemes.apiKey).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'isg-api-token',
    });
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        expect(op.security).toEqual([{ apiKey: [] }]);
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) >= 400) {
            expect(response.content?.['application/json']?.schema.$ref).toBe('#/components/schemas/Error');
          }
        }
      }
    }
  });

  it('never describes a secret except in the create response', () => {
    const text = JSON.stringify(doc.components.schemas);
    expect(Object.keys(doc.components.schemas)).toContain('CreatedApiKey');
    const withSecret = Object.entries(doc.components.schemas)
      .filter(([, schema]) => JSON.stringify(schema).includes('"secret"'))
      .map(([name]) => name);
    expect(withSecret).toEqual(['CreatedApiKey']);
    expect(text).not.toMatch(/"hash"|"salt"/);
  });
});
