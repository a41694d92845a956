// Each plugin's settings: auth methods, URLs, limits and defaults, query_filter, ca_cert, export and local_export.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pemToDers } from '#shared/x509/index';
import { configError, issueAt, load, OAUTH, withKeyfactor } from './helpers';

const PC = 'scan_config.config.keyfactor.plugin_config';
const URL_LINE = '        url: https://command.example.com/KeyfactorAPI';
const BASIC = `${URL_LINE}\n        username: 'EXAMPLE\\svc'\n        password: basic-password`;
const CA_PEM = 'test/fixtures/config/ca.pem';

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'kfsensor-config-'));
}

describe('keyfactor auth', () => {
  it('reads Basic', () => {
    const config = load(withKeyfactor(BASIC));
    expect(config.keyfactor.auth).toEqual({
      method: 'basic',
      username: 'EXAMPLE\\svc',
      password: 'basic-password',
    });
  });

  it('reads OAuth2 with an optional audience', () => {
    const config = load(withKeyfactor(`${OAUTH}\n        audience: https://command.example.com`));
    expect(config.keyfactor.auth).toEqual({
      method: 'oauth2',
      tokenUrl: 'https://idp.example.com/oauth2/token',
      clientId: 'kfsensor',
      clientSecret: 'oauth-client-secret',
      scope: 'api://command/.default',
      audience: 'https://command.example.com',
    });
  });

  it('rejects two auth methods, naming the keys of each', () => {
    const error = configError(withKeyfactor(`${OAUTH}\n        username: u\n        password: p`));
    expect(issueAt(error, PC)).toMatchObject({ line: 6, column: 7 });
    expect(issueAt(error, PC).message).toBe(
      'Basic (username, password) and OAuth2 (token_url, client_id, client_secret, scope) are both given; keep exactly one auth method',
    );
  });

  it('names the fields a half-filled OAuth2 lacks', () => {
    const error = configError(
      withKeyfactor(`${URL_LINE}\n        token_url: https://idp.example.com/token\n        client_id: c`),
    );
    expect(error.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [`${PC}.client_secret`, 'is required for OAuth2 auth (token_url, client_id are given)'],
      [`${PC}.scope`, 'is required for OAuth2 auth (token_url, client_id are given)'],
    ]);
    // A missing key points at the line of the map it belongs in.
    expect(error.issues[0]?.line).toBe(6);
  });

  it('names a missing password for Basic, and asks for credentials when there are none', () => {
    expect(
      issueAt(configError(withKeyfactor(`${URL_LINE}\n        username: u`)), `${PC}.password`).message,
    ).toBe('is required for Basic auth (username is given)');
    expect(issueAt(configError(withKeyfactor(URL_LINE)), PC).message).toMatch(
      /^no Command credentials: give username/,
    );
  });

  it('reads Kerberos with a keytab, defaulting spn, realm and krb5_conf', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'svc.keytab'), 'keytab');
    const config = load(
      withKeyfactor(
        `${URL_LINE}\n        kerberos:\n          upn: svc-kfsensor@example.com\n          keytab: svc.keytab`,
      ),
      { cwd: dir },
    );
    expect(config.keyfactor.auth).toEqual({
      method: 'kerberos',
      upn: 'svc-kfsensor@example.com',
      keytab: path.join(dir, 'svc.keytab'),
      password: null,
      spn: 'HTTP/command.example.com',
      realm: 'EXAMPLE.COM',
      krb5Conf: '/etc/krb5.conf',
    });
  });

  it('reads Kerberos with a password and explicit spn, realm and krb5_conf', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'krb5.conf'), '[libdefaults]\n');
    const config = load(
      withKeyfactor(`${URL_LINE}
        kerberos:
          upn: svc
          password: kerberos-password
          spn: HTTP/command.internal
          realm: CORP.EXAMPLE
          krb5_conf: ${path.join(dir, 'krb5.conf')}`),
    );
    expect(config.keyfactor.auth).toMatchObject({
      method: 'kerberos',
      keytab: null,
      password: 'kerberos-password',
      spn: 'HTTP/command.internal',
      realm: 'CORP.EXAMPLE',
      krb5Conf: path.join(dir, 'krb5.conf'),
    });
  });

  it('requires exactly one of keytab and password, a readable keytab, and no unknown kerberos keys', () => {
    const none = configError(withKeyfactor(`${URL_LINE}\n        kerberos:\n          upn: svc@EXAMPLE.COM`));
    expect(issueAt(none, `${PC}.kerberos`).message).toMatch(/needs a keytab .* or the UPN's password/);
    const both = configError(
      withKeyfactor(`${URL_LINE}\n        kerberos: { upn: svc, keytab: /k, password: p }`),
    );
    expect(issueAt(both, `${PC}.kerberos`).message).toBe('give either keytab or password, not both');
    const missing = configError(
      withKeyfactor(`${URL_LINE}\n        kerberos: { upn: svc, keytab: /nonexistent/svc.keytab }`),
    );
    expect(issueAt(missing, `${PC}.kerberos.keytab`).message).toMatch(
      /cannot read the keytab file \/nonexistent\/svc.keytab \(ENOENT\)/,
    );
    const unknown = configError(
      withKeyfactor(`${URL_LINE}\n        kerberos: { upn: svc, password: p, realn: X }`),
    );
    expect(issueAt(unknown, `${PC}.kerberos.realn`).message).toBe(
      'unknown key "realn"; did you mean "realm"?',
    );
    for (const upn of ['@EXAMPLE.COM', 'svc@', 'EXAMPLE\\\\svc', 'HTTP/host']) {
      const bad = configError(withKeyfactor(`${URL_LINE}\n        kerberos: { upn: "${upn}", password: p }`));
      expect(issueAt(bad, `${PC}.kerberos.upn`).message).toMatch(/^is not a user principal/);
    }
    const noUpn = configError(withKeyfactor(`${URL_LINE}\n        kerberos: { password: p }`));
    expect(issueAt(noUpn, `${PC}.kerberos.upn`).message).toBe('is required');
  });

  it('rejects Kerberos next to Basic', () => {
    const error = configError(withKeyfactor(`${BASIC}\n        kerberos: { upn: svc, password: p }`));
    expect(issueAt(error, PC).message).toMatch(
      /^Basic \(username, password\) and Kerberos \(kerberos\) are both given/,
    );
  });
});

describe('keyfactor settings', () => {
  it('applies defaults', () => {
    expect(load(withKeyfactor(BASIC)).keyfactor).toMatchObject({
      queryFilter: null,
      caCert: null,
      insecureSkipTlsVerify: false,
      pageSize: 1000,
      concurrency: 4,
      autoResolutionInterval: 5,
    });
  });

  it('checks ranges and types', () => {
    const error = configError(
      withKeyfactor(`${BASIC}
        page_size: 5001
        concurrency: 0
        auto_resolution_interval: 1.5
        insecure_skip_tls_verify: "yes"`),
    );
    expect(issueAt(error, `${PC}.page_size`).message).toBe('must be at most 5000');
    expect(issueAt(error, `${PC}.concurrency`).message).toBe('must be at least 1');
    expect(issueAt(error, `${PC}.auto_resolution_interval`).message).toBe('must be a whole number');
    expect(issueAt(error, `${PC}.insecure_skip_tls_verify`).message).toBe(
      'must be true or false (found text)',
    );
    const ok = load(
      withKeyfactor(
        `${BASIC}\n        page_size: 5000\n        concurrency: 32\n        auto_resolution_interval: 1`,
      ),
    );
    expect(ok.keyfactor).toMatchObject({ pageSize: 5000, concurrency: 32, autoResolutionInterval: 1 });
  });

  it('requires https, allowing http only to loopback', () => {
    const http = configError(
      withKeyfactor(BASIC.replace('https://command.example.com', 'http://command.example.com')),
    );
    expect(issueAt(http, `${PC}.url`)).toMatchObject({ line: 7, column: 14 });
    expect(issueAt(http, `${PC}.url`).message).toMatch(
      /^must use https \(http is allowed only for localhost/,
    );
    for (const host of ['127.0.0.1:8443', 'localhost:1234', '[::1]:80']) {
      expect(
        load(withKeyfactor(BASIC.replace('https://command.example.com', `http://${host}`))).keyfactor.url,
      ).toBe(`http://${host}/KeyfactorAPI`);
    }
    expect(
      issueAt(
        configError(withKeyfactor(BASIC.replace('https://command.example.com/KeyfactorAPI', 'command'))),
        `${PC}.url`,
      ).message,
    ).toBe('must be a full URL such as https://host/path');
    const tokenUrl = configError(withKeyfactor(OAUTH.replace('https://idp', 'http://idp')));
    expect(issueAt(tokenUrl, `${PC}.token_url`).message).toMatch(/^must use https/);
    expect(
      issueAt(configError(withKeyfactor(BASIC.replace('https://', 'ftp://'))), `${PC}.url`).message,
    ).toBe('must be an https URL');
  });

  it('warns when TLS checks are off', () => {
    const config = load(withKeyfactor(`${BASIC}\n        insecure_skip_tls_verify: true`));
    expect(config.keyfactor.insecureSkipTlsVerify).toBe(true);
    expect(config.warnings.map((warning) => warning.path)).toContain(`${PC}.insecure_skip_tls_verify`);
  });

  it('keeps a valid query_filter as written', () => {
    const filter = "IssuedDate -gt '2025-01-01' AND KeySizeInBits -lt 2048";
    expect(load(withKeyfactor(`${BASIC}\n        query_filter: "${filter}"`)).keyfactor.queryFilter).toBe(
      filter,
    );
    expect(load(withKeyfactor(`${BASIC}\n        query_filter: "  "`)).keyfactor.queryFilter).toBeNull();
    expect(load(withKeyfactor(`${BASIC}\n        query_filter:`)).keyfactor.queryFilter).toBeNull();
  });

  it('reports an invalid query_filter with the YAML line and the column inside the filter', () => {
    const error = configError(
      withKeyfactor(
        `${BASIC}\n        query_filter: "IssuedDate -gt '2025-01-01' AND (KeySizeInBits -lt 2048"`,
      ),
    );
    const issue = issueAt(error, `${PC}.query_filter`);
    expect(issue.line).toBe(10);
    expect(issue.column).toBe(23);
    expect(issue.message).toBe('missing ")" for the "(" at column 33');
    expect(issue.message).not.toMatch(/^query_filter:/);
    const badDate = issueAt(
      configError(withKeyfactor(`${BASIC}\n        query_filter: "IssuedDate -gt 'yesterday'"`)),
      `${PC}.query_filter`,
    );
    expect(badDate.message).toMatch(/date.* at column 16/);
  });

  it('reads ca_cert from a PEM file, a DER file or inline PEM, and checks it holds a certificate', () => {
    const pem = readFileSync(CA_PEM, 'utf8');
    const fromFile = load(withKeyfactor(`${BASIC}\n        ca_cert: ${CA_PEM}`), { cwd: process.cwd() });
    expect(fromFile.keyfactor.caCert).toMatchObject({ source: 'file', path: path.resolve(CA_PEM), count: 1 });
    expect(pemToDers(fromFile.keyfactor.caCert?.pem ?? '')).toEqual(pemToDers(pem));

    const dir = tempDir();
    writeFileSync(path.join(dir, 'ca.der'), pemToDers(pem)[0]!);
    const fromDer = load(withKeyfactor(`${BASIC}\n        ca_cert: ca.der`), { cwd: dir });
    expect(fromDer.keyfactor.caCert?.pem).toBe(fromFile.keyfactor.caCert?.pem);

    const inlinePem = pem
      .trim()
      .split('\n')
      .map((line) => `          ${line}`)
      .join('\n');
    const inline = load(withKeyfactor(`${BASIC}\n        ca_cert: |\n${inlinePem}`));
    expect(inline.keyfactor.caCert).toMatchObject({ source: 'inline', path: null, count: 1 });

    writeFileSync(path.join(dir, 'junk.pem'), 'not a certificate at all!');
    const junk = configError(withKeyfactor(`${BASIC}\n        ca_cert: junk.pem`), { cwd: dir });
    expect(issueAt(junk, `${PC}.ca_cert`).message).toMatch(/junk.pem does not hold a readable certificate/);
    const missing = configError(withKeyfactor(`${BASIC}\n        ca_cert: nope.pem`), { cwd: dir });
    expect(issueAt(missing, `${PC}.ca_cert`).message).toMatch(
      /cannot read the CA file .*nope.pem \(ENOENT\)/,
    );
    const broken = configError(
      withKeyfactor(`${BASIC}\n        ca_cert: "-----BEGIN CERTIFICATE-----\\nAAAA"`),
    );
    expect(issueAt(broken, `${PC}.ca_cert`).message).toMatch(
      /the PEM text does not hold a readable certificate/,
    );
  });
});

const exportConfig = (body: string) => `scan_config:
  plugins: [keyfactor, export]
  config:
    keyfactor:
      plugin_config:
${BASIC}
    export:
      name: export
      plugin_config:
${body}
`;

describe('export plugin', () => {
  const base = `        sensor_name: Remote
        url: https://ingest.example.com/v3
        token: t`;

  it('reads labels and defaults sensor_type and ran_by', () => {
    const config = load(
      exportConfig(
        `${base}\n        labels:\n          - env: prod\n          - team: pki\n            site: "7"`,
      ),
    );
    expect(config.export).toMatchObject({
      sensorType: 'Keyfactor Command',
      ranBy: 'alice',
      labels: [
        { name: 'env', value: 'prod' },
        { name: 'team', value: 'pki' },
        { name: 'site', value: '7' },
      ],
    });
  });

  it('requires sensor_type to be exactly "Keyfactor Command"', () => {
    for (const wrong of ['keyfactor command', 'Keyfactor Command ', 'Other']) {
      const error = configError(exportConfig(`${base}\n        sensor_type: "${wrong}"`));
      expect(issueAt(error, 'scan_config.config.export.plugin_config.sensor_type')).toMatchObject({
        line: 15,
        message:
          'must be exactly "Keyfactor Command" (this value identifies the sensor to AgileSec; do not edit it)',
      });
    }
  });

  it('names each missing or malformed key', () => {
    const error = configError(exportConfig('        labels: [{ n: 1 }, []]\n        token: 12345'));
    const at = (key: string) => issueAt(error, `scan_config.config.export.plugin_config.${key}`).message;
    expect(at('sensor_name')).toBe('is required');
    expect(at('url')).toBe('is required');
    expect(at('token')).toBe('must be text (found a number; quote it to make it text)');
    expect(at('labels[0].n')).toBe('must be text (found a number; quote it to make it text)');
    expect(at('labels[1]')).toMatch(/must be a map of name: value \(found a list\)/);
  });

  it('requires https for the ingestion URL', () => {
    const error = configError(exportConfig(base.replace('https://ingest', 'http://ingest')));
    expect(issueAt(error, 'scan_config.config.export.plugin_config.url').message).toMatch(/^must use https/);
  });
});

describe('local_export plugin', () => {
  const localExport = (body: string) =>
    `scan_config:\n  plugins: [keyfactor, local_export]\n  config:\n    keyfactor:\n      plugin_config:\n${BASIC}\n    local_export:\n      plugin_config:\n${body}\n`;

  it('reads output_dir, formats and file_prefix', () => {
    const config = load(
      localExport('        output_dir: reports\n        formats: [cbom]\n        file_prefix: nightly'),
      {
        cwd: '/var/kfsensor',
      },
    );
    expect(config.localExport).toEqual({
      outputDir: '/var/kfsensor/reports',
      formats: ['cbom'],
      filePrefix: 'nightly',
    });
  });

  it('rejects unknown, repeated or no formats and unsafe prefixes', () => {
    const p = 'scan_config.config.local_export.plugin_config';
    expect(issueAt(configError(localExport('        formats: [json]')), `${p}.formats[0]`).message).toBe(
      'must be one of jsonl, csv, cbom',
    );
    expect(issueAt(configError(localExport('        formats: [csv, csv]')), `${p}.formats`).message).toBe(
      'must not list a format twice',
    );
    expect(issueAt(configError(localExport('        formats: []')), `${p}.formats`).message).toBe(
      'must list at least one format',
    );
    expect(
      issueAt(configError(localExport('        file_prefix: ../etc/x')), `${p}.file_prefix`).message,
    ).toMatch(/^must be 1 to 64 letters/);
  });
});
