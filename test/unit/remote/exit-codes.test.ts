// Exit codes of `kfsensor -c` from the scan's end state, and the config's credentials in the core's shape.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config/index';
import { CommandAuthenticationError, CommandKerberosError } from '#shared/keyfactor/index';
import { REMOTE_EXIT, credentialsOf, exitCodeOf, isAuthError } from '#shared/remote/run';
import type { ScanRecord } from '#shared/scan/index';

const scan = (state: ScanRecord['state']) => ({ state }) as ScanRecord;

describe('exit codes', () => {
  it('maps end states: COMPLETED 0, PARTIAL 4, CANCELLED 130, FAILED 3 for refused credentials else 1', () => {
    expect(exitCodeOf(scan('COMPLETED'), null)).toBe(0);
    expect(exitCodeOf(scan('PARTIAL'), null)).toBe(4);
    expect(exitCodeOf(scan('CANCELLED'), null)).toBe(130);
    expect(exitCodeOf(scan('FAILED'), null)).toBe(1);
    expect(exitCodeOf(scan('FAILED'), new CommandAuthenticationError('401'))).toBe(3);
    expect(exitCodeOf(scan('RUNNING'), null)).toBe(1);
    expect(REMOTE_EXIT).toEqual({ completed: 0, other: 1, config: 2, auth: 3, partial: 4, cancelled: 130 });
  });

  it('counts Basic/OAuth2/Kerberos refusals as authentication errors, nothing else', () => {
    expect(isAuthError(new CommandAuthenticationError('refused'))).toBe(true);
    expect(isAuthError(new CommandKerberosError('kinit failed', 'wrong-password'))).toBe(true);
    expect(isAuthError(new Error('ECONNREFUSED'))).toBe(false);
  });
});

describe('credentialsOf', () => {
  const yaml = (auth: string) => `
scan_config:
  plugins: [keyfactor]
  config:
    keyfactor:
      name: keyfactor
      plugin_config:
        url: https://command.example.com/KeyfactorAPI
${auth}`;

  it('OAuth2: the five fields, nothing empty', () => {
    const config = loadConfig(
      {
        text: yaml(
          '        token_url: https://login.example.com/t\n        client_id: id\n        client_secret: s3\n        scope: api\n',
        ),
        fileName: 'c.yml',
      },
      { env: {} },
    );
    expect(credentialsOf(config)).toEqual({
      token_url: 'https://login.example.com/t',
      client_id: 'id',
      client_secret: 's3',
      scope: 'api',
    });
  });

  it('Kerberos: the block as CommandCredentials.kerberos, SPN defaulted from the url', () => {
    const config = loadConfig(
      {
        text: yaml('        kerberos:\n          upn: svc@EXAMPLE.COM\n          password: pw\n'),
        fileName: 'c.yml',
      },
      { env: {} },
    );
    expect(credentialsOf(config)).toEqual({
      kerberos: {
        upn: 'svc@EXAMPLE.COM',
        password: 'pw',
        spn: 'HTTP/command.example.com',
        realm: 'EXAMPLE.COM',
        krb5_conf: '/etc/krb5.conf',
      },
    });
  });
});
