// Who is calling: Basic (AD-style user names), Bearer JWTs from a real IdP, or anonymous; one interface per scheme.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { loadKerberos, withKrb5Env } from '#shared/keyfactor/kerberos';

export interface Principal {
  /** `DOMAIN\user`, `user`, the OAuth client id, or 'anonymous'; what the request log shows. */
  name: string;
  scheme: string;
  /** Without it, certificate endpoints answer 403 (Command's /certificates/collections/read/ permission). */
  canReadCertificates: boolean;
}

export type AuthResult =
  | { outcome: 'authenticated'; principal: Principal; responseHeaders?: Record<string, string> }
  /** A multi-leg scheme (Negotiate) needs another round trip: 401 carrying this WWW-Authenticate value. */
  | { outcome: 'continue'; wwwAuthenticate: string }
  | { outcome: 'rejected'; reason: string };

/**
 * One HTTP authentication scheme. Basic and Bearer finish in one leg; Negotiate (Kerberos) can be added later by
 * answering 'continue' with its server token and 'authenticated' once the GSS context completes.
 */
export interface AuthScheme {
  /** The token in `Authorization: <scheme> ...`, matched case-insensitively. */
  readonly scheme: string;
  /** The WWW-Authenticate value offered on a 401. */
  challenge(): string;
  authenticate(credentials: string, request: IncomingMessage): Promise<AuthResult>;
}

export interface BasicUser {
  username: string;
  password: string;
  domain?: string;
  /** Default true. False gives an authenticated user that Command would refuse certificate reads (403). */
  canReadCertificates?: boolean;
}

export interface OAuthOptions {
  issuer: string;
  jwksUri: string;
  audience: string;
}

export interface NegotiateOptions {
  /** The service keytab (KRB5_KTNAME) holding the HTTP/<host> key the clients' tickets are encrypted for. */
  keytab: string;
  /** The krb5.conf naming the realm (KRB5_CONFIG). */
  krb5Conf: string;
  /** `HTTP@host` to accept only that service; default '' accepts any principal in the keytab, as IIS does. */
  service?: string;
}

export interface SimulatorAuthOptions {
  basic?: BasicUser[];
  oauth?: OAuthOptions;
  /** Kerberos SPNEGO (`Authorization: Negotiate`), verified with a service keytab. */
  negotiate?: NegotiateOptions;
  /** Requests without an Authorization header are let in as 'anonymous'. Presented credentials are still checked. */
  anonymous?: boolean;
}

const REALM = 'Keyfactor Command Simulator';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares digests so neither the content nor the length of the secret leaks through timing. */
function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Splits `DOMAIN\user` and `user@domain` (sent by the Go auth client as `domain\user`) into their parts. */
export function parseAccountName(account: string): { domain: string | null; username: string } {
  const backslash = account.indexOf('\\');
  if (backslash >= 0) return { domain: account.slice(0, backslash), username: account.slice(backslash + 1) };
  const at = account.lastIndexOf('@');
  if (at > 0) return { domain: account.slice(at + 1), username: account.slice(0, at) };
  return { domain: null, username: account };
}

export class BasicAuthScheme implements AuthScheme {
  readonly scheme = 'Basic';

  constructor(private readonly users: readonly BasicUser[]) {}

  challenge(): string {
    return `Basic realm="${REALM}"`;
  }

  authenticate(credentials: string): Promise<AuthResult> {
    return Promise.resolve(this.check(credentials));
  }

  private check(credentials: string): AuthResult {
    const decoded = Buffer.from(credentials.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { outcome: 'rejected', reason: 'malformed Basic credentials' };
    const account = parseAccountName(decoded.slice(0, colon));
    const password = decoded.slice(colon + 1);
    // AD names are case-insensitive. A name without a domain is taken as the server's default domain, so it
    // matches a configured user of any domain; a name with a domain must match the configured one.
    const user = this.users.find(
      (u) =>
        u.username.toLowerCase() === account.username.toLowerCase() &&
        (account.domain === null || (u.domain ?? '').toLowerCase() === account.domain.toLowerCase()),
    );
    // Compare against something even for an unknown user, so timing does not reveal which names exist.
    const passwordMatches = secretsEqual(password, user?.password ?? '\u0000no-such-user');
    if (!user || !passwordMatches) return { outcome: 'rejected', reason: 'invalid user name or password' };
    return {
      outcome: 'authenticated',
      principal: {
        name: user.domain ? `${user.domain}\\${user.username}` : user.username,
        scheme: 'Basic',
        canReadCertificates: user.canReadCertificates ?? true,
      },
    };
  }
}

export class BearerJwtScheme implements AuthScheme {
  readonly scheme = 'Bearer';
  private readonly keySet: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly options: OAuthOptions) {
    this.keySet = createRemoteJWKSet(new URL(options.jwksUri));
  }

  challenge(): string {
    return `Bearer realm="${REALM}"`;
  }

  async authenticate(credentials: string): Promise<AuthResult> {
    try {
      const { payload } = await jwtVerify(credentials.trim(), this.keySet, {
        issuer: this.options.issuer,
        audience: this.options.audience,
      });
      const clientId = typeof payload['client_id'] === 'string' ? payload['client_id'] : undefined;
      return {
        outcome: 'authenticated',
        principal: {
          name: clientId ?? payload.sub ?? 'unknown-client',
          scheme: 'Bearer',
          canReadCertificates: true,
        },
      };
    } catch (error) {
      return { outcome: 'rejected', reason: error instanceof Error ? error.message : 'invalid token' };
    }
  }
}

/** Kerberos through SPNEGO: one leg with MIT Kerberos, the mutual-auth token returned on success. */
export class NegotiateScheme implements AuthScheme {
  readonly scheme = 'Negotiate';

  constructor(private readonly options: NegotiateOptions) {}

  challenge(): string {
    return 'Negotiate';
  }

  async authenticate(credentials: string): Promise<AuthResult> {
    const token = credentials.trim();
    if (!token) return { outcome: 'rejected', reason: 'no Negotiate token' };
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token))
      return { outcome: 'rejected', reason: 'malformed Negotiate token' };
    const kerberos = await loadKerberos();
    let result: { username: string; response: string; complete: boolean };
    try {
      result = await withKrb5Env(
        { KRB5_KTNAME: `FILE:${this.options.keytab}`, KRB5_CONFIG: this.options.krb5Conf },
        async () => {
          const server = await kerberos.initializeServer(this.options.service ?? '');
          await server.step(token);
          return { username: server.username, response: server.response, complete: server.contextComplete };
        },
      );
    } catch (error) {
      return {
        outcome: 'rejected',
        reason: error instanceof Error ? error.message.replace(/\s+/g, ' ') : 'invalid token',
      };
    }
    if (!result.complete) return { outcome: 'continue', wwwAuthenticate: `Negotiate ${result.response}` };
    return {
      outcome: 'authenticated',
      principal: { name: result.username, scheme: 'Negotiate', canReadCertificates: true },
      ...(result.response ? { responseHeaders: { 'www-authenticate': `Negotiate ${result.response}` } } : {}),
    };
  }
}

export type AuthDecision =
  | { ok: true; principal: Principal; responseHeaders: Record<string, string> }
  | { ok: false; message: string; challenges: string[] };

export class Authenticator {
  constructor(
    private readonly schemes: readonly AuthScheme[],
    private readonly allowAnonymous: boolean,
  ) {}

  static fromOptions(options: SimulatorAuthOptions): Authenticator {
    const schemes: AuthScheme[] = [];
    if (options.basic && options.basic.length > 0) schemes.push(new BasicAuthScheme(options.basic));
    if (options.oauth) schemes.push(new BearerJwtScheme(options.oauth));
    if (options.negotiate) schemes.push(new NegotiateScheme(options.negotiate));
    return new Authenticator(schemes, options.anonymous ?? false);
  }

  /** One WWW-Authenticate value per enabled scheme, as IIS sends them. */
  challenges(): string[] {
    return this.schemes.map((s) => s.challenge());
  }

  async authenticate(request: IncomingMessage): Promise<AuthDecision> {
    const header = request.headers.authorization;
    if (!header) {
      if (this.allowAnonymous) {
        return {
          ok: true,
          principal: { name: 'anonymous', scheme: 'anonymous', canReadCertificates: true },
          responseHeaders: {},
        };
      }
      return { ok: false, message: 'Authentication is required.', challenges: this.challenges() };
    }
    const space = header.indexOf(' ');
    const schemeName = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const scheme = this.schemes.find((s) => s.scheme.toLowerCase() === schemeName);
    if (!scheme) {
      return {
        ok: false,
        message: `The authentication scheme '${header.slice(0, space < 0 ? undefined : space)}' is not enabled.`,
        challenges: this.challenges(),
      };
    }
    const result = await scheme.authenticate(space < 0 ? '' : header.slice(space + 1), request);
    switch (result.outcome) {
      case 'authenticated':
        return { ok: true, principal: result.principal, responseHeaders: result.responseHeaders ?? {} };
      case 'continue':
        return {
          ok: false,
          message: 'Authentication is not complete.',
          challenges: [result.wwwAuthenticate],
        };
      case 'rejected':
        return {
          ok: false,
          message: `Authentication failed: ${result.reason}.`,
          challenges: this.challenges(),
        };
    }
  }
}
