import { beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '#shared/logging';
import { createAuthorizerHandler } from '../../../functions/authorizer/handler.ts';
import { apiStack, authorizerEvent, lambdaContext, type ApiStack } from '#test/support/apigw';

let stack: ApiStack;

beforeAll(async () => {
  stack = await apiStack(inject('awsEndpoint'));
});

const LIST = { method: 'GET', path: '/v3/api-keys' } as const;

describe('authorizer', () => {
  it('answers 401 for a missing, malformed, unknown or wrong-secret token', async () => {
    const good = stack.adminToken;
    const wrongSecret = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
    const unknown = good.replace(/^kfsk_[^_]+(?=_)/, 'kfsk_nobody');
    for (const token of [undefined, '', 'Bearer abc', 'kfsk_x', unknown, wrongSecret, 'a'.repeat(10_000)]) {
      const res = await stack.call({ ...LIST, token });
      expect(res.status, String(token).slice(0, 40)).toBe(401);
    }
  });

  it('reads the header in any case and allows the whole stage, so a cached policy fits every route', async () => {
    const handler = createAuthorizerHandler({
      authenticator: {
        authenticate: (token) =>
          Promise.resolve(
            token === 'T'
              ? {
                  ok: true,
                  keyId: 'k1',
                  roles: ['Auditor'],
                  permissions: ['apikeys:read', 'audit:read'],
                  cachedUntil: 0,
                }
              : { ok: false, reason: 'unknown' },
          ),
      },
      logger: silentLogger,
    });
    await expect(
      handler(
        authorizerEvent({ method: 'GET', path: '/v3/audit', headers: { 'isg-api-token': 'U' } }),
        lambdaContext(),
      ),
    ).rejects.toThrow(/^Unauthorized$/);
    const result = await handler(
      authorizerEvent({ method: 'GET', path: '/v3/audit', headers: { 'ISG-API-Token': 'T' } }),
      lambdaContext(),
    );
    expect(result).toEqual({
      principalId: 'k1',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Resource: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v3/*/*',
          },
        ],
      },
      context: { keyId: 'k1', permissions: 'apikeys:read,audit:read' },
    });
  });
});

describe('lock, unlock and delete through authorizer and API', () => {
  it('a lock takes effect once the reauthentication timeout has passed, and an unlock restores access', async () => {
    const token = await stack.tokenFor(['Auditor'], {
      keyId: 'lockable',
      reauthenticationTimeoutSeconds: 30,
    });
    expect((await stack.call({ ...LIST, token })).status).toBe(200);
    const lock = await stack.call({
      method: 'POST',
      path: '/v3/api-keys/lock',
      token: stack.adminToken,
      json: { keyIds: ['lockable'] },
    });
    expect(lock.body).toEqual({ results: [{ keyId: 'lockable', outcome: 'locked' }] });

    stack.clock.advance(29_000);
    expect((await stack.call({ ...LIST, token })).status).toBe(200);
    stack.clock.advance(2_000);
    expect((await stack.call({ ...LIST, token })).status).toBe(401);

    await stack.call({
      method: 'POST',
      path: '/v3/api-keys/unlock',
      token: stack.adminToken,
      json: { keyIds: ['lockable'] },
    });
    // A refusal is remembered briefly (NEGATIVE_CACHE_MS), then the key is read again.
    stack.clock.advance(5_000);
    expect((await stack.call({ ...LIST, token })).status).toBe(200);
  });

  it('a key with timeout 0 is refused on the very next request after a lock', async () => {
    const token = await stack.tokenFor(['Auditor'], { keyId: 'strict', reauthenticationTimeoutSeconds: 0 });
    expect((await stack.call({ ...LIST, token })).status).toBe(200);
    await stack.call({
      method: 'POST',
      path: '/v3/api-keys/lock',
      token: stack.adminToken,
      json: { keyIds: ['strict'] },
    });
    expect((await stack.call({ ...LIST, token })).status).toBe(401);
  });

  it('a deleted key stops authenticating once its timeout has passed', async () => {
    const token = await stack.tokenFor(['Auditor'], { keyId: 'doomed', reauthenticationTimeoutSeconds: 10 });
    expect((await stack.call({ ...LIST, token })).status).toBe(200);
    await stack.call({
      method: 'POST',
      path: '/v3/api-keys/delete',
      token: stack.adminToken,
      json: { keyIds: ['doomed'] },
    });
    stack.clock.advance(11_000);
    expect((await stack.call({ ...LIST, token })).status).toBe(401);
  });

  it('a role change reaches the API once the timeout has passed', async () => {
    const token = await stack.tokenFor(['Auditor'], { keyId: 'demoted', reauthenticationTimeoutSeconds: 5 });
    expect((await stack.call({ method: 'GET', path: '/v3/audit', token })).status).toBe(200);
    await stack.call({
      method: 'PATCH',
      path: '/v3/api-keys/demoted',
      token: stack.adminToken,
      json: { roles: ['ScanManager'] },
    });
    stack.clock.advance(6_000);
    const res = await stack.call({ method: 'GET', path: '/v3/audit', token });
    expect(res.status).toBe(403);
    expect((res.body as { message: string }).message).toBe('missing permission audit:read');
  });

  it('records the caller as the actor of each change', async () => {
    await stack.call({
      method: 'POST',
      path: '/v3/api-keys',
      token: stack.adminToken,
      json: { keyId: 'made-by-admin', roles: ['Auditor'] },
    });
    const got = await stack.call({
      method: 'GET',
      path: '/v3/api-keys/made-by-admin',
      token: stack.adminToken,
    });
    const adminId = /^kfsk_(.+)_[A-Za-z0-9_-]{43}$/.exec(stack.adminToken)?.[1];
    expect((got.body as { createdBy: string }).createdBy).toBe(adminId);
  });
});
