import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callerOf } from '#shared/http/caller';
import { ConflictError } from '#shared/http/errors';
import { createHttpHandler } from '#shared/http/lambda';
import { createRouter, defineRoute } from '#shared/http/router';
import { silentLogger } from '#shared/logging';
import { lambdaContext, parseResult, proxyEvent, type ProxyRequest } from '#test/support/apigw';

class WidgetClashError extends Error {}

const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/widgets/{id}',
    operationId: 'getWidget',
    summary: 'Get',
    permission: 'widgets:read',
    params: z.object({ id: z.string().max(8) }),
    responses: { 200: { description: 'ok', schema: z.object({ id: z.string() }) } },
    handle: ({ params }) => {
      if (params.id === 'boom') throw new Error('database password is hunter2');
      if (params.id === 'clash') throw new WidgetClashError('clash');
      // `secret` is not in the response schema and must be stripped.
      return Promise.resolve({ status: 200, body: { id: params.id, secret: 's3cr3t' } });
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/widgets/special',
    operationId: 'special',
    summary: 'Static segment wins',
    permission: null,
    responses: { 200: { description: 'ok', schema: z.object({ special: z.boolean() }) } },
    handle: () => Promise.resolve({ status: 200, body: { special: true } }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/widgets',
    operationId: 'createWidget',
    summary: 'Create',
    permission: 'widgets:write',
    query: z.strictObject({ dryRun: z.enum(['true', 'false']).optional() }),
    body: z.strictObject({ name: z.string().min(1).max(10), tags: z.array(z.enum(['a', 'b'])).optional() }),
    responses: { 201: { description: 'created', schema: z.object({ name: z.string() }) } },
    handle: ({ body }) => Promise.resolve({ status: 201, body: { name: body.name } }),
  }),
];

const handler = createHttpHandler({
  router: createRouter(routes, { caller: callerOf, bodyLimitBytes: 1024 }),
  logger: silentLogger,
  classify: (error) => (error instanceof WidgetClashError ? new ConflictError('widget exists') : undefined),
});

const ALL = { keyId: 'k1', permissions: 'widgets:read,widgets:write' };

async function call(request: ProxyRequest) {
  return parseResult(await handler(proxyEvent({ authorizer: ALL, ...request }), lambdaContext()));
}

describe('router', () => {
  it('routes by method and path and strips fields the response schema does not declare', async () => {
    const res = await call({ method: 'GET', path: '/v1/widgets/w1', requestId: 'r-1' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'w1' });
    expect(res.headers['x-request-id']).toBe('r-1');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('prefers a static segment over a path parameter', async () => {
    const res = await call({ method: 'GET', path: '/v1/widgets/special' });
    expect(res.body).toEqual({ special: true });
  });

  it('decodes path parameters and ignores a trailing slash', async () => {
    const res = await call({ method: 'GET', path: '/v1/widgets/a%20b/' });
    expect(res.body).toEqual({ id: 'a b' });
  });

  it('answers 404 for an unknown route, before authentication', async () => {
    const res = await call({ method: 'GET', path: '/v1/nothing', authorizer: null, requestId: 'r-404' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: 'no such route', requestId: 'r-404' });
  });

  it('answers 405 with an Allow header for a known path and wrong method', async () => {
    const res = await call({ method: 'DELETE', path: '/v1/widgets' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });

  it('answers 401 when the authorizer context is missing or malformed', async () => {
    expect((await call({ method: 'GET', path: '/v1/widgets/w1', authorizer: null })).status).toBe(401);
    expect((await call({ method: 'GET', path: '/v1/widgets/w1', authorizer: { keyId: '' } })).status).toBe(
      401,
    );
  });

  it('answers 403 naming the missing permission, before reading the body', async () => {
    const res = await call({
      method: 'POST',
      path: '/v1/widgets',
      authorizer: { keyId: 'k2', permissions: 'widgets:read' },
      rawBody: 'x'.repeat(5000),
      requestId: 'r-403',
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ message: 'missing permission widgets:write', requestId: 'r-403' });
  });

  it('lets any authenticated caller reach a route without a permission', async () => {
    const res = await call({
      method: 'GET',
      path: '/v1/widgets/special',
      authorizer: { keyId: 'k', permissions: '' },
    });
    expect(res.status).toBe(200);
  });

  it('answers 400 with field paths for an invalid body, query or path parameter', async () => {
    const body = await call({
      method: 'POST',
      path: '/v1/widgets',
      json: { name: '', tags: ['a', 'zz'], extra: 1 },
    });
    expect(body.status).toBe(400);
    const paths = (body.body as { issues: { path: string }[] }).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['extra', 'name', 'tags.1']);
    const query = await call({
      method: 'POST',
      path: '/v1/widgets',
      query: { dryRun: 'maybe' },
      json: { name: 'n' },
    });
    expect(query.status).toBe(400);
    expect((query.body as { issues: { path: string }[] }).issues[0]?.path).toBe('query.dryRun');
    const path = await call({ method: 'GET', path: '/v1/widgets/waytoolongid' });
    expect((path.body as { issues: { path: string }[] }).issues[0]?.path).toBe('path.id');
  });

  it('answers 400 for a missing or malformed JSON body', async () => {
    const missing = await call({ method: 'POST', path: '/v1/widgets' });
    expect(missing.status).toBe(400);
    const malformed = await call({
      method: 'POST',
      path: '/v1/widgets',
      rawBody: '{"name": "a",',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect((malformed.body as { message: string }).message).toBe('request body is not valid JSON');
  });

  it('answers 413 for a body over the limit without parsing it', async () => {
    const res = await call({
      method: 'POST',
      path: '/v1/widgets',
      rawBody: `{"name":"${'x'.repeat(2000)}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
  });

  it('answers 415 for a body that is not JSON by content type', async () => {
    const res = await call({
      method: 'POST',
      path: '/v1/widgets',
      rawBody: 'name=a',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    const charset = await call({
      method: 'POST',
      path: '/v1/widgets',
      rawBody: '{"name":"a"}',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect(charset.status).toBe(201);
  });

  it('maps a classified domain error to its status', async () => {
    const res = await call({ method: 'GET', path: '/v1/widgets/clash' });
    expect(res.status).toBe(409);
    expect((res.body as { message: string }).message).toBe('widget exists');
  });

  it('answers a plain 500 that leaks nothing of an unexpected error', async () => {
    const res = await call({ method: 'GET', path: '/v1/widgets/boom', requestId: 'r-500' });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ message: 'internal error', requestId: 'r-500' });
    expect(res.headers['x-request-id']).toBe('r-500');
  });

  it('refuses a table with two routes for the same method and path', () => {
    expect(() => createRouter([routes[0]!, routes[0]!], { caller: callerOf })).toThrow(/duplicate route/);
  });
});
