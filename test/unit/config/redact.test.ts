// --print-config redaction and the mapping to the Command client's connection settings.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commandConnectionSettings,
  REDACTED,
  redactConfig,
  type RemoteScanConfig,
} from '#shared/config/index';
import {
  authFromSettings,
  BasicAuth,
  KerberosAuth,
  OAuth2ClientCredentialsAuth,
} from '#shared/keyfactor/index';
import { load, withKeyfactor } from './helpers';

const SECRETS = {
  BASIC_PW: 'basic-Pa55word-value',
  CLIENT_SECRET: 'oauth-client-secret-value',
  SENSOR_TOKEN: 'ingestion-token-value',
  KRB_PW: 'kerberos-password-value',
};

const URL_LINE = '        url: https://command.example.com/KeyfactorAPI';

function withExport(keyfactorBody: string): string {
  return `scan_config:
  plugins: [keyfactor, export, local_export]
  config:
    keyfactor:
      plugin_config:
${keyfactorBody}
        ca_cert: test/fixtures/config/ca.pem
    export:
      plugin_config:
        sensor_name: Remote
        url: https://ingest.example.com/v3
        token: \${env:SENSOR_TOKEN}
        labels: [{ env: prod }]
    local_export:
      plugin_config: {}
`;
}

const VARIANTS: Record<string, string> = {
  basic: `${URL_LINE}\n        username: svc\n        password: \${env:BASIC_PW}`,
  oauth2: `${URL_LINE}
        token_url: https://idp.example.com/token
        client_id: kfsensor
        client_secret: \${env:CLIENT_SECRET}
        scope: api`,
  kerberos: `${URL_LINE}\n        kerberos:\n          upn: svc@EXAMPLE.COM\n          password: \${env:KRB_PW}`,
};

function loadVariant(name: string): RemoteScanConfig {
  return load(withExport(VARIANTS[name]!), { env: { ...SECRETS, USER: 'alice' }, cwd: process.cwd() });
}

describe('redactConfig', () => {
  for (const name of Object.keys(VARIANTS)) {
    it(`leaves no secret value anywhere in a ${name} config`, () => {
      const config = loadVariant(name);
      const before = JSON.stringify(config);
      const redacted = JSON.stringify(redactConfig(config));
      // The secrets were really in the config (so the test can fail), and none survives, under any key.
      expect(Object.values(SECRETS).some((secret) => before.includes(secret))).toBe(true);
      for (const secret of Object.values(SECRETS)) expect(redacted).not.toContain(secret);
      expect(redacted).toContain(REDACTED);
      // The original is untouched, and what is not secret is still shown.
      expect(JSON.stringify(config)).toBe(before);
      expect(redactConfig(config).keyfactor.url).toBe('https://command.example.com/KeyfactorAPI');
      expect(redactConfig(config).export?.labels).toEqual([{ name: 'env', value: 'prod' }]);
      expect(redactConfig(config).keyfactor.caCert?.pem).toContain('BEGIN CERTIFICATE');
    });
  }

  it('leaves no trace of any secret value, whatever it is', () => {
    const secret = fc.string({ minLength: 1, maxLength: 40 }).map((tail) => `S3CR3T${tail}`);
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(VARIANTS)),
        secret,
        secret,
        (variant, commandSecret, token) => {
          const env = {
            BASIC_PW: commandSecret,
            CLIENT_SECRET: commandSecret,
            KRB_PW: commandSecret,
            SENSOR_TOKEN: token,
            USER: 'u',
          };
          const config = load(withExport(VARIANTS[variant]!), { env, cwd: process.cwd() });
          const redacted = JSON.stringify(redactConfig(config));
          for (const value of [commandSecret, token]) {
            expect(JSON.stringify(config)).toContain(JSON.stringify(value).slice(1, -1));
            expect(redacted).not.toContain(JSON.stringify(value).slice(1, -1));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('redacts the fields by name', () => {
    const basic = redactConfig(loadVariant('basic'));
    expect(basic.keyfactor.auth).toEqual({ method: 'basic', username: 'svc', password: REDACTED });
    expect(basic.export?.token).toBe(REDACTED);
    const oauth = redactConfig(loadVariant('oauth2'));
    expect(oauth.keyfactor.auth).toMatchObject({ clientId: 'kfsensor', clientSecret: REDACTED });
    const kerberos = redactConfig(loadVariant('kerberos'));
    expect(kerberos.keyfactor.auth).toMatchObject({
      upn: 'svc@EXAMPLE.COM',
      password: REDACTED,
      keytab: null,
    });
  });
});

describe('commandConnectionSettings', () => {
  it('maps Basic so that the Command client builds Basic auth', () => {
    const settings = commandConnectionSettings(loadVariant('basic').keyfactor);
    expect(settings).toMatchObject({
      url: 'https://command.example.com/KeyfactorAPI',
      username: 'svc',
      password: SECRETS.BASIC_PW,
      insecure_skip_tls_verify: false,
      pageSize: 1000,
      maxConcurrency: 4,
    });
    expect(settings.ca_cert).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(authFromSettings(settings)).toBeInstanceOf(BasicAuth);
  });

  it('maps OAuth2 so that the Command client builds client-credentials auth', () => {
    const settings = commandConnectionSettings(loadVariant('oauth2').keyfactor);
    expect(settings).toMatchObject({
      token_url: 'https://idp.example.com/token',
      client_id: 'kfsensor',
      client_secret: SECRETS.CLIENT_SECRET,
      scope: 'api',
      audience: undefined,
    });
    expect(authFromSettings(settings)).toBeInstanceOf(OAuth2ClientCredentialsAuth);
  });

  it('maps Kerberos to the nested kerberos block with the SPNEGO client names', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kfsensor-config-'));
    writeFileSync(path.join(dir, 'svc.keytab'), 'k');
    const config = load(
      withKeyfactor(`${URL_LINE}\n        kerberos: { upn: svc@EXAMPLE.COM, keytab: svc.keytab }`),
      {
        cwd: dir,
      },
    );
    const settings = commandConnectionSettings(config.keyfactor);
    expect(settings.kerberos).toEqual({
      upn: 'svc@EXAMPLE.COM',
      keytab: path.join(dir, 'svc.keytab'),
      password: undefined,
      spn: 'HTTP/command.example.com',
      realm: 'EXAMPLE.COM',
      krb5_conf: '/etc/krb5.conf',
    });
    const auth = authFromSettings(settings);
    expect(auth).toBeInstanceOf(KerberosAuth);
    expect((auth as KerberosAuth).spn).toBe('HTTP/command.example.com');
    expect(settings.username).toBeUndefined();
    expect(settings.client_id).toBeUndefined();
  });
});
