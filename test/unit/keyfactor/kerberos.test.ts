// Kerberos settings validation, SPN/realm defaults, kinit/GSSAPI error mapping, ccache parsing and the KRB5_* env lock.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CommandError,
  CommandKerberosError,
  CommandTokenError,
  KerberosAuth,
  authFromSettings,
  ccacheTgtEndTime,
  defaultRealmOf,
  kerberosError,
  resolveKerberosSettings,
  resolveSpn,
  withKrb5Env,
  type KerberosErrorContext,
} from '#shared/keyfactor/index';

const URL_ = 'https://command.corp.example.com/KeyfactorAPI';

describe('Kerberos settings', () => {
  it('takes exactly one of keytab and password, naming the fields', () => {
    expect(() => resolveKerberosSettings({ upn: 'alice@CORP' }, URL_)).toThrow(
      /need keytab \(path to a keytab\) or password/,
    );
    expect(() =>
      resolveKerberosSettings({ upn: 'alice@CORP', keytab: '/k', password: 'secret-pw' }, URL_),
    ).toThrow(/either keytab or password for the upn, not both/);
    expect(() => resolveKerberosSettings({ upn: '', password: 'p' }, URL_)).toThrow(/need upn/);
    for (const upn of ['@CORP', 'alice@', 'a b@CORP', 'CORP\\alice', 'HTTP/host@CORP']) {
      expect(() => resolveKerberosSettings({ upn, password: 'p' }, URL_), upn).toThrow(
        /is not a user principal/,
      );
    }
  });

  it('never puts the password into a settings error', () => {
    try {
      resolveKerberosSettings({ upn: 'alice', keytab: '/k', password: 'TOPSECRET-42' }, URL_);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('TOPSECRET-42');
    }
  });

  it('defaults the SPN to HTTP/<host of the url>, the realm to the UPN suffix and krb5.conf to /etc/krb5.conf', () => {
    const r = resolveKerberosSettings({ upn: 'alice@corp.example.com', keytab: '/etc/alice.keytab' }, URL_);
    expect(r).toMatchObject({
      user: 'alice',
      realm: 'CORP.EXAMPLE.COM',
      spn: 'HTTP/command.corp.example.com',
      gssService: 'HTTP@command.corp.example.com',
      krb5Conf: '/etc/krb5.conf',
      method: { kind: 'keytab', keytab: '/etc/alice.keytab' },
    });
    const explicit = resolveKerberosSettings(
      {
        upn: 'alice',
        password: 'p',
        realm: 'AD.EXAMPLE',
        spn: 'HTTP/iis01.example',
        krb5_conf: '/opt/krb5.conf',
      },
      URL_,
    );
    expect(explicit).toMatchObject({ user: 'alice', realm: 'AD.EXAMPLE', spn: 'HTTP/iis01.example' });
    expect(explicit.krb5Conf).toBe('/opt/krb5.conf');
    // Without a realm anywhere, krb5.conf's default_realm is read at login.
    expect(resolveKerberosSettings({ upn: 'alice', password: 'p' }, URL_).realm).toBeUndefined();
  });

  it('accepts the SPN as HTTP/host, HTTP/host@REALM or HTTP@host, and rejects anything else', () => {
    expect(resolveSpn('HTTP/iis.example', URL_)).toEqual({
      spn: 'HTTP/iis.example',
      gssService: 'HTTP@iis.example',
    });
    expect(resolveSpn('HTTP/iis.example@CORP', URL_)).toEqual({
      spn: 'HTTP/iis.example',
      gssService: 'HTTP@iis.example',
    });
    expect(resolveSpn('HTTP@iis.example', URL_)).toEqual({
      spn: 'HTTP/iis.example',
      gssService: 'HTTP@iis.example',
    });
    expect(resolveSpn('  ', 'http://[::1]:8080/KeyfactorAPI')).toEqual({
      spn: 'HTTP/::1',
      gssService: 'HTTP@::1',
    });
    expect(resolveSpn(undefined, 'http://127.0.0.1:5000/KeyfactorAPI').spn).toBe('HTTP/127.0.0.1');
    for (const bad of ['HTTP', 'HTTP/', '/host', 'HTTP/a/b']) {
      expect(() => resolveSpn(bad, URL_), bad).toThrow(/is not a service principal; write it as HTTP\//);
    }
    expect(() => resolveSpn(undefined, 'not a url')).toThrow(/valid Command url/);
  });

  it("reads default_realm from krb5.conf's [libdefaults] only", () => {
    const conf = `# comment\n[realms]\n  default_realm = WRONG\n[libdefaults]\n  dns_lookup_kdc = false\n  default_realm = CORP.EXAMPLE ; trailing\n`;
    expect(defaultRealmOf(conf)).toBe('CORP.EXAMPLE');
    expect(defaultRealmOf('[libdefaults]\n  rdns = false\n')).toBeUndefined();
  });
});

describe('authFromSettings with Kerberos', () => {
  it('chooses Kerberos for a kerberos block', () => {
    const auth = authFromSettings({ url: URL_, kerberos: { upn: 'alice@CORP', keytab: '/k' } });
    expect(auth).toBeInstanceOf(KerberosAuth);
    expect(auth.scheme).toBe('Negotiate');
    expect(auth.principal).toBe('alice@CORP');
  });

  it('refuses Kerberos together with Basic or OAuth2, and a half-filled kerberos block', () => {
    expect(() =>
      authFromSettings({ url: URL_, username: 'a', password: 'b', kerberos: { upn: 'a', keytab: '/k' } }),
    ).toThrow(/exactly one of .*kerberos.*; got username\/password \(Basic\) and kerberos/);
    expect(() =>
      authFromSettings({
        url: URL_,
        token_url: 'https://idp/token',
        client_id: 'c',
        client_secret: 's',
        kerberos: { upn: 'a', password: 'p' },
      }),
    ).toThrow(/got token_url\/client_id\/client_secret \(OAuth2\) and kerberos/);
    expect(() => authFromSettings({ url: URL_, kerberos: { upn: 'alice' } })).toThrow(
      /keytab .* or password/,
    );
    expect(() => authFromSettings({ url: URL_ })).toThrow(/kerberos \(upn with keytab or password\)/);
    // The existing Basic/OAuth2 message stays as it was.
    expect(() =>
      authFromSettings({ url: URL_, username: 'a', password: 'b', token_url: 'https://idp/token' }),
    ).toThrow(/not both/);
  });
});

describe('Kerberos error messages', () => {
  const ctx: KerberosErrorContext = {
    principal: 'alice@CORP.EXAMPLE',
    spn: 'HTTP/command.corp.example',
    krb5Conf: '/etc/krb5.conf',
    password: 'S3cret-Pa55',
  };
  const keytabCtx: KerberosErrorContext = { ...ctx, password: undefined, keytab: '/etc/alice.keytab' };
  const GSS = 'Unspecified GSS failure.  Minor code may provide more information: ';

  const cases: Array<[string, string, KerberosErrorContext, RegExp]> = [
    ['kinit: Password incorrect while getting initial credentials', 'wrong-password', ctx, /check password/],
    [
      'kinit: Preauthentication failed while getting initial credentials',
      'wrong-password',
      ctx,
      /check password/,
    ],
    [
      'kinit: Preauthentication failed while getting initial credentials',
      'wrong-password',
      keytabCtx,
      /keytab \/etc\/alice\.keytab .* out of date/,
    ],
    [
      "kinit: Client 'bob@CORP.EXAMPLE' not found in Kerberos database while getting initial credentials",
      'unknown-principal',
      ctx,
      /does not know the user alice@CORP\.EXAMPLE; check upn and realm/,
    ],
    [
      `${GSS}Server HTTP/command.corp.example@CORP.EXAMPLE not found in Kerberos database`,
      'unknown-spn',
      ctx,
      /service principal HTTP\/command\.corp\.example.*set spn/,
    ],
    [`${GSS}Clock skew too great`, 'clock-skew', ctx, /synchronise this host's clock/],
    ['kinit: Clock skew too great while getting initial credentials', 'clock-skew', ctx, /NTP/],
    [`${GSS}Ticket expired`, 'expired', ctx, /ticket of alice@CORP\.EXAMPLE has expired/],
    [
      'The referenced credential has expired: Credentials cache file permissions incorrect',
      'expired',
      ctx,
      /has expired/,
    ],
    ['kinit: Password has expired while getting initial credentials', 'password-expired', ctx, /change it/],
    [
      "kinit: Client's credentials have been revoked while getting initial credentials",
      'account-disabled',
      ctx,
      /disabled, locked out or expired/,
    ],
    [
      "kinit: Cannot contact any KDC for realm 'CORP.EXAMPLE' while getting initial credentials",
      'kdc-unreachable',
      ctx,
      /No KDC for realm CORP\.EXAMPLE answered; check the realm's kdc entries in \/etc\/krb5\.conf/,
    ],
    [
      'kinit: Cannot find KDC for realm "CORP.EXAMPLE" while getting initial credentials',
      'kdc-unreachable',
      ctx,
      /port 88/,
    ],
    [
      'kinit: Configuration file does not specify default realm when parsing name alice',
      'no-default-realm',
      ctx,
      /set realm, or write upn as user@REALM/,
    ],
    [
      'kinit: Improper format of Kerberos configuration file while initializing Kerberos 5 library',
      'krb5-conf-invalid',
      ctx,
      /\/etc\/krb5\.conf is not a valid Kerberos configuration/,
    ],
    [
      "kinit: Key table file '/etc/alice.keytab' not found while getting initial credentials",
      'keytab-missing',
      keytabCtx,
      /keytab \/etc\/alice\.keytab does not exist/,
    ],
    [
      'kinit: Keytab contains no suitable keys for alice@CORP.EXAMPLE while getting initial credentials',
      'keytab-no-keys',
      keytabCtx,
      /holds no key for alice@CORP\.EXAMPLE/,
    ],
    [
      'No credentials were supplied, or the credentials were unavailable or inaccessible: SPNEGO cannot find mechanisms to negotiate',
      'no-credentials',
      ctx,
      /No Kerberos ticket/,
    ],
    [
      'kinit: KDC has no support for encryption type while getting initial credentials',
      'enctype',
      ctx,
      /enable AES/,
    ],
    [
      'kinit: something new went wrong',
      'other',
      ctx,
      /Kerberos authentication of alice@CORP\.EXAMPLE failed: kinit: something new/,
    ],
  ];

  it.each(cases)('%s → %s', (raw, reason, context, message) => {
    const err = kerberosError(raw, context);
    expect(err).toBeInstanceOf(CommandKerberosError);
    expect(err).toBeInstanceOf(CommandTokenError);
    expect(err.reason).toBe(reason);
    expect(err.message).toMatch(message);
    // The tool's own words stay, for searching the MIT documentation.
    expect(err.message).toContain(raw.replace(/\s+/g, ' ').slice(0, 30));
  });

  it('only an unreachable KDC is worth retrying', () => {
    expect(kerberosError("Cannot contact any KDC for realm 'X'", ctx).transient).toBe(true);
    expect(kerberosError('Password incorrect', ctx).transient).toBe(false);
  });

  it('removes the password if a tool ever echoes it', () => {
    const err = kerberosError(`kinit: weird failure near S3cret-Pa55 here`, ctx);
    expect(err.message).not.toContain('S3cret-Pa55');
    expect(err.message).toContain('[redacted]');
  });
});

/** An MIT v4 FILE ccache: header with the DeltaTime tag, a config entry, then a TGT ending at `end` (s). */
function ccache(end: number, options: { configFirst?: boolean; truncate?: number } = {}): Buffer {
  const u16 = (v: number) => Buffer.from([v >> 8, v & 0xff]);
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return b;
  };
  const octets = (s: string | Buffer) => {
    const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
    return Buffer.concat([u32(b.length), b]);
  };
  const principal = (realm: string, ...components: string[]) =>
    Buffer.concat([u32(1), u32(components.length), octets(realm), ...components.map((c) => octets(c))]);
  const cred = (server: Buffer, endtime: number) =>
    Buffer.concat([
      principal('CORP', 'alice'),
      server,
      u16(18),
      octets(Buffer.alloc(32, 1)),
      u32(Math.max(0, endtime - 36000)),
      u32(Math.max(0, endtime - 36000)),
      u32(endtime),
      u32(0),
      Buffer.from([0]),
      u32(0x40e10000),
      u32(0),
      u32(0),
      octets(Buffer.alloc(200, 2)),
      octets(''),
    ]);
  const parts = [
    u16(0x0504),
    u16(12),
    u16(1),
    u16(8),
    u32(0),
    u32(0),
    principal('CORP', 'alice'),
    ...(options.configFirst
      ? [cred(principal('X-CACHECONF:', 'krb5_ccache_conf_data', 'fast_avail', 'krbtgt/CORP@CORP'), 0)]
      : []),
    cred(principal('CORP', 'krbtgt', 'CORP'), end),
    cred(principal('CORP', 'HTTP', 'iis.corp'), end - 10),
  ];
  const all = Buffer.concat(parts);
  return options.truncate ? all.subarray(0, options.truncate) : all;
}

describe('ccacheTgtEndTime', () => {
  it('finds the TGT end time, skipping MIT config entries', () => {
    expect(ccacheTgtEndTime(ccache(1_800_000_000))).toBe(1_800_000_000_000);
    expect(ccacheTgtEndTime(ccache(1_800_000_123, { configFirst: true }))).toBe(1_800_000_123_000);
  });

  it('gives up (undefined) on anything it does not understand', () => {
    expect(ccacheTgtEndTime(Buffer.alloc(0))).toBeUndefined();
    expect(ccacheTgtEndTime(Buffer.from([5, 1, 0, 0]))).toBeUndefined();
    expect(ccacheTgtEndTime(ccache(1_800_000_000, { truncate: 60 }))).toBeUndefined();
  });
});

describe('withKrb5Env', () => {
  it('sets the variables for one caller at a time and restores them, also after a failure', async () => {
    const saved = process.env.KRB5CCNAME;
    delete process.env.KRB5CCNAME;
    process.env.KRB5_CONFIG = '/etc/original.conf';
    const seen: string[] = [];
    const slow = (name: string) =>
      withKrb5Env({ KRB5CCNAME: `FILE:/tmp/${name}`, KRB5_CONFIG: `/tmp/${name}.conf` }, async () => {
        seen.push(`start ${name} ${process.env.KRB5CCNAME}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        seen.push(`end ${name} ${process.env.KRB5CCNAME} ${process.env.KRB5_CONFIG}`);
        if (name === 'b') throw new Error('boom');
        return name;
      });
    const results = await Promise.allSettled([slow('a'), slow('b'), slow('c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(seen).toEqual([
      'start a FILE:/tmp/a',
      'end a FILE:/tmp/a /tmp/a.conf',
      'start b FILE:/tmp/b',
      'end b FILE:/tmp/b /tmp/b.conf',
      'start c FILE:/tmp/c',
      'end c FILE:/tmp/c /tmp/c.conf',
    ]);
    expect(process.env.KRB5CCNAME).toBeUndefined();
    expect(process.env.KRB5_CONFIG).toBe('/etc/original.conf');
    delete process.env.KRB5_CONFIG;
    if (saved !== undefined) process.env.KRB5CCNAME = saved;
  });
});

describe('KerberosAuth before kinit', () => {
  let dir: string;
  let krb5Conf: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kfsensor-krb5-unit-'));
    krb5Conf = path.join(dir, 'krb5.conf');
    await writeFile(krb5Conf, '[libdefaults]\n  default_realm = UNIT.TEST\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('says to install the Kerberos client tools when kinit is missing', async () => {
    const auth = new KerberosAuth(
      { upn: 'alice', password: 'pw-unit-1', krb5_conf: krb5Conf },
      { commandUrl: URL_, kinitPath: path.join(dir, 'no-such-kinit') },
    );
    const err = await auth.authorization().catch((e: unknown) => e as CommandKerberosError);
    expect(err).toBeInstanceOf(CommandKerberosError);
    expect((err as CommandKerberosError).reason).toBe('kinit-missing');
    expect((err as Error).message).toMatch(/krb5-user/);
    // The realm came from krb5.conf's default_realm.
    expect(auth.principal).toBe('alice@UNIT.TEST');
    await auth.close();
  });

  it('reports a krb5.conf without default_realm when the upn has no realm', async () => {
    const bare = path.join(dir, 'bare.conf');
    await writeFile(bare, '[libdefaults]\n  rdns = false\n');
    const auth = new KerberosAuth({ upn: 'alice', password: 'p', krb5_conf: bare }, { commandUrl: URL_ });
    const err = (await auth.authorization().catch((e: unknown) => e)) as CommandKerberosError;
    expect(err.reason).toBe('no-default-realm');
    expect(err.message).toContain(bare);
  });

  it('refuses to work after close()', async () => {
    const auth = new KerberosAuth({ upn: 'alice', password: 'p', krb5_conf: krb5Conf }, { commandUrl: URL_ });
    await auth.close();
    await expect(auth.authorization()).rejects.toThrow(/closed/);
    expect(await auth.refreshAfterUnauthorized()).toBe(false);
  });

  it('is a CommandError, so callers that handle credential errors handle it too', () => {
    expect(new CommandKerberosError('x', 'other')).toBeInstanceOf(CommandError);
  });
});
