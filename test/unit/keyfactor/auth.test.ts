import { describe, expect, it } from 'vitest';
import axios from 'axios';
import {
  BasicAuth,
  CommandClient,
  CommandError,
  OAuth2ClientCredentialsAuth,
  authFromSettings,
  normaliseBasicUsername,
} from '#shared/keyfactor/index';

describe('normaliseBasicUsername', () => {
  it('keeps DOMAIN\\user, turns user@domain into domain\\user, leaves a bare user alone', () => {
    expect(normaliseBasicUsername('CORP\\alice')).toBe('CORP\\alice');
    expect(normaliseBasicUsername('alice@corp.example')).toBe('corp.example\\alice');
    expect(normaliseBasicUsername('alice')).toBe('alice');
    expect(normaliseBasicUsername('@corp')).toBe('@corp');
  });
});

describe('BasicAuth', () => {
  it('sends base64(DOMAIN\\user:password) and never retries a refused password', async () => {
    const auth = new BasicAuth('alice@corp', 'pa:ss');
    expect(await auth.authorization()).toBe(`Basic ${Buffer.from('corp\\alice:pa:ss').toString('base64')}`);
    expect(auth.principal).toBe('corp\\alice');
    expect(await auth.refreshAfterUnauthorized()).toBe(false);
  });

  it('requires both a username and a password', () => {
    expect(() => new BasicAuth('', 'x')).toThrow(/username/);
    expect(() => new BasicAuth('alice', '')).toThrow(/password/);
  });
});

describe('authFromSettings', () => {
  const url = 'https://command.example.com/KeyfactorAPI';
  it('chooses Basic or OAuth2 from the fields given', () => {
    expect(authFromSettings({ url, username: 'a', password: 'b' })).toBeInstanceOf(BasicAuth);
    expect(
      authFromSettings({ url, token_url: 'https://idp/token', client_id: 'c', client_secret: 's' }),
    ).toBeInstanceOf(OAuth2ClientCredentialsAuth);
  });

  it('refuses two methods, half a method, or none, naming what is missing', () => {
    expect(() =>
      authFromSettings({ url, username: 'a', password: 'b', token_url: 'https://idp/token' }),
    ).toThrow(/not both/);
    expect(() => authFromSettings({ url, token_url: 'https://idp/token', client_id: 'c' })).toThrow(
      /missing client_secret/,
    );
    expect(() => authFromSettings({ url, username: 'a' })).toThrow(/missing password/);
    expect(() => authFromSettings({ url })).toThrow(CommandError);
  });

  it('never puts a secret into the error message', () => {
    try {
      authFromSettings({ url, token_url: 'https://idp/token', client_secret: 'TOPSECRET' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('TOPSECRET');
    }
  });
});

describe('CommandClient construction', () => {
  const auth = new BasicAuth('a', 'b');
  it('rejects a URL that is not http(s) or carries credentials', () => {
    expect(() => new CommandClient({ baseUrl: 'not a url', auth })).toThrow(/not a URL/);
    expect(() => new CommandClient({ baseUrl: 'ftp://x/KeyfactorAPI', auth })).toThrow(/https/);
    expect(() => new CommandClient({ baseUrl: 'https://u:p@x/KeyfactorAPI', auth })).toThrow(/credentials/);
  });

  it('drops trailing slashes from the base URL', () => {
    expect(new CommandClient({ baseUrl: 'https://x.example/KeyfactorAPI//', auth }).baseUrl).toBe(
      'https://x.example/KeyfactorAPI',
    );
  });

  it('requires every OAuth2 field', () => {
    expect(
      () =>
        new OAuth2ClientCredentialsAuth({ tokenUrl: '', clientId: 'c', clientSecret: 's' }, axios.create()),
    ).toThrow(/tokenUrl/);
  });
});
