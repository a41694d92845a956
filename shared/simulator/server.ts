// startSimulator: an HTTP(S) server that answers like Keyfactor Command for everything the sensor reads.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError } from '#shared/errors';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { ADMIN_PREFIX, handleAdminRequest } from './admin';
import { Authenticator, type Principal, type SimulatorAuthOptions } from './auth';
import { warmCertificateJson } from './certificate-json';
import { CertificateResultCache, warmSortKeys } from './certificate-results';
import { defaultExtras, type SimulatorExtras } from './extras';
import { describeFiredFaults, FaultInjector, type FaultAction, type FaultSelection } from './faults';
import { SimulatorInventory, UnknownCertificateError } from './inventory';
import { normaliseListParams, type ListParams } from './paging';
import { RequestLog, type RequestLogEntry } from './request-log';
import { errorBody, errorResponse, type ApiResponse } from './responses';
import { DerivedViews, matchRoute } from './routes';
import { createSelfSignedCertificate } from './tls';

export const DEFAULT_PRODUCT_VERSION = '25.4.1.0';
export const DEFAULT_API_BASE_PATH = '/KeyfactorAPI';
export const REQUESTED_WITH_HEADER = 'x-keyfactor-requested-with';

export interface SimulatorOptions {
  /** The inventory to serve; it stays live, so tests may change it while the server runs. */
  inventory?: SimulatorInventory;
  /** Shortcut for `inventory: new SimulatorInventory({ certificates })`. */
  certificates?: Iterable<CommandCertificate>;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default '/KeyfactorAPI'; matched case-insensitively. Command 25 labs use '/Keyfactor/API'. */
  apiBasePath?: string;
  /** PEM certificate and key, or 'self-signed' to make one for localhost/127.0.0.1 (see caCertPem). */
  tls?: { cert: string; key: string; caCertPem?: string } | 'self-signed';
  /** Default: anonymous access only. */
  auth?: SimulatorAuthOptions;
  /** Sent as x-keyfactor-product-version. Default '25.4.1.0'. */
  productVersion?: string;
  /** The clock for expiry, %TODAY%, ImportDate and the request log. Default: the inventory's clock. */
  now?: () => Date;
  /** Seed of the generator behind probabilistic faults. Default 1. */
  seed?: number;
  /** Enables /_simulator/ when set; callers send it in x-simulator-admin-token. */
  adminToken?: string;
  /** Collections, expiration alerts and workflow definitions; absent parts use the defaults. */
  extras?: Partial<SimulatorExtras>;
  /** Default true, as Command rejects requests without X-Keyfactor-Requested-With. */
  requireRequestedWith?: boolean;
  /** How many requests the log keeps. Default 10,000. */
  requestLogLimit?: number;
  /**
   * Serialize every certificate in the background after start (default true), so even the first pass through
   * the pages joins ready strings. Requests are served meanwhile; `warmed` resolves when it is done.
   */
  prewarm?: boolean;
}

export interface SimulatorStats {
  certificates: number;
  inventoryVersion: number;
  requestsLogged: number;
  faults: ReturnType<FaultInjector['list']>;
  resultCache: ReturnType<CertificateResultCache['stats']>;
}

export interface RunningSimulator {
  /** Base URL of the API, e.g. http://127.0.0.1:PORT/KeyfactorAPI. */
  url: string;
  /** Scheme, host and port only; the admin API lives at `${origin}/_simulator/`. */
  origin: string;
  port: number;
  /** PEM a client must trust when TLS is self-signed (or was given with the certificate). */
  caCertPem?: string;
  inventory: SimulatorInventory;
  faults: FaultInjector;
  requestLog: RequestLog;
  extras: SimulatorExtras;
  /** Resolves when the background cache warm-up has finished (at once when prewarm is false). */
  warmed: Promise<void>;
  stats(): SimulatorStats;
  close(): Promise<void>;
}

function normaliseBasePath(path: string): string {
  const trimmed = path.trim().replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** The part of `pathname` after the base path, or null when the request is for something else. */
function pathUnderBase(pathname: string, basePath: string): string | null {
  if (pathname.length < basePath.length) return null;
  if (pathname.slice(0, basePath.length).toLowerCase() !== basePath.toLowerCase()) return null;
  const rest = pathname.slice(basePath.length);
  if (rest === '') return '/';
  return rest.startsWith('/') ? rest : null;
}

const HTML_ERROR_PAGE =
  '<!DOCTYPE html><html><head><title>Runtime Error</title></head>' +
  "<body><h1>Server Error in '/KeyfactorAPI' Application.</h1></body></html>";

function bodyText(response: ApiResponse): string {
  return typeof response.body === 'string' ? response.body : response.body.toString('utf8');
}

/** Rewrites a real response into the garbled 200 a 'malformed' fault promises. */
function malformedResponse(
  response: ApiResponse,
  variant: 'not-json' | 'html' | 'wrong-shape',
): { response: ApiResponse; contentType: string } {
  const headers = { ...response.headers };
  if (variant === 'html') {
    return {
      response: { status: 200, headers, body: HTML_ERROR_PAGE, kind: 'error' },
      contentType: 'text/html; charset=utf-8',
    };
  }
  if (variant === 'not-json') {
    const body = `${bodyText(response).slice(0, 64)}<<simulator fault: this body is not JSON>>`;
    return { response: { status: 200, headers, body, kind: 'error' }, contentType: JSON_CONTENT_TYPE };
  }
  // Valid JSON of the other shape: an object where a list belongs and a list where an object belongs.
  const body =
    response.kind === 'list'
      ? `{"Items":${bodyText(response) || '[]'}}`
      : response.kind === 'object'
        ? `[${bodyText(response)}]`
        : '{"Unexpected":true}';
  return { response: { status: 200, headers, body, kind: 'error' }, contentType: JSON_CONTENT_TYPE };
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Certificates warmed per event-loop turn: small enough that a request waits at most a few ms behind it. */
const WARM_CHUNK = 500;

async function warmCaches(inventory: SimulatorInventory, derived: DerivedViews, stopped: () => boolean) {
  const certificates = inventory.list();
  for (let start = 0; start < certificates.length; start += WARM_CHUNK) {
    await new Promise((resolve) => setImmediate(resolve));
    if (stopped()) return;
    for (const cert of certificates.slice(start, start + WARM_CHUNK)) {
      warmCertificateJson(cert);
      warmSortKeys(cert);
    }
  }
  await new Promise((resolve) => setImmediate(resolve));
  if (!stopped()) derived.metadataFieldNames();
}

interface RequestState {
  entry: RequestLogEntry;
  started: number;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const inventory =
    options.inventory ??
    new SimulatorInventory({
      ...(options.certificates ? { certificates: options.certificates } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  const now = options.now ?? inventory.now;
  const basePath = normaliseBasePath(options.apiBasePath ?? DEFAULT_API_BASE_PATH);
  const productVersion = options.productVersion ?? DEFAULT_PRODUCT_VERSION;
  const requireRequestedWith = options.requireRequestedWith ?? true;
  const authenticator = Authenticator.fromOptions(options.auth ?? { anonymous: true });
  const faults = new FaultInjector(options.seed ?? 1);
  const requestLog = new RequestLog(options.requestLogLimit);
  const results = new CertificateResultCache(inventory);
  const derived = new DerivedViews(inventory);
  const defaults = defaultExtras();
  const extras: SimulatorExtras = {
    collections: options.extras?.collections ?? defaults.collections,
    expirationAlerts: options.extras?.expirationAlerts ?? defaults.expirationAlerts,
    workflowDefinitions: options.extras?.workflowDefinitions ?? defaults.workflowDefinitions,
  };

  const stats = (): SimulatorStats => ({
    certificates: inventory.size,
    inventoryVersion: inventory.version,
    requestsLogged: requestLog.size,
    faults: faults.list(),
    resultCache: results.stats(),
  });

  function write(
    res: ServerResponse,
    response: ApiResponse,
    extraHeaders: Record<string, string | string[]>,
    contentType = JSON_CONTENT_TYPE,
  ): void {
    if (res.destroyed || res.headersSent) return;
    const headers: Record<string, string | string[] | number> = { ...extraHeaders, ...response.headers };
    if (response.body.length > 0) headers['content-type'] = contentType;
    headers['content-length'] =
      typeof response.body === 'string' ? Buffer.byteLength(response.body, 'utf8') : response.body.length;
    res.writeHead(response.status, headers);
    res.end(response.body);
  }

  /** Headers, then half the body; see the 'truncated' fault for the two ways the response ends. */
  function writeTruncated(
    res: ServerResponse,
    response: ApiResponse,
    extraHeaders: Record<string, string | string[]>,
    declaredLength: boolean,
  ): void {
    if (res.destroyed || res.headersSent) return;
    const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : response.body;
    const half = body.subarray(0, Math.floor(body.length / 2));
    const headers: Record<string, string | string[] | number> = {
      ...extraHeaders,
      ...response.headers,
      'content-type': JSON_CONTENT_TYPE,
    };
    if (declaredLength) headers['content-length'] = body.length;
    res.writeHead(response.status, headers);
    if (declaredLength) res.write(half, () => res.destroy());
    else res.end(half);
  }

  function mapError(error: unknown, state: RequestState): ApiResponse {
    if (error instanceof UnknownCertificateError) return errorResponse(404, error.message);
    if (error instanceof InputError) return errorResponse(400, error.message);
    state.entry.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
    // Internals stay in the request log; the caller gets Command's kind of opaque 500.
    return errorResponse(500, `An unexpected error occurred (simulator request ${state.entry.seq}).`);
  }

  async function applyModifiers(selection: FaultSelection): Promise<void> {
    for (const { action } of selection.modifiers) {
      if (action.type === 'latency') await sleep(action.ms);
      else await action.apply(inventory);
    }
  }

  function terminalStatusResponse(action: Extract<FaultAction, { type: 'status' }>): {
    response: ApiResponse;
    contentType: string;
  } {
    const headers: Record<string, string | string[]> = {};
    if (action.retryAfter !== undefined) headers['retry-after'] = String(action.retryAfter);
    // A 401 without a challenge is not valid HTTP; clients decide whether to re-authenticate from it.
    if (action.status === 401) headers['www-authenticate'] = authenticator.challenges();
    const body = action.body ?? errorBody(action.status, `Simulated failure (HTTP ${action.status}).`);
    const looksJson = /^\s*[[{]/.test(body);
    return {
      response: { status: action.status, headers, body, kind: 'error' },
      contentType: looksJson ? JSON_CONTENT_TYPE : 'text/plain; charset=utf-8',
    };
  }

  async function serveApi(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    path: string,
    state: RequestState,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const baseHeaders: Record<string, string | string[]> = { 'x-keyfactor-product-version': productVersion };
    const respond = (response: ApiResponse, contentType?: string) => {
      state.entry.status = response.status;
      const total = response.headers['x-total-count'];
      if (typeof total === 'string') state.entry.totalCount = Number(total);
      write(res, response, baseHeaders, contentType);
    };

    // IIS authenticates before the application sees the request, so a 401 comes before any 400 or 404.
    const decision = await authenticator.authenticate(req);
    if (!decision.ok) {
      respond(errorResponse(401, decision.message, { 'www-authenticate': decision.challenges }));
      return;
    }
    const principal: Principal = decision.principal;
    state.entry.principal = principal.name;
    Object.assign(baseHeaders, decision.responseHeaders);

    const requestedWith = req.headers[REQUESTED_WITH_HEADER];
    if (requireRequestedWith && (requestedWith === undefined || String(requestedWith).trim() === '')) {
      respond(errorResponse(400, 'The X-Keyfactor-Requested-With header is required for this request.'));
      return;
    }

    let params: ListParams;
    try {
      params = normaliseListParams(url.searchParams);
    } catch (error) {
      respond(mapError(error, state));
      return;
    }
    state.entry.params = params;

    const selection = faults.select({ method, path, page: params.pageReturned, query: params.queryString });
    state.entry.faults = selection.fired;
    const faultSummary = describeFiredFaults(selection.fired);
    if (faultSummary !== undefined) state.entry.fault = faultSummary;
    await applyModifiers(selection);
    const terminal = selection.terminal?.action;
    if (terminal?.type === 'reset') {
      state.entry.status = 0;
      req.socket.destroy();
      return;
    }
    if (terminal?.type === 'status') {
      const { response, contentType } = terminalStatusResponse(terminal);
      respond(response, contentType);
      return;
    }

    let response: ApiResponse;
    const match = matchRoute(method, path);
    if (match.kind === 'found') {
      state.entry.route = match.route.pattern;
      if (match.route.requiresCertificateRead && !principal.canReadCertificates) {
        response = errorResponse(
          403,
          `User ${principal.name} does not have the required permission /certificates/collections/read/.`,
        );
      } else {
        try {
          response = match.route.handle({
            inventory,
            results,
            derived,
            extras,
            now: now(),
            params,
            pathParams: match.pathParams,
          });
        } catch (error) {
          response = mapError(error, state);
        }
      }
    } else if (match.kind === 'method-not-allowed') {
      state.entry.route = match.pattern;
      response = errorResponse(405, `The requested resource does not support http method '${method}'.`, {
        allow: match.allowed.join(', '),
      });
    } else {
      response = errorResponse(
        404,
        `No HTTP resource was found that matches the request URI '${url.pathname}'.`,
      );
    }

    if (terminal?.type === 'truncated') {
      state.entry.status = response.status;
      writeTruncated(res, response, baseHeaders, terminal.declaredLength ?? false);
      return;
    }
    if (terminal?.type === 'malformed') {
      const garbled = malformedResponse(response, terminal.variant ?? 'not-json');
      respond(garbled.response, garbled.contentType);
      return;
    }
    respond(response);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const method = (req.method ?? 'GET').toUpperCase();

    if (options.adminToken !== undefined && (url.pathname + '/').startsWith(`${ADMIN_PREFIX}/`)) {
      // Admin traffic is not logged: the log is about the client under test.
      try {
        const response = await handleAdminRequest(req, url.pathname.slice(ADMIN_PREFIX.length), {
          token: options.adminToken,
          inventory,
          faults,
          requestLog,
          stats,
        });
        write(res, response, {});
      } catch (error) {
        write(res, errorResponse(500, error instanceof Error ? error.message : String(error)), {});
      }
      return;
    }

    const path = pathUnderBase(url.pathname, basePath);
    const state: RequestState = {
      started: performance.now(),
      entry: {
        seq: requestLog.nextSequence(),
        method,
        path: path ?? url.pathname,
        route: null,
        params: null,
        rawQuery: url.search.replace(/^\?/, ''),
        status: 0,
        principal: null,
        faults: [],
        at: now().toISOString(),
        durationMs: 0,
      },
    };
    try {
      if (path === null) {
        state.entry.status = 404;
        write(
          res,
          errorResponse(404, `No HTTP resource was found that matches the request URI '${url.pathname}'.`),
          {},
        );
      } else {
        await serveApi(req, res, url, path, state);
      }
    } catch (error) {
      const response = mapError(error, state);
      state.entry.status = response.status;
      write(res, response, { 'x-keyfactor-product-version': productVersion });
    } finally {
      state.entry.durationMs = performance.now() - state.started;
      requestLog.record(state.entry);
    }
  }

  let server: Server;
  let caCertPem: string | undefined;
  const listener = (req: IncomingMessage, res: ServerResponse) => void handle(req, res);
  if (options.tls) {
    const material = options.tls === 'self-signed' ? createSelfSignedCertificate() : options.tls;
    caCertPem = material.caCertPem;
    server = createHttpsServer({ cert: material.cert, key: material.key }, listener);
  } else {
    server = createHttpServer(listener);
  }
  // Clients page with keep-alive; a long idle timeout keeps benchmark connections from being recycled.
  server.keepAliveTimeout = 60_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const warmed = options.prewarm === false ? Promise.resolve() : warmCaches(inventory, derived, () => closed);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const origin = `${options.tls ? 'https' : 'http'}://${urlHost}:${port}`;

  return {
    url: origin + basePath,
    origin,
    port,
    ...(caCertPem === undefined ? {} : { caCertPem }),
    inventory,
    faults,
    requestLog,
    extras,
    stats,
    warmed,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closed = true;
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export { SimulatorInventory, UnknownCertificateError } from './inventory';
export type { NewCertificate, RevocationDetails } from './inventory';
export type { FaultAction, FaultMatch, FaultRule, FiredFault, FaultInjector } from './faults';
export type { RequestLog, RequestLogEntry } from './request-log';
export type { ListParams } from './paging';
export type {
  BasicUser,
  NegotiateOptions,
  OAuthOptions,
  SimulatorAuthOptions,
  AuthScheme,
  Principal,
} from './auth';
export type { SimulatorExtras } from './extras';
export { createSelfSignedCertificate, type SelfSignedCertificate } from './tls';
