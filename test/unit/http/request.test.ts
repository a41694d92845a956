import { describe, expect, it } from 'vitest';
import { callerOf, authorizerContextOf } from '#shared/http/caller';
import {
  errorResponse,
  HttpError,
  NotFoundError,
  RequestValidationError,
  toIssues,
} from '#shared/http/errors';
import { headerOf, readJsonBody, requestIdOf } from '#shared/http/request';
import { proxyEvent } from '#test/support/apigw';

/** The HTTP status a call throws, or undefined when it does not throw. */
function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof HttpError ? error.status : -1;
  }
  return undefined;
}

describe('readJsonBody', () => {
  const json = { 'content-type': 'application/json' };

  it('returns undefined for an absent or empty body', () => {
    expect(readJsonBody({ body: null, isBase64Encoded: false, headers: {} })).toBeUndefined();
    expect(readJsonBody({ body: '', isBase64Encoded: false, headers: {} })).toBeUndefined();
  });

  it('counts bytes, not characters, against the limit', () => {
    const body = JSON.stringify({ s: 'é'.repeat(40) }); // 80 bytes of é in 40 characters
    expect(() => readJsonBody({ body, isBase64Encoded: false, headers: json }, 60)).toThrow(
      /exceeds 60 bytes/,
    );
    expect(readJsonBody({ body, isBase64Encoded: false, headers: json }, 200)).toEqual({ s: 'é'.repeat(40) });
  });

  it('decodes a base64 body and applies the limit to its decoded size', () => {
    const body = Buffer.from('{"a":1}').toString('base64');
    expect(readJsonBody({ body, isBase64Encoded: true, headers: json })).toEqual({ a: 1 });
    const big = Buffer.from(`"${'x'.repeat(100)}"`).toString('base64');
    expect(() => readJsonBody({ body: big, isBase64Encoded: true, headers: json }, 50)).toThrow(/exceeds/);
  });

  it('checks size before content type, and content type before parsing', () => {
    expect(
      statusOf(() => readJsonBody({ body: 'x'.repeat(100), isBase64Encoded: false, headers: {} }, 10)),
    ).toBe(413);
    expect(statusOf(() => readJsonBody({ body: 'not json', isBase64Encoded: false, headers: {} }))).toBe(415);
    expect(statusOf(() => readJsonBody({ body: 'not json', isBase64Encoded: false, headers: json }))).toBe(
      400,
    );
  });

  it('accepts JSON media types with parameters or a +json suffix, in any case', () => {
    for (const type of [
      'Application/JSON',
      'application/json; charset=utf-8',
      'application/merge-patch+json',
    ]) {
      expect(readJsonBody({ body: '{}', isBase64Encoded: false, headers: { 'Content-Type': type } })).toEqual(
        {},
      );
    }
    for (const type of ['text/json', 'application/jsonp', 'text/plain']) {
      expect(
        statusOf(() =>
          readJsonBody({ body: '{}', isBase64Encoded: false, headers: { 'content-type': type } }),
        ),
      ).toBe(415);
    }
  });
});

describe('request id and headers', () => {
  it('takes the request id from the request context', () => {
    expect(requestIdOf(proxyEvent({ method: 'GET', path: '/', requestId: 'abc' }))).toBe('abc');
    expect(requestIdOf(undefined)).toBe('unknown');
  });

  it('looks headers up ignoring case', () => {
    expect(headerOf({ 'ISG-Api-Token': 't' }, 'isg-api-token')).toBe('t');
    expect(headerOf(null, 'x')).toBeUndefined();
  });
});

describe('callerOf', () => {
  it('round-trips the authorizer context', () => {
    const context = authorizerContextOf('k1', ['apikeys:read', 'audit:read']);
    const caller = callerOf(proxyEvent({ method: 'GET', path: '/', authorizer: context }));
    expect(caller.keyId).toBe('k1');
    expect([...caller.permissions]).toEqual(['apikeys:read', 'audit:read']);
  });

  it('refuses a context with a missing or non-string field', () => {
    const contexts: (Record<string, string | number> | null)[] = [
      null,
      {},
      { keyId: 'k' },
      { keyId: 7, permissions: '' },
    ];
    for (const authorizer of contexts) {
      expect(statusOf(() => callerOf(proxyEvent({ method: 'GET', path: '/', authorizer })))).toBe(401);
    }
  });
});

describe('errorResponse', () => {
  it('shows 4xx messages and issues', () => {
    const error = new RequestValidationError('invalid body', [{ path: 'a', message: 'bad' }]);
    expect(errorResponse(error, 'r')).toEqual({
      status: 400,
      body: { message: 'invalid body', requestId: 'r', issues: [{ path: 'a', message: 'bad' }] },
      headers: {},
    });
    expect(errorResponse(new NotFoundError('gone'), 'r').body).toEqual({ message: 'gone', requestId: 'r' });
  });

  it('hides everything about anything else, including a 5xx HttpError', () => {
    for (const error of [
      new Error('db at 10.0.0.1 down'),
      new HttpError(503, 'upstream secret'),
      'a string',
      null,
    ]) {
      expect(errorResponse(error, 'r')).toEqual({
        status: 500,
        body: { message: 'internal error', requestId: 'r' },
        headers: {},
      });
    }
  });

  it('uses the classifier for domain errors', () => {
    class Gone extends Error {}
    const classify = (e: unknown) => (e instanceof Gone ? new NotFoundError('gone') : undefined);
    expect(errorResponse(new Gone('x'), 'r', classify).status).toBe(404);
    expect(errorResponse(new Error('x'), 'r', classify).status).toBe(500);
  });
});

describe('toIssues', () => {
  it('joins paths with dots, prefixes them, and names each unrecognised key', () => {
    expect(
      toIssues(
        [
          { path: ['roles', 1], message: 'unknown role' },
          { path: [], message: 'x', code: 'unrecognized_keys', keys: ['locked', 'hash'] },
        ],
        'query',
      ),
    ).toEqual([
      { path: 'query.roles.1', message: 'unknown role' },
      { path: 'query.locked', message: 'is not a field that can be set' },
      { path: 'query.hash', message: 'is not a field that can be set' },
    ]);
  });
});
