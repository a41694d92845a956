// Authentication to Command behind one small interface: Basic (AD) and OAuth2 client credentials; Kerberos plugs in later.
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { CommandTokenError } from './errors';

export interface CommandAuth {
  /** Scheme name for logs and errors ("Basic", "Bearer", "Negotiate"). */
  readonly scheme: string;
  /** A description of the identity that is safe to show (user or client id, never a secret). */
  readonly principal: string;
  /** The Authorization header value for the next request. */
  authorization(): Promise<string>;
  /** Called after a 401; returns true when fresh credentials are worth one more try. */
  refreshAfterUnauthorized(): Promise<boolean>;
}

/** Splits `DOMAIN\user` or `user@domain` and re-joins them in the `DOMAIN\user` form Command's AD Basic auth expects. */
export function normaliseBasicUsername(username: string): string {
  const backslash = username.indexOf('\\');
  if (backslash > 0) return username;
  const at = username.lastIndexOf('@');
  if (at > 0 && at < username.length - 1) return `${username.slice(at + 1)}\\${username.slice(0, at)}`;
  return username;
}

export class BasicAuth implements CommandAuth {
  readonly scheme = 'Basic';
  readonly principal: string;
  readonly #header: string;

  constructor(username: string, password: string) {
    if (!username) throw new CommandTokenError('Basic auth needs a username');
    if (!password) throw new CommandTokenError(`Basic auth for "${username}" needs a password`);
    this.principal = normaliseBasicUsername(username);
    this.#header = `Basic ${Buffer.from(`${this.principal}:${password}`, 'utf8').toString('base64')}`;
  }

  authorization(): Promise<string> {
    return Promise.resolve(this.#header);
  }

  refreshAfterUnauthorized(): Promise<boolean> {
    // The same password will be refused again; retrying only risks an AD lockout.
    return Promise.resolve(false);
  }
}

export interface OAuth2ClientCredentialsOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string | undefined;
  audience?: string | undefined;
  /** How the client authenticates to the token endpoint: form fields (default, as Keyfactor's examples) or HTTP Basic. */
  clientAuthMethod?: 'client_secret_post' | 'client_secret_basic';
  /** Renew this long before the token expires, so a request never carries a token that dies in flight. */
  refreshSkewSeconds?: number;
  now?: () => number;
}

const TokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
});

const TokenErrorSchema = z.looseObject({ error: z.string(), error_description: z.string().optional() });

export class OAuth2ClientCredentialsAuth implements CommandAuth {
  readonly scheme = 'Bearer';
  readonly principal: string;
  readonly #options: OAuth2ClientCredentialsOptions;
  readonly #http: AxiosInstance;
  readonly #now: () => number;
  #token: { value: string; renewAt: number } | undefined;
  #inFlight: Promise<string> | undefined;
  /** Token requests made so far; tests and logs use it to prove caching works. */
  tokenRequests = 0;

  constructor(options: OAuth2ClientCredentialsOptions, http: AxiosInstance) {
    for (const key of ['tokenUrl', 'clientId', 'clientSecret'] as const) {
      if (!options[key]) throw new CommandTokenError(`OAuth2 client credentials need ${key}`);
    }
    this.#options = options;
    this.#http = http;
    this.#now = options.now ?? Date.now;
    this.principal = `client ${options.clientId}`;
  }

  async authorization(): Promise<string> {
    const token = this.#token;
    if (token && this.#now() < token.renewAt) return `Bearer ${token.value}`;
    return `Bearer ${await this.#fetchOnce()}`;
  }

  async refreshAfterUnauthorized(): Promise<boolean> {
    this.#token = undefined;
    await this.#fetchOnce();
    return true;
  }

  /** One token request in flight at a time; concurrent callers share its result. */
  #fetchOnce(): Promise<string> {
    this.#inFlight ??= this.#fetchToken().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #fetchToken(): Promise<string> {
    const o = this.#options;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    };
    if (o.clientAuthMethod === 'client_secret_basic') {
      const id = encodeURIComponent(o.clientId);
      const secret = encodeURIComponent(o.clientSecret);
      headers.Authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    } else {
      form.set('client_id', o.clientId);
      form.set('client_secret', o.clientSecret);
    }
    if (o.scope) form.set('scope', o.scope);
    if (o.audience) form.set('audience', o.audience);
    this.tokenRequests += 1;
    const started = this.#now();
    let response;
    try {
      response = await this.#http.post<string>(o.tokenUrl, form.toString(), {
        headers,
        responseType: 'text',
        transformResponse: (body: string) => body,
        validateStatus: () => true,
      });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'network error';
      throw new CommandTokenError(
        `Could not reach the OAuth2 token endpoint ${safeUrl(o.tokenUrl)} (${code}); check token_url and the network`,
        {},
        { transient: true, cause: new Error(code) },
      );
    }
    const body = parseJson(response.data);
    if (response.status < 200 || response.status >= 300) {
      const oauthError = TokenErrorSchema.safeParse(body);
      const reason = oauthError.success
        ? `${oauthError.data.error}${oauthError.data.error_description ? `: ${oauthError.data.error_description}` : ''}`
        : `HTTP ${response.status}`;
      const hint =
        oauthError.success && oauthError.data.error === 'invalid_client'
          ? 'check client_id and client_secret'
          : oauthError.success && oauthError.data.error === 'invalid_scope'
            ? 'check scope'
            : 'check token_url, client_id, client_secret and scope';
      throw new CommandTokenError(
        `The OAuth2 token endpoint refused client "${o.clientId}" (${reason}); ${hint}`,
        { status: response.status },
        { transient: response.status === 429 || response.status >= 500 },
      );
    }
    const token = TokenResponseSchema.safeParse(body);
    if (!token.success) {
      throw new CommandTokenError(
        `The OAuth2 token endpoint ${safeUrl(o.tokenUrl)} answered without an access_token`,
        { status: response.status },
      );
    }
    const lifetimeMs = (token.data.expires_in ?? 300) * 1000;
    const skewMs = Math.min((this.#options.refreshSkewSeconds ?? 60) * 1000, lifetimeMs / 2);
    this.#token = { value: token.data.access_token, renewAt: started + lifetimeMs - skewMs };
    return token.data.access_token;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A URL without userinfo or query, fit for an error message. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid URL>';
  }
}
