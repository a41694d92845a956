import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  Authenticator,
  BasicAuthScheme,
  parseAccountName,
  type AuthResult,
  type AuthScheme,
} from '#shared/simulator/auth';

const basic = (account: string, password: string) => Buffer.from(`${account}:${password}`).toString('base64');
const requestWith = (authorization?: string) =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

describe('parseAccountName', () => {
  it('splits DOMAIN\\user, user@domain and plain names', () => {
    expect(parseAccountName('CORP\\alice')).toEqual({ domain: 'CORP', username: 'alice' });
    expect(parseAccountName('alice@corp.example.com')).toEqual({
      domain: 'corp.example.com',
      username: 'alice',
    });
    expect(parseAccountName('alice')).toEqual({ domain: null, username: 'alice' });
  });
});

describe('BasicAuthScheme', () => {
  const scheme = new BasicAuthScheme([
    { username: 'alice', password: 'correct horse', domain: 'CORP' },
    { username: 'bob', password: 'b0b' },
  ]);
  const outcome = async (credentials: string) => (await scheme.authenticate(credentials)).outcome;

  it('accepts the user in every spelling AD allows', async () => {
    expect(await outcome(basic('CORP\\alice', 'correct horse'))).toBe('authenticated');
    expect(await outcome(basic('corp\\ALICE', 'correct horse'))).toBe('authenticated');
    expect(await outcome(basic('alice@CORP', 'correct horse'))).toBe('authenticated');
    expect(await outcome(basic('alice', 'correct horse'))).toBe('authenticated');
    expect(await outcome(basic('bob', 'b0b'))).toBe('authenticated');
  });

  it('names the principal DOMAIN\\user whatever spelling was sent', async () => {
    const result = await scheme.authenticate(basic('alice@corp', 'correct horse'));
    expect(result.outcome === 'authenticated' && result.principal.name).toBe('CORP\\alice');
  });

  it('rejects a wrong password, an unknown user, a wrong domain and a password with a different case', async () => {
    expect(await outcome(basic('CORP\\alice', 'wrong'))).toBe('rejected');
    expect(await outcome(basic('CORP\\mallory', 'correct horse'))).toBe('rejected');
    expect(await outcome(basic('OTHER\\alice', 'correct horse'))).toBe('rejected');
    expect(await outcome(basic('CORP\\alice', 'Correct horse'))).toBe('rejected');
    expect(await outcome(basic('EVIL\\bob', 'b0b'))).toBe('rejected');
    expect(await outcome('not base64 without colon')).toBe('rejected');
  });

  it('keeps everything after the first colon as the password', async () => {
    const colons = new BasicAuthScheme([{ username: 'c', password: 'a:b:c' }]);
    expect((await colons.authenticate(basic('c', 'a:b:c'))).outcome).toBe('authenticated');
  });
});

describe('Authenticator', () => {
  it('challenges with every enabled scheme when no credentials are sent', async () => {
    const bearerLike: AuthScheme = {
      scheme: 'Bearer',
      challenge: () => 'Bearer realm="x"',
      authenticate: () => Promise.resolve<AuthResult>({ outcome: 'rejected', reason: 'no' }),
    };
    const auth = new Authenticator(
      [new BasicAuthScheme([{ username: 'a', password: 'b' }]), bearerLike],
      false,
    );
    const decision = await auth.authenticate(requestWith());
    expect(decision.ok).toBe(false);
    expect(!decision.ok && decision.challenges).toEqual([
      'Basic realm="Keyfactor Command Simulator"',
      'Bearer realm="x"',
    ]);
  });

  it('lets anonymous callers in only when allowed, but still checks credentials that are sent', async () => {
    const auth = new Authenticator([new BasicAuthScheme([{ username: 'a', password: 'b' }])], true);
    expect((await auth.authenticate(requestWith())).ok).toBe(true);
    expect((await auth.authenticate(requestWith(`Basic ${basic('a', 'wrong')}`))).ok).toBe(false);
  });

  it('refuses a scheme that is not enabled', async () => {
    const auth = new Authenticator([new BasicAuthScheme([{ username: 'a', password: 'b' }])], false);
    const decision = await auth.authenticate(requestWith('Bearer abc'));
    expect(!decision.ok && decision.message).toMatch(/not enabled/);
  });

  it('relays a multi-leg scheme continuation as the only challenge', async () => {
    const negotiate: AuthScheme = {
      scheme: 'Negotiate',
      challenge: () => 'Negotiate',
      authenticate: () =>
        Promise.resolve<AuthResult>({ outcome: 'continue', wwwAuthenticate: 'Negotiate c2VydmVy' }),
    };
    const decision = await new Authenticator([negotiate], false).authenticate(
      requestWith('negotiate Y2xpZW50'),
    );
    expect(!decision.ok && decision.challenges).toEqual(['Negotiate c2VydmVy']);
  });
});
