// The Command REST client: authenticated, retried, concurrency-capped reads of certificates and status, paged as iterators.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { z } from 'zod';
import { silentLogger, type Logger } from '#shared/logging';
import type { CommandAuth } from './auth';
import { safeUrl } from './auth';
import {
  CommandAuthenticationError,
  CommandBadRequestError,
  CommandError,
  CommandNotFoundError,
  CommandPermissionError,
  CommandResponseError,
  CommandTlsError,
  CommandUnavailableError,
  type CommandErrorDetails,
} from './errors';
import { CommandCertificateSchema, CommandErrorBodySchema, type CommandCertificate } from './model';
import {
  DEFAULT_RETRY_POLICY,
  backoffDelayMs,
  parseRetryAfterMs,
  semaphoreForHost,
  sleep,
  type RetryPolicy,
  type Semaphore,
} from './retry';

export const SENSOR_USER_AGENT = 'keyfactor-command-sensor/0.1.0';

export interface CommandClientOptions {
  /** The API root, e.g. https://command.example.com/KeyfactorAPI (or /Keyfactor/API on 25.x). */
  baseUrl: string;
  auth: CommandAuth;
  timeoutMs?: number;
  /** PEM bundle trusted in addition to the system roots, for Command behind an internal CA. */
  caCert?: string | undefined;
  /** Turns TLS verification off. Only when explicitly asked; logged as a warning. */
  insecureSkipTlsVerify?: boolean;
  /** Requests in flight to this Command host at once, across every client in the process. */
  maxConcurrency?: number;
  retry?: Partial<RetryPolicy>;
  pageSize?: number;
  /** Paging parameter names: v11+ unprefixed (`QueryString`) or v10 `pq.`-prefixed. */
  paramStyle?: 'v11' | 'v10';
  logger?: Logger;
  random?: () => number;
  /** The axios instance for the OAuth2 token endpoint; built from the same TLS options when absent. */
  http?: AxiosInstance;
}

export interface CertificateQueryOptions {
  /** Command query text (compose it with shared/query's printer, not by string splicing). */
  query?: string | null | undefined;
  pageSize?: number;
  /** Sort key; `Id` by default because Ids never change, so pages stay stable while certificates are added. */
  sortField?: string;
  sortAscending?: boolean;
  includeLocations?: boolean;
  includeMetadata?: boolean;
  includeHasPrivateKey?: boolean;
  /** Both default to true: without them Command silently leaves revoked and expired certificates out. */
  includeRevoked?: boolean;
  includeExpired?: boolean;
  collectionId?: number;
  signal?: AbortSignal;
}

/** A certificate object that failed validation; it still counts in the inventory, with the reason. */
export interface RejectedCertificate {
  id: number | undefined;
  index: number;
  reason: string;
  raw: unknown;
}

export interface CertificatePage {
  pageNumber: number;
  pageSize: number;
  /** `x-total-count`: matching certificates across all pages at the time this page was served. */
  totalCount: number | undefined;
  certificates: CommandCertificate[];
  rejected: RejectedCertificate[];
}

/**
 * A certificate collection (`GET /CertificateCollections`, Models.CertificateQuery): `Content` is its query. Only the
 * fields the sensor reads are checked; extra fields pass, a null Content (nullable in the SDK) reads as "".
 */
export const CommandCollectionSchema = z.looseObject({
  Id: z.number().int(),
  Name: z.string(),
  Content: z
    .string()
    .nullable()
    .optional()
    .transform((value) => value ?? ''),
});
export type CommandCollection = z.infer<typeof CommandCollectionSchema>;

/** An expiration alert (`GET /Alerts/Expiration`); CertificateQuery is the collection it watches. */
export const CommandExpirationAlertSchema = z.looseObject({
  Id: z.number().int(),
  DisplayName: z
    .string()
    .nullable()
    .optional()
    .transform((value) => value ?? ''),
  CertificateQuery: z
    .looseObject({
      Id: z.number().int(),
      Name: z
        .string()
        .nullable()
        .optional()
        .transform((value) => value ?? ''),
    })
    .nullable()
    .optional()
    .transform((value) => value ?? null),
});
export type CommandExpirationAlert = z.infer<typeof CommandExpirationAlertSchema>;

/**
 * A workflow definition (`GET /Workflow/Definitions`). Key is a string in the docs; a number is accepted and kept as
 * text, since only its meaning (collection id for collection types, template for Enrollment) matters.
 */
export const CommandWorkflowDefinitionSchema = z.looseObject({
  Id: z.string(),
  DisplayName: z
    .string()
    .nullable()
    .optional()
    .transform((value) => value ?? ''),
  Key: z
    .union([z.string(), z.number()])
    .nullable()
    .optional()
    .transform((value) => (value === null || value === undefined ? '' : String(value))),
  WorkflowType: z.string(),
});
export type CommandWorkflowDefinition = z.infer<typeof CommandWorkflowDefinitionSchema>;

/** Paging of the small list endpoints (collections, alerts, workflow definitions). */
export interface ListOptions {
  /** Objects per page; default the client's page size, at most 500. */
  pageSize?: number;
  signal?: AbortSignal;
}

/** A guard against a server that never ends a list: 10,000 pages is far beyond any real configuration. */
const MAX_LIST_PAGES = 10_000;

export interface CommandClientStats {
  requests: number;
  retries: number;
  reauthentications: number;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

const TLS_ERROR_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'EPROTO',
]);

const StringArraySchema = z.array(z.string());

/** What to check when Command refuses credentials (HTTP 401), per authentication scheme. */
const AUTH_HINTS: Record<string, string> = {
  Basic: 'check the username (DOMAIN\\user or user@domain) and the password',
  Bearer:
    "check the OAuth2 client id, secret, scope and audience, and that Command trusts the token endpoint's issuer",
  Negotiate:
    "check that the SPN is Command's service principal, that the Kerberos principal may sign in to Command, and " +
    'that the clocks of this host, the KDC and Command agree',
};

/** The Command permission a refused (HTTP 403) read needs: certificates for the scan, others for licensing. */
function permissionHint(path: string): string {
  if (path.startsWith('/Certificates'))
    return 'grant it certificate read permission (/certificates/collections/read/) in Command';
  return (
    `grant it read permission for ${path} in Command (the sensor reads collections, expiration alerts and workflow ` +
    'definitions for the actioned-certificate count)'
  );
}

export class CommandClient {
  readonly baseUrl: string;
  readonly stats: CommandClientStats = { requests: 0, retries: 0, reauthentications: 0 };
  readonly #auth: CommandAuth;
  readonly #http: AxiosInstance;
  readonly #semaphore: Semaphore;
  readonly #retry: RetryPolicy;
  readonly #pageSize: number;
  readonly #paramStyle: 'v11' | 'v10';
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #timeoutMs: number;

  constructor(options: CommandClientOptions) {
    this.baseUrl = normaliseBaseUrl(options.baseUrl);
    const url = new URL(this.baseUrl);
    this.#auth = options.auth;
    this.#logger = options.logger ?? silentLogger;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#pageSize = options.pageSize ?? 1000;
    this.#paramStyle = options.paramStyle ?? 'v11';
    this.#random = options.random ?? Math.random;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    const maxConcurrency = options.maxConcurrency ?? 4;
    this.#semaphore = semaphoreForHost(url.host, maxConcurrency);
    if (options.insecureSkipTlsVerify) {
      this.#logger.warn(
        'TLS verification of Command is turned off; anyone on the network path can impersonate it',
        {
          host: url.host,
        },
      );
    }
    this.#http = createHttp({
      timeoutMs: this.#timeoutMs,
      caCert: options.caCert,
      insecureSkipTlsVerify: options.insecureSkipTlsVerify ?? false,
      maxSockets: maxConcurrency,
    });
  }

  /** `GET /Status/Endpoints`: the login check Keyfactor's own clients use; proves URL, TLS and credentials. */
  async verifyConnection(): Promise<{ endpoints: string[]; productVersion: string | undefined }> {
    const response = await this.#get('/Status/Endpoints', new URLSearchParams());
    const parsed = StringArraySchema.safeParse(response.body);
    if (!parsed.success) {
      throw new CommandResponseError(
        `GET /Status/Endpoints did not return a list of endpoints; is ${safeUrl(this.baseUrl)} Command's API URL?`,
        { path: '/Status/Endpoints', status: response.status },
      );
    }
    return { endpoints: parsed.data, productVersion: response.headers['x-keyfactor-product-version'] };
  }

  async getCertificate(
    id: number,
    include: Pick<
      CertificateQueryOptions,
      'includeLocations' | 'includeMetadata' | 'includeHasPrivateKey'
    > = {},
  ): Promise<CommandCertificate> {
    const params = new URLSearchParams({
      includeLocations: String(include.includeLocations ?? true),
      includeMetadata: String(include.includeMetadata ?? true),
      includeHasPrivateKey: String(include.includeHasPrivateKey ?? true),
    });
    const path = `/Certificates/${encodeURIComponent(String(id))}`;
    const response = await this.#get(path, params);
    const parsed = CommandCertificateSchema.safeParse(response.body);
    if (!parsed.success) {
      throw new CommandResponseError(`certificate ${id}: ${describeIssues(parsed.error)}`, { path });
    }
    return parsed.data;
  }

  /** One page of `GET /Certificates`; invalid certificate objects come back in `rejected`, never dropped. */
  async getCertificatePage(
    pageNumber: number,
    options: CertificateQueryOptions = {},
  ): Promise<CertificatePage> {
    const pageSize = options.pageSize ?? this.#pageSize;
    const params = this.#certificateParams(pageNumber, pageSize, options);
    const response = await this.#get('/Certificates', params, options.signal);
    if (!Array.isArray(response.body)) {
      throw new CommandResponseError(
        `GET /Certificates page ${pageNumber} returned ${describeJson(response.body)}`,
        {
          path: '/Certificates',
          status: response.status,
        },
      );
    }
    const totalHeader = response.headers['x-total-count'];
    const totalCount =
      totalHeader !== undefined && /^\d+$/.test(totalHeader) ? Number(totalHeader) : undefined;
    const certificates: CommandCertificate[] = [];
    const rejected: RejectedCertificate[] = [];
    response.body.forEach((raw: unknown, index) => {
      const parsed = CommandCertificateSchema.safeParse(raw);
      if (parsed.success) {
        certificates.push(parsed.data);
        return;
      }
      const id = certificateIdOf(raw);
      rejected.push({
        id,
        index,
        raw,
        reason: `certificate ${id ?? `#${index + 1} of page ${pageNumber} (no Id)`}: ${describeIssues(parsed.error)}`,
      });
    });
    return { pageNumber, pageSize, totalCount, certificates, rejected };
  }

  /** Pages of `GET /Certificates` in order until the result set is exhausted. */
  async *certificatePages(
    options: CertificateQueryOptions = {},
    startPage = 1,
  ): AsyncGenerator<CertificatePage> {
    const pageSize = options.pageSize ?? this.#pageSize;
    let previousFirstId: number | undefined;
    for (let pageNumber = startPage; ; pageNumber += 1) {
      const page = await this.getCertificatePage(pageNumber, options);
      const count = page.certificates.length + page.rejected.length;
      if (count === 0) return;
      const firstId = page.certificates[0]?.Id ?? page.rejected[0]?.id;
      if (pageNumber > startPage && firstId !== undefined && firstId === previousFirstId) {
        throw new CommandResponseError(
          `Command returned the same certificates for pages ${pageNumber - 1} and ${pageNumber}; it is ignoring the paging parameters (param style ${this.#paramStyle})`,
          { path: '/Certificates' },
        );
      }
      previousFirstId = firstId;
      yield page;
      if (count < pageSize) return;
      if (page.totalCount !== undefined && pageNumber * pageSize >= page.totalCount) return;
    }
  }

  /** Every certificate of the result set; rejected objects go to `onRejected` or, without a handler, fail the call. */
  async *certificates(
    options: CertificateQueryOptions & { onRejected?: (rejected: RejectedCertificate) => void } = {},
  ): AsyncGenerator<CommandCertificate> {
    for await (const page of this.certificatePages(options)) {
      for (const rejected of page.rejected) {
        if (!options.onRejected) throw new CommandResponseError(rejected.reason, { path: '/Certificates' });
        options.onRejected(rejected);
      }
      yield* page.certificates;
    }
  }

  /** `GET /CertificateCollections`, every page: the saved searches (Content = the collection's query). */
  async listCollections(options: ListOptions = {}): Promise<CommandCollection[]> {
    return this.#listAll('/CertificateCollections', 'pq', CommandCollectionSchema, 'collection', options);
  }

  /** `GET /Alerts/Expiration`, every page: each alert names the collection it watches in CertificateQuery. */
  async listExpirationAlerts(options: ListOptions = {}): Promise<CommandExpirationAlert[]> {
    return this.#listAll(
      '/Alerts/Expiration',
      'pagedQuery',
      CommandExpirationAlertSchema,
      'expiration alert',
      options,
    );
  }

  /** `GET /Workflow/Definitions`, every page: collection-triggered types carry the collection id in Key. */
  async listWorkflowDefinitions(options: ListOptions = {}): Promise<CommandWorkflowDefinition[]> {
    return this.#listAll(
      '/Workflow/Definitions',
      'query',
      CommandWorkflowDefinitionSchema,
      'workflow definition',
      options,
    );
  }

  /**
   * Reads a small list endpoint page by page until a short or empty page (or x-total-count) ends it. Every object
   * must pass `schema`; one that does not fails the call naming the object, since a partial list would mislead.
   */
  async #listAll<S extends z.ZodType>(
    path: string,
    v10Prefix: string,
    schema: S,
    what: string,
    options: ListOptions,
  ): Promise<z.infer<S>[]> {
    const pageSize = options.pageSize ?? Math.min(this.#pageSize, 500);
    const name = (v11Name: string): string =>
      this.#paramStyle === 'v10'
        ? `${v10Prefix}.${v11Name.charAt(0).toLowerCase()}${v11Name.slice(1)}`
        : v11Name;
    const items: z.infer<S>[] = [];
    let previousFirst: string | undefined;
    for (let pageNumber = 1; pageNumber <= MAX_LIST_PAGES; pageNumber += 1) {
      const params = new URLSearchParams();
      params.set(name('PageReturned'), String(pageNumber));
      params.set(name('ReturnLimit'), String(pageSize));
      const response = await this.#get(path, params, options.signal);
      if (!Array.isArray(response.body)) {
        throw new CommandResponseError(
          `GET ${path} page ${pageNumber} returned ${describeJson(response.body)} of ${what}s`,
          { path, status: response.status },
        );
      }
      const page = response.body as unknown[];
      if (page.length === 0) return items;
      const first = JSON.stringify(page[0]);
      if (pageNumber > 1 && first === previousFirst) {
        throw new CommandResponseError(
          `Command returned the same ${what}s for pages ${pageNumber - 1} and ${pageNumber} of GET ${path}; it is ignoring the paging parameters (param style ${this.#paramStyle})`,
          { path },
        );
      }
      previousFirst = first;
      page.forEach((raw, index) => {
        const parsed = schema.safeParse(raw);
        if (!parsed.success) {
          const id = (raw as { Id?: unknown } | null)?.Id;
          const label =
            typeof id === 'number' || typeof id === 'string'
              ? `${what} ${id}`
              : `${what} #${index + 1} of page ${pageNumber}`;
          throw new CommandResponseError(`GET ${path}: ${label}: ${describeIssues(parsed.error)}`, {
            path,
            status: response.status,
          });
        }
        items.push(parsed.data);
      });
      if (page.length < pageSize) return items;
      const totalHeader = response.headers['x-total-count'];
      if (
        totalHeader !== undefined &&
        /^\d+$/.test(totalHeader) &&
        pageNumber * pageSize >= Number(totalHeader)
      ) {
        return items;
      }
    }
    throw new CommandResponseError(
      `GET ${path} still had ${what}s after ${MAX_LIST_PAGES} pages; refusing to read further`,
      { path },
    );
  }

  #certificateParams(pageNumber: number, pageSize: number, o: CertificateQueryOptions): URLSearchParams {
    const v10 = this.#paramStyle === 'v10';
    const name = (v11Name: string, v10Name: string): string => (v10 ? `pq.${v10Name}` : v11Name);
    const params = new URLSearchParams();
    if (o.query && o.query.trim() !== '') params.set(name('QueryString', 'queryString'), o.query);
    params.set(name('PageReturned', 'pageReturned'), String(pageNumber));
    params.set(name('ReturnLimit', 'returnLimit'), String(pageSize));
    params.set(name('SortField', 'sortField'), o.sortField ?? 'Id');
    params.set(name('SortAscending', 'sortAscending'), o.sortAscending === false ? '1' : '0');
    params.set(name('IncludeRevoked', 'includeRevoked'), String(o.includeRevoked ?? true));
    params.set(name('IncludeExpired', 'includeExpired'), String(o.includeExpired ?? true));
    params.set('includeLocations', String(o.includeLocations ?? true));
    params.set('includeMetadata', String(o.includeMetadata ?? true));
    params.set('includeHasPrivateKey', String(o.includeHasPrivateKey ?? true));
    if (o.collectionId !== undefined) params.set('collectionId', String(o.collectionId));
    return params;
  }

  /** A GET with authentication, retries, one re-authentication on 401, and errors that say what to fix. */
  async #get(path: string, params: URLSearchParams, signal?: AbortSignal): Promise<RawResponse> {
    const query = params.toString();
    const url = `${this.baseUrl}${path}${query ? `?${query}` : ''}`;
    const details: CommandErrorDetails = { method: 'GET', path };
    let reauthenticated = false;
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.#retry.maxAttempts; attempt += 1) {
      signal?.throwIfAborted();
      let response: AxiosResponse<string>;
      try {
        const authorization = await this.#auth.authorization();
        response = await this.#semaphore.run(() => {
          this.stats.requests += 1;
          return this.#http.get<string>(url, {
            headers: { Authorization: authorization },
            ...(signal ? { signal } : {}),
          });
        });
      } catch (err) {
        if (err instanceof CommandError && !err.transient) throw err;
        signal?.throwIfAborted();
        const code = networkErrorCode(err);
        if (TLS_ERROR_CODES.has(code)) {
          throw new CommandTlsError(
            `TLS verification of ${new URL(this.baseUrl).host} failed (${code}); if Command uses an internal CA, set ca_cert to that CA's PEM bundle`,
            details,
            { cause: new Error(code) },
          );
        }
        lastProblem = err instanceof CommandError ? err.message : `network error ${code}`;
        await this.#backoff(attempt, undefined, path, lastProblem);
        continue;
      }

      const { status } = response;
      const headers = lowerCaseHeaders(response.headers);
      if (status >= 200 && status < 300) {
        const body = parseJsonBody(response.data);
        if (body.ok) return { status, headers, body: body.value };
        // A truncated or garbled body is usually a dropped connection; the same request normally succeeds.
        lastProblem = `a response body that is not valid JSON (${body.reason})`;
        await this.#backoff(attempt, undefined, path, lastProblem);
        continue;
      }
      const commandBody = CommandErrorBodySchema.safeParse(parseJsonBody(response.data).value);
      const statusDetails: CommandErrorDetails = {
        ...details,
        status,
        ...(commandBody.success
          ? { commandMessage: commandBody.data.Message, commandErrorCode: commandBody.data.ErrorCode }
          : {}),
      };
      const commandSays = commandBody.success ? ` Command says: "${commandBody.data.Message}"` : '';
      if (status === 401) {
        if (!reauthenticated && (await this.#auth.refreshAfterUnauthorized())) {
          reauthenticated = true;
          this.stats.reauthentications += 1;
          attempt -= 1; // a re-authentication is not a failed attempt
          continue;
        }
        throw new CommandAuthenticationError(
          `Command refused the ${this.#auth.scheme} credentials of ${this.#auth.principal} (HTTP 401); ${AUTH_HINTS[this.#auth.scheme] ?? 'check the credentials'}.${commandSays}`,
          statusDetails,
        );
      }
      if (status === 403) {
        throw new CommandPermissionError(
          `${this.#auth.principal} may not call GET ${path} (HTTP 403); ${permissionHint(path)}.${commandSays}`,
          statusDetails,
        );
      }
      if (status === 404) {
        const hint =
          path === '/Status/Endpoints' || path === '/Certificates'
            ? `; check the API URL ${safeUrl(this.baseUrl)} (it usually ends in /KeyfactorAPI, or /Keyfactor/API on 25.x)`
            : '';
        throw new CommandNotFoundError(
          `Command has no GET ${path} (HTTP 404)${hint}.${commandSays}`,
          statusDetails,
        );
      }
      if (status === 400) {
        const what =
          params.has('QueryString') || params.has('pq.queryString') ? 'the query filter' : 'the request';
        throw new CommandBadRequestError(
          `Command rejected ${what} for GET ${path} (HTTP 400).${commandSays || ' No reason was given.'}`,
          statusDetails,
        );
      }
      if (status === 429 || status >= 500) {
        const retryAfterMs = status === 429 ? parseRetryAfterMs(headers['retry-after']) : undefined;
        if (retryAfterMs !== undefined && retryAfterMs > this.#retry.maxRetryAfterMs) {
          throw new CommandUnavailableError(
            `Command asked to wait ${Math.round(retryAfterMs / 1000)} s before GET ${path} (HTTP 429), longer than the ${this.#retry.maxRetryAfterMs / 1000} s this sensor waits; try again later`,
            statusDetails,
          );
        }
        lastProblem = `HTTP ${status}`;
        await this.#backoff(attempt, retryAfterMs, path, lastProblem);
        continue;
      }
      throw new CommandError(`GET ${path} failed with HTTP ${status}.${commandSays}`, statusDetails);
    }
    throw new CommandUnavailableError(
      `Command at ${new URL(this.baseUrl).host} did not answer GET ${path} successfully after ${this.#retry.maxAttempts} attempts (last: ${lastProblem})`,
      details,
    );
  }

  async #backoff(
    attempt: number,
    retryAfterMs: number | undefined,
    path: string,
    problem: string,
  ): Promise<void> {
    if (attempt >= this.#retry.maxAttempts) return;
    this.stats.retries += 1;
    const delayMs = retryAfterMs ?? backoffDelayMs(attempt, this.#retry, this.#random);
    this.#logger.warn('retrying a Command request', { path, attempt, problem, delayMs });
    await sleep(delayMs);
  }
}

function normaliseBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new CommandError(
      `"${baseUrl}" is not a URL; give Command's API URL such as https://command.example.com/KeyfactorAPI`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CommandError(`Command's API URL must start with https:// (got ${url.protocol})`);
  }
  if (url.username || url.password) {
    throw new CommandError('Put credentials in the auth settings, not in the Command URL');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function createHttp(o: {
  timeoutMs: number;
  caCert: string | undefined;
  insecureSkipTlsVerify: boolean;
  maxSockets: number;
}): AxiosInstance {
  const ca = o.caCert ? [...tls.rootCertificates, o.caCert] : undefined;
  return axios.create({
    timeout: o.timeoutMs,
    responseType: 'text',
    // Keep the raw text: we parse it ourselves to tell truncated JSON apart from a wrong shape.
    transformResponse: (data: string) => data,
    validateStatus: () => true,
    maxRedirects: 0,
    decompress: true,
    headers: {
      Accept: 'application/json',
      'X-Keyfactor-Requested-With': 'APIClient',
      'x-keyfactor-api-version': '1',
      'User-Agent': SENSOR_USER_AGENT,
    },
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: o.maxSockets }),
    httpsAgent: new https.Agent({
      keepAlive: true,
      maxSockets: o.maxSockets,
      rejectUnauthorized: !o.insecureSkipTlsVerify,
      ...(ca ? { ca } : {}),
    }),
  });
}

/** An axios instance for the OAuth2 token endpoint that trusts the same extra CA. */
export function createTokenHttp(o: { timeoutMs?: number; caCert?: string | undefined } = {}): AxiosInstance {
  const ca = o.caCert ? [...tls.rootCertificates, o.caCert] : undefined;
  return axios.create({
    timeout: o.timeoutMs ?? 30_000,
    maxRedirects: 0,
    headers: { 'User-Agent': SENSOR_USER_AGENT },
    httpsAgent: new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) }),
  });
}

function parseJsonBody(
  text: unknown,
): { ok: true; value: unknown } | { ok: false; value: undefined; reason: string } {
  if (typeof text !== 'string') return { ok: false, value: undefined, reason: 'no body' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, value: undefined, reason: `${text.length} bytes; ${(err as Error).message}` };
  }
}

function lowerCaseHeaders(headers: AxiosResponse['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (Array.isArray(value)) out[key.toLowerCase()] = value.join(', ');
    else if (typeof value === 'string' || typeof value === 'number') out[key.toLowerCase()] = String(value);
  }
  return out;
}

function networkErrorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e.cause?.code === 'string' && TLS_ERROR_CODES.has(e.cause.code)) return e.cause.code;
  if (typeof e.code === 'string') return e.code;
  return 'unknown';
}

function certificateIdOf(raw: unknown): number | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const id = (raw as { Id?: unknown }).Id;
  return typeof id === 'number' && Number.isInteger(id) ? id : undefined;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.join('.') || '(object)';
      return issue.code === 'invalid_type' && issue.message.includes('undefined')
        ? `missing required field ${path}`
        : `${path}: ${issue.message}`;
    })
    .join('; ');
}

function describeJson(value: unknown): string {
  if (value === null) return 'null instead of a list';
  if (Array.isArray(value)) return 'a list';
  return `a JSON ${typeof value} instead of a list`;
}
