// Kerberos (SPNEGO, `Authorization: Negotiate`) to Command: kinit into a private ccache, then one GSS token per request.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { access, chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as KerberosNamespace from 'kerberos';
import { silentLogger, type Logger } from '#shared/logging';
import type { CommandAuth } from './auth';
import { CommandError, CommandTokenError } from './errors';

/** Kerberos settings as the YAML config names them (snake_case, as in the seed documents). */
export interface KerberosSettings {
  /** The user principal: `alice@CORP.EXAMPLE.COM`, or `alice` with `realm` or krb5.conf's default_realm. */
  upn: string;
  /** A client keytab for the UPN. Exactly one of keytab and password. */
  keytab?: string | undefined;
  password?: string | undefined;
  /** The service principal of Command's web server; `HTTP/<host of url>` when empty. */
  spn?: string | undefined;
  realm?: string | undefined;
  /** Defaults to /etc/krb5.conf. */
  krb5_conf?: string | undefined;
}

export const DEFAULT_KRB5_CONF = '/etc/krb5.conf';

/** What went wrong, so callers and tests can branch without parsing messages. */
export type KerberosFailure =
  | 'settings'
  | 'wrong-password'
  | 'stale-keytab'
  | 'unknown-principal'
  | 'unknown-spn'
  | 'clock-skew'
  | 'expired'
  | 'password-expired'
  | 'account-disabled'
  | 'kdc-unreachable'
  | 'no-default-realm'
  | 'krb5-conf-missing'
  | 'krb5-conf-invalid'
  | 'keytab-missing'
  | 'keytab-no-keys'
  | 'no-credentials'
  | 'enctype'
  | 'kinit-missing'
  | 'library-missing'
  | 'timeout'
  | 'other';

/** Kerberos could not produce credentials; the message says what to fix and never carries a secret. */
export class CommandKerberosError extends CommandTokenError {
  readonly reason: KerberosFailure;

  constructor(message: string, reason: KerberosFailure, options?: { cause?: unknown; transient?: boolean }) {
    super(message, {}, options);
    this.reason = reason;
  }
}

export interface ResolvedKerberosSettings {
  /** The user name part of the UPN, without realm. */
  user: string;
  /** The realm when known from settings or the UPN; otherwise krb5.conf's default_realm is read at login. */
  realm: string | undefined;
  /** `HTTP/host` as Kerberos names it. */
  spn: string;
  /** `HTTP@host`, the GSSAPI host-based service name the kerberos package expects. */
  gssService: string;
  krb5Conf: string;
  method: { kind: 'keytab'; keytab: string } | { kind: 'password'; password: string };
}

/** Validates the settings without touching the disk; errors name the fields to fix. */
export function resolveKerberosSettings(
  settings: KerberosSettings,
  commandUrl: string,
): ResolvedKerberosSettings {
  const upn = (settings.upn ?? '').trim();
  if (!upn)
    throw new CommandError('Kerberos settings need upn (the user principal, e.g. alice@CORP.EXAMPLE.COM)');
  const hasKeytab = Boolean(settings.keytab);
  const hasPassword = Boolean(settings.password);
  if (hasKeytab && hasPassword) {
    throw new CommandError('Kerberos settings take either keytab or password for the upn, not both');
  }
  if (!hasKeytab && !hasPassword) {
    throw new CommandError(`Kerberos settings for "${upn}" need keytab (path to a keytab) or password`);
  }
  const at = upn.lastIndexOf('@');
  if (at === 0 || at === upn.length - 1 || /[\s/\\]/.test(upn)) {
    throw new CommandError(`Kerberos upn "${upn}" is not a user principal; write it as user@REALM or user`);
  }
  const user = at > 0 ? upn.slice(0, at) : upn;
  // Realms are upper case by convention (AD always); a UPN suffix is the DNS domain, so upper-case it.
  const realm = settings.realm?.trim() || (at > 0 ? upn.slice(at + 1).toUpperCase() : undefined);
  const spn = resolveSpn(settings.spn, commandUrl);
  return {
    user,
    realm,
    spn: spn.spn,
    gssService: spn.gssService,
    krb5Conf: settings.krb5_conf?.trim() || DEFAULT_KRB5_CONF,
    method: hasKeytab
      ? { kind: 'keytab', keytab: settings.keytab ?? '' }
      : { kind: 'password', password: settings.password ?? '' },
  };
}

/** `HTTP/host`, `HTTP/host@REALM` or `HTTP@host` → both spellings; empty → `HTTP/<host of the Command URL>`. */
export function resolveSpn(spn: string | undefined, commandUrl: string): { spn: string; gssService: string } {
  const given = spn?.trim();
  if (!given) {
    let host: string;
    try {
      host = new URL(commandUrl).hostname.replace(/^\[|\]$/g, '');
    } catch {
      throw new CommandError('Kerberos needs a valid Command url to derive the default spn (HTTP/<host>)');
    }
    return { spn: `HTTP/${host}`, gssService: `HTTP@${host}` };
  }
  // The realm of an SPN comes from krb5.conf's [domain_realm]; a GSS host-based name cannot carry it.
  const withoutRealm = given.includes('/') ? given.replace(/@[^@/]*$/, '') : given;
  const match = /^([^/@\s]+)[/@]([^/@\s]+)$/.exec(withoutRealm);
  if (!match) {
    throw new CommandError(
      `Kerberos spn "${given}" is not a service principal; write it as HTTP/command.example.com`,
    );
  }
  return { spn: `${match[1]}/${match[2]}`, gssService: `${match[1]}@${match[2]}` };
}

/** The default_realm of a krb5.conf's [libdefaults], if it names one. */
export function defaultRealmOf(krb5ConfText: string): string | undefined {
  let section = '';
  for (const raw of krb5ConfText.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) section = header[1] ?? '';
    else if (section === 'libdefaults') {
      const m = /^default_realm\s*=\s*(\S+)/.exec(line);
      if (m) return m[1];
    }
  }
  return undefined;
}

export interface KerberosErrorContext {
  principal: string;
  spn: string;
  krb5Conf: string;
  keytab?: string | undefined;
  /** Removed from the text if it ever appears, whatever the tool printed. */
  password?: string | undefined;
}

interface Rule {
  test: RegExp;
  reason: KerberosFailure;
  message: (c: KerberosErrorContext) => string;
  transient?: boolean;
}

const realmOf = (principal: string) => principal.slice(principal.lastIndexOf('@') + 1);

const RULES: Rule[] = [
  {
    test: /Password incorrect|Preauthentication failed|Decrypt integrity check failed|Integrity check on decrypted field failed/i,
    reason: 'wrong-password',
    message: (c) =>
      c.keytab
        ? `The KDC refused the key in keytab ${c.keytab} for ${c.principal}: the keytab is out of date (the password or key version changed); create it again`
        : `Kerberos refused the password of ${c.principal}; check password (and that the account is not locked out)`,
  },
  {
    test: /Client '?[^ ]*'? not found in Kerberos database|Client not found in Kerberos database/i,
    reason: 'unknown-principal',
    message: (c) =>
      `The KDC of realm ${realmOf(c.principal)} does not know the user ${c.principal}; check upn and realm`,
  },
  {
    test: /Server '?[^ ]*'? not found in Kerberos database|Server not found in Kerberos database/i,
    reason: 'unknown-spn',
    message: (c) =>
      `The KDC does not know the service principal ${c.spn}: no account has that SPN; set spn to the SPN registered for Command's web server (setspn -L <its service account> lists them), or use the host name the SPN was registered for in url`,
  },
  {
    test: /Clock skew too great/i,
    reason: 'clock-skew',
    message: () =>
      `This host's clock and the KDC's differ by more than Kerberos allows (5 minutes by default); synchronise this host's clock (NTP) and check its time zone`,
  },
  {
    test: /Password has expired|Password expired/i,
    reason: 'password-expired',
    message: (c) =>
      `The password of ${c.principal} has expired; change it in the directory, then update password`,
  },
  {
    test: /Ticket expired|credentials have expired|credential has expired|Ticket not yet valid/i,
    reason: 'expired',
    message: (c) =>
      `The Kerberos ticket of ${c.principal} has expired and a new one could not be used; check this host's clock and the account's ticket lifetime policy`,
  },
  {
    test: /credentials have been revoked|Client's entry in database has expired|account (is )?(disabled|locked)/i,
    reason: 'account-disabled',
    message: (c) =>
      `The KDC refused ${c.principal}: the account is disabled, locked out or expired; ask its administrator`,
  },
  {
    test: /Cannot contact any KDC|Cannot find KDC|Cannot resolve network address for KDC|unable to reach any KDC/i,
    reason: 'kdc-unreachable',
    transient: true,
    message: (c) =>
      `No KDC for realm ${realmOf(c.principal)} answered; check the realm's kdc entries in ${c.krb5Conf} (or DNS SRV records), and that this host can reach the KDC on port 88`,
  },
  {
    test: /does not specify default realm/i,
    reason: 'no-default-realm',
    message: (c) => `${c.krb5Conf} names no default_realm; set realm, or write upn as user@REALM`,
  },
  {
    test: /Improper format of Kerberos configuration|Included profile file could not be read|Syntax error in profile/i,
    reason: 'krb5-conf-invalid',
    message: (c) =>
      `${c.krb5Conf} is not a valid Kerberos configuration; fix its syntax or point krb5_conf at a valid file`,
  },
  {
    test: /Key table file '?[^ ]*'? not found|keytab.*(No such file|not found)/i,
    reason: 'keytab-missing',
    message: (c) => `The keytab ${c.keytab ?? '(none)'} does not exist or cannot be read; check keytab`,
  },
  {
    test: /Keytab contains no suitable keys|Key table entry not found|No key table entry found/i,
    reason: 'keytab-no-keys',
    message: (c) =>
      `The keytab ${c.keytab ?? '(none)'} holds no key for ${c.principal}; check upn and realm, or export a keytab for that principal`,
  },
  {
    test: /No credentials (were supplied|cache found)|Can't find client principal|No Kerberos credentials available/i,
    reason: 'no-credentials',
    message: (c) => `No Kerberos ticket for ${c.principal} is available in this sensor's credential cache`,
  },
  {
    test: /KDC has no support for encryption type|encryption type .* not (permitted|supported)|Bad encryption type/i,
    reason: 'enctype',
    message: (c) =>
      `The KDC and this host share no encryption type for ${c.principal}; enable AES for the account or allow its enctypes in ${c.krb5Conf}`,
  },
];

/** Maps a kinit or GSSAPI message to an error that says what to fix; the raw text stays in parentheses. */
export function kerberosError(
  raw: string,
  context: KerberosErrorContext,
  cause?: unknown,
): CommandKerberosError {
  let text = raw.replace(/\s+/g, ' ').trim();
  const rule = RULES.find((r) => r.test.test(text));
  // kinit never echoes the password; this guards against one that would. Very short ones would mangle every word.
  if (context.password && context.password.length >= 4)
    text = text.split(context.password).join('[redacted]');
  const message = rule
    ? `${rule.message(context)} (${text})`
    : `Kerberos authentication of ${context.principal} failed: ${text || 'no reason given'}`;
  return new CommandKerberosError(message, rule?.reason ?? 'other', {
    transient: rule?.transient ?? false,
    ...(cause === undefined ? {} : { cause: new Error(text) }),
  });
}

type KerberosModule = typeof KerberosNamespace;
let kerberosModule: Promise<KerberosModule> | undefined;

/** Loads the native kerberos package on first use only, so nothing else (the Lambdas) ever loads libgssapi. */
export function loadKerberos(): Promise<KerberosModule> {
  // A computed specifier keeps bundlers from pulling the native addon into bundles that never use Kerberos.
  const specifier = ['kerberos'].join('');
  kerberosModule ??= (import(specifier) as Promise<KerberosModule & { default?: KerberosModule }>).then(
    (m) => m.default ?? m,
    (err: unknown) => {
      kerberosModule = undefined;
      throw new CommandKerberosError(
        `The kerberos package could not be loaded (${err instanceof Error ? err.message : String(err)}); install libgssapi-krb5-2 (MIT Kerberos) and rebuild the package (needs libkrb5-dev)`,
        'library-missing',
      );
    },
  );
  return kerberosModule;
}

let krb5EnvQueue: Promise<unknown> = Promise.resolve();

/**
 * Runs fn with KRB5_* variables set, one caller at a time. MIT GSSAPI reads KRB5CCNAME, KRB5_CONFIG and
 * KRB5_KTNAME from the process environment, so concurrent callers (clients and the simulator's server side in
 * one process) must take turns. fn must not call withKrb5Env itself.
 */
export function withKrb5Env<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const run = async (): Promise<T> => {
    const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const);
    Object.assign(process.env, vars);
    try {
      return await fn();
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };
  const result = krb5EnvQueue.then(run, run);
  krb5EnvQueue = result.catch(() => undefined);
  return result;
}

/** The end time of the first TGT (krbtgt/...) in an MIT FILE ccache (format v3/v4, big-endian), in ms. */
export function ccacheTgtEndTime(data: Buffer): number | undefined {
  let offset = 0;
  const u8 = () => {
    const v = data.readUInt8(offset);
    offset += 1;
    return v;
  };
  const u16 = () => {
    const v = data.readUInt16BE(offset);
    offset += 2;
    return v;
  };
  const u32 = () => {
    const v = data.readUInt32BE(offset);
    offset += 4;
    return v;
  };
  const octets = () => {
    const length = u32();
    if (offset + length > data.length) throw new RangeError('truncated ccache');
    const v = data.subarray(offset, offset + length);
    offset += length;
    return v;
  };
  const principal = () => {
    u32(); // name type
    const count = u32();
    const realm = octets().toString('utf8');
    const components: string[] = [];
    for (let i = 0; i < count; i += 1) components.push(octets().toString('utf8'));
    return { realm, components };
  };
  try {
    const version = u16();
    if (version !== 0x0503 && version !== 0x0504) return undefined;
    if (version === 0x0504) {
      const headerLength = u16();
      offset += headerLength;
    }
    principal(); // default principal
    while (offset < data.length) {
      principal(); // client
      const server = principal();
      u16(); // key enctype
      if (version === 0x0503) u16();
      octets(); // key
      u32(); // authtime
      u32(); // starttime
      const endtime = u32();
      u32(); // renew_till
      u8(); // is_skey
      u32(); // flags
      for (let n = u32(); n > 0; n -= 1) {
        u16();
        octets();
      }
      for (let n = u32(); n > 0; n -= 1) {
        u16();
        octets();
      }
      octets(); // ticket
      octets(); // second ticket
      // MIT keeps config entries in the cache under the pseudo realm X-CACHECONF:.
      if (server.components[0] === 'krbtgt' && server.realm !== 'X-CACHECONF:') return endtime * 1000;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

const privateCacheDirs = new Set<string>();
let exitHookInstalled = false;

/** Removes every private ccache still present when the process exits, even without close(). */
function trackCacheDir(dir: string): void {
  privateCacheDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const d of privateCacheDirs) rmSync(d, { recursive: true, force: true });
  });
}

export interface KerberosAuthOptions {
  /** Command's API URL; its host gives the default SPN. */
  commandUrl: string;
  logger?: Logger;
  /** Get a new ticket this long before the current one ends (at most half its lifetime). Default 300 s. */
  refreshSkewSeconds?: number;
  /** The kinit to run; default `kinit` from PATH. */
  kinitPath?: string;
  /** Longest a kinit may take before it is stopped. Default 30 s. */
  kinitTimeoutMs?: number;
  now?: () => number;
}

export class KerberosAuth implements CommandAuth {
  readonly scheme = 'Negotiate';
  readonly spn: string;
  readonly #settings: ResolvedKerberosSettings;
  readonly #options: KerberosAuthOptions;
  readonly #logger: Logger;
  readonly #now: () => number;
  #realm: string | undefined;
  #cacheDir: string | undefined;
  #ticket: { renewAt: number; endsAt: number } | undefined;
  #inFlight: Promise<void> | undefined;
  #closed = false;
  /** Logins (kinit runs) and tokens made so far; tests and logs use them to prove refresh and caching. */
  readonly stats = { logins: 0, tokens: 0 };

  constructor(settings: KerberosSettings, options: KerberosAuthOptions) {
    this.#settings = resolveKerberosSettings(settings, options.commandUrl);
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
    this.#realm = this.#settings.realm;
    this.spn = this.#settings.spn;
  }

  /** `user@REALM`, or the bare user until krb5.conf's default realm has been read. */
  get principal(): string {
    return this.#realm ? `${this.#settings.user}@${this.#realm}` : this.#settings.user;
  }

  /** The private credential cache file (for tests: its mode and removal). */
  get credentialCache(): string | undefined {
    return this.#cacheDir ? path.join(this.#cacheDir, 'ccache') : undefined;
  }

  async authorization(): Promise<string> {
    if (this.#closed) throw new CommandKerberosError('This Kerberos session was closed', 'other');
    const ticket = this.#ticket;
    if (!ticket) await this.#loginOnce();
    else if (this.#now() >= ticket.renewAt) await this.#renew('is about to expire');
    try {
      return `Negotiate ${await this.#token()}`;
    } catch (err) {
      // A ticket that died early (KDC policy, clock) or a cache someone removed: one fresh login, then give up.
      if (
        err instanceof CommandKerberosError &&
        (err.reason === 'expired' || err.reason === 'no-credentials')
      ) {
        this.#ticket = undefined;
        await this.#renew('has expired');
        return `Negotiate ${await this.#token()}`;
      }
      throw err;
    }
  }

  /** Gets a ticket now (a dry run's credential check); authorization() does this on first use anyway. */
  async login(): Promise<void> {
    if (this.#closed) throw new CommandKerberosError('This Kerberos session was closed', 'other');
    await this.#loginOnce();
  }

  async refreshAfterUnauthorized(): Promise<boolean> {
    if (this.#closed) return false;
    this.#ticket = undefined;
    await this.#renew('was refused by Command (HTTP 401)');
    return true;
  }

  /** A new login for a ticket that worked before; a failure says so and keeps the underlying reason. */
  async #renew(why: string): Promise<void> {
    this.#logger.info('renewing the Kerberos ticket', { principal: this.principal, why });
    try {
      await this.#loginOnce();
    } catch (err) {
      if (!(err instanceof CommandKerberosError)) throw err;
      throw new CommandKerberosError(
        `The Kerberos ticket of ${this.principal} ${why} and a new one could not be obtained: ${err.message}`,
        err.reason,
        { transient: err.transient, cause: err },
      );
    }
  }

  /** Removes the private credential cache; the session cannot be used afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    const dir = this.#cacheDir;
    this.#cacheDir = undefined;
    this.#ticket = undefined;
    if (!dir) return;
    privateCacheDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
  }

  #context(): KerberosErrorContext {
    const m = this.#settings.method;
    return {
      principal: this.principal,
      spn: this.spn,
      krb5Conf: this.#settings.krb5Conf,
      keytab: m.kind === 'keytab' ? m.keytab : undefined,
      password: m.kind === 'password' ? m.password : undefined,
    };
  }

  /** One login in flight at a time; concurrent callers share it. */
  #loginOnce(): Promise<void> {
    this.#inFlight ??= this.#login().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #login(): Promise<void> {
    const s = this.#settings;
    try {
      await access(s.krb5Conf, constants.R_OK);
    } catch {
      throw new CommandKerberosError(
        `The Kerberos configuration ${s.krb5Conf} does not exist or cannot be read; install krb5-user (it creates /etc/krb5.conf) and configure the realm, or set krb5_conf`,
        'krb5-conf-missing',
      );
    }
    if (!this.#realm) {
      this.#realm = defaultRealmOf(await readFile(s.krb5Conf, 'utf8'));
      if (!this.#realm)
        throw kerberosError('Configuration file does not specify default realm', this.#context());
    }
    if (s.method.kind === 'keytab') {
      try {
        await access(s.method.keytab, constants.R_OK);
      } catch {
        throw kerberosError(`Key table file '${s.method.keytab}' not found`, this.#context());
      }
    }
    if (!this.#cacheDir) {
      // mkdtemp makes the directory 0700, so the ccache is private before kinit even creates it.
      this.#cacheDir = await mkdtemp(path.join(tmpdir(), 'kfsensor-krb5cc-'));
      trackCacheDir(this.#cacheDir);
    }
    const ccache = path.join(this.#cacheDir, 'ccache');
    const startedAt = this.#now();
    await this.#kinit(ccache);
    await chmod(ccache, 0o600);
    this.stats.logins += 1;
    const endsAt = ccacheTgtEndTime(await readFile(ccache)) ?? startedAt + 3600_000;
    const lifetime = Math.max(0, endsAt - startedAt);
    const skew = Math.min((this.#options.refreshSkewSeconds ?? 300) * 1000, lifetime / 2);
    this.#ticket = { endsAt, renewAt: endsAt - skew };
    this.#logger.info('obtained a Kerberos ticket', {
      principal: this.principal,
      method: s.method.kind,
      expires: new Date(endsAt).toISOString(),
    });
  }

  #kinit(ccache: string): Promise<void> {
    const s = this.#settings;
    const args =
      s.method.kind === 'keytab' ? ['-k', '-t', s.method.keytab, this.principal] : [this.principal];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KRB5_CONFIG: s.krb5Conf,
      KRB5CCNAME: `FILE:${ccache}`,
      // English messages, so errors can be recognised and explained.
      LC_ALL: 'C',
      LANGUAGE: 'C',
    };
    delete env.KRB5_CLIENT_KTNAME;
    // A password handed to the sensor through ${env:NAME} stays out of kinit's environment too.
    if (s.method.kind === 'password') {
      for (const [name, value] of Object.entries(env)) if (value === s.method.password) delete env[name];
    }
    const kinit = this.#options.kinitPath ?? 'kinit';
    const timeoutMs = this.#options.kinitTimeoutMs ?? 30_000;
    return new Promise<void>((resolve, reject) => {
      const child = spawn(kinit, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      let settled = false;
      const finish = (err?: CommandKerberosError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(
          new CommandKerberosError(
            `kinit for ${this.principal} did not finish in ${Math.round(timeoutMs / 1000)} s; check that the KDC in ${s.krb5Conf} is reachable`,
            'timeout',
            { transient: true },
          ),
        );
      }, timeoutMs);
      child.stdout.resume(); // the password prompt; never interesting
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        finish(
          err.code === 'ENOENT'
            ? new CommandKerberosError(
                `${kinit} was not found; install the MIT Kerberos client tools (krb5-user on Debian/Ubuntu, krb5-workstation on RHEL)`,
                'kinit-missing',
              )
            : new CommandKerberosError(`Could not run ${kinit}: ${err.message}`, 'other'),
        );
      });
      child.on('close', (code) => {
        if (code === 0) return finish();
        const lines = stderr
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean);
        finish(kerberosError(lines.at(-1) ?? `kinit exited with ${code}`, this.#context(), true));
      });
      // The password goes to kinit's stdin only: never argv or the environment, where other users could read it.
      child.stdin.on('error', () => undefined);
      child.stdin.end(s.method.kind === 'password' ? `${s.method.password}\n` : '');
    });
  }

  async #token(): Promise<string> {
    const k = await loadKerberos();
    const ccache = this.credentialCache;
    if (!ccache) throw kerberosError('No credentials cache found', this.#context());
    try {
      const token = await withKrb5Env(
        { KRB5CCNAME: `FILE:${ccache}`, KRB5_CONFIG: this.#settings.krb5Conf },
        async () => {
          const client = await k.initializeClient(this.#settings.gssService, {
            mechOID: k.GSS_MECH_OID_SPNEGO,
            principal: this.principal,
          });
          return client.step('');
        },
      );
      this.stats.tokens += 1;
      return token;
    } catch (err) {
      if (err instanceof CommandKerberosError) throw err;
      throw kerberosError(err instanceof Error ? err.message : String(err), this.#context(), true);
    }
  }
}
