// Kerberos (SPNEGO) end to end: a real MIT KDC on loopback, the simulator verifying tickets with its service keytab,
// and CommandClient with KerberosAuth (kinit with a keytab or a password into a private credential cache).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CommandClient,
  CommandKerberosError,
  CommandUnavailableError,
  KerberosAuth,
  authFromSettings,
  type CommandAuth,
  type CommandCertificate,
  type KerberosSettings,
} from '#shared/keyfactor/index';
import { silentLogger, type LogFields, type Logger } from '#shared/logging';
import { generateInventory } from '#shared/simulator/generator/index';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { startKdc, type RunningKdc } from '#test/support/kdc';

const NOW = new Date('2026-01-01T00:00:00Z');
const inventory = generateInventory({ seed: 7, count: 120, now: NOW });
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 40, maxAttempts: 2 };
const ALICE_PASSWORD = 'alice-Correct-Horse-1';
const BOB_PASSWORD = 'bob-Battery-Staple-2';
const REQUESTED_WITH = { 'X-Keyfactor-Requested-With': 'APIClient' };

async function collect(client: CommandClient, pageSize = 25): Promise<CommandCertificate[]> {
  const all: CommandCertificate[] = [];
  for await (const cert of client.certificates({ pageSize })) all.push(cert);
  return all;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

/** Each test's KerberosAuth, closed at the end so no private credential cache is left behind. */
const opened: KerberosAuth[] = [];
function kerberosAuth(
  settings: KerberosSettings,
  url: string,
  extra: Partial<ConstructorParameters<typeof KerberosAuth>[1]> = {},
) {
  const auth = new KerberosAuth(settings, { commandUrl: url, ...extra });
  opened.push(auth);
  return auth;
}
/** A logger that keeps why each ticket renewal happened. */
function renewalLog(): { logger: Logger; renewals: unknown[] } {
  const renewals: unknown[] = [];
  const logger: Logger = {
    ...silentLogger,
    info(message: string, fields?: LogFields) {
      if (message === 'renewing the Kerberos ticket') renewals.push(fields?.why);
    },
  };
  return { logger, renewals };
}
function clientFor(sim: RunningSimulator, auth: CommandAuth): CommandClient {
  return new CommandClient({ baseUrl: sim.url, auth, retry: FAST_RETRY });
}

describe('Kerberos against a real KDC and the simulator', () => {
  let kdc: RunningKdc;
  let sim: RunningSimulator;
  const settings = (over: Partial<KerberosSettings> = {}): KerberosSettings => ({
    upn: 'alice@TEST.LOCAL',
    keytab: kdc.keytab('alice'),
    krb5_conf: kdc.krb5Conf,
    ...over,
  });

  beforeAll(async () => {
    kdc = await startKdc({
      principals: [
        { name: 'alice', password: ALICE_PASSWORD },
        { name: 'carol', password: 'carol-pw-3' },
      ],
      services: ['HTTP/127.0.0.1'],
    });
    sim = await startSimulator({
      certificates: inventory,
      now: () => NOW,
      auth: { negotiate: { keytab: kdc.serviceKeytab, krb5Conf: kdc.krb5Conf } },
    });
  });
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((a) => a.close()));
    await sim?.close();
    await kdc?.stop();
  });

  it('logs in with a keytab and lists every certificate, a fresh Negotiate token per request', async () => {
    const before = process.env.KRB5CCNAME;
    sim.requestLog.clear();
    const auth = kerberosAuth(settings(), sim.url);
    const certs = await collect(clientFor(sim, auth));
    expect(certs.map((c) => c.Id).sort((a, b) => a - b)).toEqual(
      inventory.map((c) => c.Id).sort((a, b) => a - b),
    );
    const entries = sim.requestLog.entries();
    expect(entries.length).toBeGreaterThan(3);
    expect(entries.every((e) => e.principal === 'alice@TEST.LOCAL' && e.status === 200)).toBe(true);
    // One kinit for the whole scan; one token per request, since the server refuses a replayed one.
    expect(auth.stats).toEqual({ logins: 1, tokens: entries.length });
    expect(auth.principal).toBe('alice@TEST.LOCAL');
    expect(auth.spn).toBe('HTTP/127.0.0.1');
    // The ticket lives in a private cache: a 0600 file in a 0700 directory, and the user's ccache is untouched.
    const ccache = auth.credentialCache ?? '';
    expect((await stat(ccache)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(ccache))).mode & 0o777).toBe(0o700);
    expect(process.env.KRB5CCNAME).toBe(before);
    await auth.close();
    await expect(stat(path.dirname(ccache))).rejects.toThrow(/ENOENT/);
  });

  it('logs in with a password from the settings: realm from krb5.conf, SPN from the url', async () => {
    sim.requestLog.clear();
    const auth = authFromSettings({
      url: sim.url,
      kerberos: { upn: 'alice', password: ALICE_PASSWORD, krb5_conf: kdc.krb5Conf },
    });
    expect(auth).toBeInstanceOf(KerberosAuth);
    opened.push(auth as KerberosAuth);
    const client = clientFor(sim, auth);
    const status = await client.verifyConnection();
    expect(status.endpoints.length).toBeGreaterThan(0);
    expect(await collect(client, 60)).toHaveLength(inventory.length);
    expect(auth.principal).toBe('alice@TEST.LOCAL');
    expect(sim.requestLog.entries().every((e) => e.principal === 'alice@TEST.LOCAL')).toBe(true);
  });

  it('gives the password to kinit on stdin only, never in its arguments or environment', async () => {
    const dir = path.dirname(kdc.krb5Conf);
    const wrapper = path.join(dir, 'kinit-recorder.sh');
    const record = path.join(dir, 'kinit-record.txt');
    await writeFile(wrapper, `#!/bin/sh\n{ printf 'ARG %s\\n' "$@"; env; } > '${record}'\nexec kinit "$@"\n`);
    await chmod(wrapper, 0o700);
    const auth = kerberosAuth(
      { upn: 'alice@TEST.LOCAL', password: ALICE_PASSWORD, krb5_conf: kdc.krb5Conf },
      sim.url,
      { kinitPath: wrapper },
    );
    // As when the config took the password from ${env:NAME}: the variable must not reach kinit either.
    process.env.KFSENSOR_TEST_KRB5_PASSWORD = ALICE_PASSWORD;
    try {
      await clientFor(sim, auth).verifyConnection();
    } finally {
      delete process.env.KFSENSOR_TEST_KRB5_PASSWORD;
    }
    const seen = await readFile(record, 'utf8');
    expect(seen).toContain('ARG alice@TEST.LOCAL');
    expect(seen).toContain(`KRB5CCNAME=FILE:${auth.credentialCache ?? ''}`);
    expect(seen).toContain(`KRB5_CONFIG=${kdc.krb5Conf}`);
    expect(seen).not.toContain(ALICE_PASSWORD);
    await rm(record);
  });

  it('runs keytab and password sessions side by side without mixing up their caches', async () => {
    sim.requestLog.clear();
    const a = clientFor(sim, kerberosAuth(settings(), sim.url));
    const c = clientFor(
      sim,
      kerberosAuth({ upn: 'carol@TEST.LOCAL', password: 'carol-pw-3', krb5_conf: kdc.krb5Conf }, sim.url),
    );
    const [fromA, fromC] = await Promise.all([collect(a, 10), collect(c, 10)]);
    expect(fromA).toHaveLength(inventory.length);
    expect(fromC).toHaveLength(inventory.length);
    const principals = new Set(sim.requestLog.entries().map((e) => e.principal));
    expect(principals).toEqual(new Set(['alice@TEST.LOCAL', 'carol@TEST.LOCAL']));
  });

  it('a wrong password fails with a clear error that does not contain the password', async () => {
    sim.requestLog.clear();
    const wrong = 'Not-The-Password-99';
    const auth = kerberosAuth({ upn: 'alice@TEST.LOCAL', password: wrong, krb5_conf: kdc.krb5Conf }, sim.url);
    const err = await failure(clientFor(sim, auth).verifyConnection());
    expect(err).toBeInstanceOf(CommandKerberosError);
    expect((err as CommandKerberosError).reason).toBe('wrong-password');
    expect(err.message).toMatch(/refused the password of alice@TEST\.LOCAL; check password/);
    expect(err.message).toContain('Password incorrect');
    expect(err.message).not.toContain(wrong);
    expect(JSON.stringify(err)).not.toContain(wrong);
    // Nothing reached Command: the failure is the KDC's, before any request.
    expect(sim.requestLog.entries()).toHaveLength(0);
  });

  it('an unknown user principal fails naming the upn and realm', async () => {
    const auth = kerberosAuth(
      { upn: 'mallory', password: 'x', realm: 'TEST.LOCAL', krb5_conf: kdc.krb5Conf },
      sim.url,
    );
    const err = await failure(auth.authorization());
    expect((err as CommandKerberosError).reason).toBe('unknown-principal');
    expect(err.message).toMatch(/does not know the user mallory@TEST\.LOCAL; check upn and realm/);
  });

  it('an unknown SPN fails naming the SPN and saying to set spn', async () => {
    const auth = kerberosAuth(settings({ spn: 'HTTP/command.example.test' }), sim.url);
    const err = await failure(clientFor(sim, auth).verifyConnection());
    expect(err).toBeInstanceOf(CommandKerberosError);
    expect((err as CommandKerberosError).reason).toBe('unknown-spn');
    expect(err.message).toContain('HTTP/command.example.test');
    expect(err.message).toMatch(/set spn/);
    // The default SPN follows the url's host: a host without an SPN fails the same way, naming the derived SPN.
    const byHost = kerberosAuth(settings(), sim.url.replace('127.0.0.1', 'localhost'));
    const err2 = await failure(byHost.authorization());
    expect((err2 as CommandKerberosError).reason).toBe('unknown-spn');
    expect(err2.message).toContain('HTTP/localhost');
  });

  it("a clock that differs from the KDC's fails with a clock-skew error saying to synchronise it", async () => {
    const auth = kerberosAuth(settings({ spn: 'HTTP/127.0.0.1' }), sim.url);
    await auth.login();
    // MIT keeps the client-to-KDC time offset in the ccache header (tag 1); an hour there makes every
    // authenticator this client sends an hour off, exactly as an unsynchronised clock would.
    const ccache = auth.credentialCache ?? '';
    const data = await readFile(ccache);
    expect(data.readUInt16BE(0)).toBe(0x0504);
    expect(data.readUInt16BE(4)).toBe(1); // the DeltaTime tag
    data.writeUInt32BE(3600, 8);
    await writeFile(ccache, data);
    const err = await failure(auth.authorization());
    expect((err as CommandKerberosError).reason).toBe('clock-skew');
    expect(err.message).toMatch(/clock.*differ.*synchronise this host's clock/);
    expect(err.message).toContain('Clock skew too great');
  });

  it('a missing krb5.conf or keytab fails before kinit, naming the file', async () => {
    const noConf = kerberosAuth(settings({ krb5_conf: '/nonexistent/krb5.conf' }), sim.url);
    const err = await failure(noConf.authorization());
    expect((err as CommandKerberosError).reason).toBe('krb5-conf-missing');
    expect(err.message).toContain('/nonexistent/krb5.conf');
    const noKeytab = kerberosAuth(settings({ keytab: '/nonexistent/alice.keytab' }), sim.url);
    const err2 = await failure(noKeytab.authorization());
    expect((err2 as CommandKerberosError).reason).toBe('keytab-missing');
    expect(err2.message).toContain('/nonexistent/alice.keytab');
  });

  it('the simulator answers 401 with a Negotiate challenge to a missing, garbage or replayed token', async () => {
    const endpoint = `${sim.url}/Status/Endpoints`;
    const missing = await fetch(endpoint, { headers: REQUESTED_WITH });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Negotiate');
    for (const bad of ['Negotiate', 'Negotiate Zm9vYmFyYmF6', 'Negotiate !!!not base64!!!']) {
      const response = await fetch(endpoint, { headers: { ...REQUESTED_WITH, Authorization: bad } });
      expect(response.status, bad).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Negotiate');
    }
    // A valid token works once, returns the mutual-auth token, and is refused when replayed.
    const auth = kerberosAuth(settings(), sim.url);
    const header = await auth.authorization();
    const first = await fetch(endpoint, { headers: { ...REQUESTED_WITH, Authorization: header } });
    expect(first.status).toBe(200);
    expect(first.headers.get('www-authenticate')).toMatch(/^Negotiate [A-Za-z0-9+/]+=*$/);
    const replay = await fetch(endpoint, { headers: { ...REQUESTED_WITH, Authorization: header } });
    expect(replay.status).toBe(401);
  });

  it('re-authenticates after a 401 when the service key changed (a new service ticket is needed)', async () => {
    const auth = kerberosAuth(settings(), sim.url);
    const client = clientFor(sim, auth);
    await client.verifyConnection();
    // Rotate Command's service key, as a password change of its service account would.
    await rm(kdc.serviceKeytab);
    await kdc.kadmin(`ktadd -k ${kdc.serviceKeytab} HTTP/127.0.0.1`);
    await client.verifyConnection();
    expect(client.stats.reauthentications).toBe(1);
    expect(auth.stats.logins).toBe(2);
  });

  it('a Negotiate login Command keeps refusing gets a Kerberos hint, not a password or OAuth2 one', async () => {
    const client = clientFor(sim, kerberosAuth(settings(), sim.url));
    sim.faults.add({
      match: { path: '/Certificates' },
      times: Infinity,
      action: { type: 'status', status: 401 },
    });
    try {
      const error = await client.getCertificatePage(1).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/refused the Negotiate credentials .*SPN.*clocks/);
      expect((error as Error).message).not.toMatch(/password|OAuth2/);
    } finally {
      sim.faults.clear();
    }
  });
});

describe('kfsensor simulator --keytab', () => {
  let kdc: RunningKdc;
  let child: ChildProcessWithoutNullStreams | undefined;
  beforeAll(async () => {
    kdc = await startKdc({
      principals: [{ name: 'dave', password: 'dave-pw-4' }],
      services: ['HTTP/127.0.0.1'],
    });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(opened.splice(0).map((a) => a.close()));
    await kdc?.stop();
  });

  it('serves Negotiate from the command line and a Kerberos client lists its certificates', async () => {
    const bin = path.resolve(import.meta.dirname, '../../../bin/kfsensor.js');
    const args = [
      'simulator',
      '--generate',
      '30',
      '--port',
      '0',
      '--keytab',
      kdc.serviceKeytab,
      '--krb5-conf',
      kdc.krb5Conf,
    ];
    child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const deadline = Date.now() + 30_000;
    while (!out.includes('Stop with Ctrl-C') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain(`Kerberos:     Negotiate, service keytab ${kdc.serviceKeytab}`);
    expect(out).toContain('--negotiate -u :');
    expect(out).not.toContain('Basic user');
    const url = /at (http:\/\/127\.0\.0\.1:\d+\/KeyfactorAPI)/.exec(out)?.[1] ?? '';
    const auth = kerberosAuth({ upn: 'dave', keytab: kdc.keytab('dave'), krb5_conf: kdc.krb5Conf }, url);
    const client = new CommandClient({ baseUrl: url, auth, retry: FAST_RETRY });
    const ids: number[] = [];
    for await (const cert of client.certificates({ pageSize: 10 })) ids.push(cert.Id);
    expect(ids).toHaveLength(30);
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses a --keytab that does not exist', async () => {
    const bin = path.resolve(import.meta.dirname, '../../../bin/kfsensor.js');
    const failed = spawn(process.execPath, [
      bin,
      'simulator',
      '--generate',
      '5',
      '--port',
      '0',
      '--keytab',
      '/nonexistent/http.keytab',
    ]);
    let err = '';
    failed.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise((resolve) => failed.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('--keytab /nonexistent/http.keytab does not exist');
  });
});

describe('Kerberos tickets that expire', () => {
  let kdc: RunningKdc;
  let sim: RunningSimulator;
  const bob = (): KerberosSettings => ({
    upn: 'bob@TEST.LOCAL',
    password: BOB_PASSWORD,
    krb5_conf: kdc.krb5Conf,
  });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    // Tickets live 3 seconds; a 1 second clock skew allowance makes their end real on both sides.
    kdc = await startKdc({
      principals: [{ name: 'bob', password: BOB_PASSWORD, maxLife: '3 seconds' }],
      services: ['HTTP/127.0.0.1'],
      libdefaults: { clockskew: '1' },
    });
    sim = await startSimulator({
      certificates: inventory,
      now: () => NOW,
      auth: { negotiate: { keytab: kdc.serviceKeytab, krb5Conf: kdc.krb5Conf } },
    });
  });
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((a) => a.close()));
    await sim?.close();
    await kdc?.stop();
  });

  it('gets a new ticket before the old one ends', async () => {
    const { logger, renewals } = renewalLog();
    const auth = kerberosAuth(bob(), sim.url, { logger });
    const client = clientFor(sim, auth);
    await client.verifyConnection();
    expect(auth.stats.logins).toBe(1);
    await sleep(3500);
    await client.verifyConnection();
    expect(auth.stats.logins).toBe(2);
    expect(renewals).toEqual(['is about to expire']);
    expect(client.stats.reauthentications).toBe(0);
  });

  it('recovers when GSSAPI finds the ticket expired before the sensor expected', async () => {
    // A frozen clock: the sensor believes the ticket is fresh, so only GSSAPI's own check notices the expiry.
    const frozen = Date.now();
    const { logger, renewals } = renewalLog();
    const auth = kerberosAuth(bob(), sim.url, { now: () => frozen, logger });
    const client = clientFor(sim, auth);
    await client.verifyConnection();
    await sleep(4500);
    await client.verifyConnection();
    expect(auth.stats.logins).toBe(2);
    expect(renewals).toEqual(['has expired']);
  });

  it('an expired ticket that cannot be renewed fails clearly', async () => {
    const auth = kerberosAuth(bob(), sim.url);
    const client = clientFor(sim, auth);
    await client.verifyConnection();
    await kdc.stopKdc();
    await sleep(3500);
    const err = await failure(client.verifyConnection());
    // The KDC being down is worth retrying, so the client retried it and then reported the last problem.
    expect(err).toBeInstanceOf(CommandUnavailableError);
    expect(err.message).toMatch(
      /The Kerberos ticket of bob@TEST\.LOCAL (is about to expire|has expired) and a new one could not be obtained: No KDC for realm TEST\.LOCAL answered/,
    );
  });
});
