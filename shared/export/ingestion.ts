// The ingestion client: POSTs one export batch (gzip JSON lines) with the sensor's identity in headers, retrying
// network errors, 408, 429 and 5xx with backoff; 409 means the receiver already has the batch. See docs/ingestion.md.
import tls from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { SensorError } from '#shared/errors';
import { SENSOR_TYPE, type Label } from '#shared/findings/index';
import { backoffDelayMs, parseRetryAfterMs, type RetryPolicy } from '#shared/keyfactor/retry';
import { silentLogger, type Logger } from '#shared/logging';
import { arrayBufferView } from '#shared/bytes';

export type IngestionBatchKind = 'findings' | 'resolutions';
export const INGESTION_BATCH_KINDS: readonly IngestionBatchKind[] = ['findings', 'resolutions'];

/** What one request carries: an ExportBatch's identity and its gzip body, sent as is. */
export interface IngestionBatch {
  batchId: string;
  scanId: string;
  kind: IngestionBatchKind;
  count: number;
  /** gzip of the JSON lines. */
  body: Uint8Array;
}

/** Who sent the batch: travels with every request. */
export interface IngestionSensor {
  name: string;
  version: string;
  ranBy: string;
  labels: readonly Label[];
}

export const INGESTION_CONTENT_TYPE = 'application/x-ndjson';

/** Header names of the contract (docs/ingestion.md, docs/ingestion.openapi.json); HTTP header names are case-insensitive. */
export const INGESTION_HEADER = {
  idempotencyKey: 'Idempotency-Key',
  batchId: 'X-Batch-Id',
  batchKind: 'X-Batch-Kind',
  recordCount: 'X-Record-Count',
  scanId: 'X-Scan-Id',
  sensorName: 'X-Sensor-Name',
  sensorType: 'X-Sensor-Type',
  sensorVersion: 'X-Sensor-Version',
  ranBy: 'X-Ran-By',
  labels: 'X-Labels',
} as const;

/** Headers whose values are free text: percent-encoded UTF-8 (encodeURIComponent), since header values are ASCII. */
export const PERCENT_ENCODED_HEADERS: readonly string[] = [
  INGESTION_HEADER.sensorName,
  INGESTION_HEADER.ranBy,
  INGESTION_HEADER.labels,
];

/** Batch and scan ids are plain tokens, so they can be header values and de-duplication keys unchanged. */
export const BATCH_ID_PATTERN = /^[A-Za-z0-9._:~-]{1,256}$/;

/** Every header a batch request carries, in the order the client sets them (the OpenAPI test compares against it). */
export function ingestionHeaders(
  batch: IngestionBatch,
  sensor: IngestionSensor,
  token: string,
): Record<string, string> {
  return {
    'Content-Type': INGESTION_CONTENT_TYPE,
    'Content-Encoding': 'gzip',
    Authorization: `Bearer ${token}`,
    [INGESTION_HEADER.idempotencyKey]: batch.batchId,
    [INGESTION_HEADER.batchId]: batch.batchId,
    [INGESTION_HEADER.batchKind]: batch.kind,
    [INGESTION_HEADER.recordCount]: String(batch.count),
    [INGESTION_HEADER.scanId]: batch.scanId,
    [INGESTION_HEADER.sensorName]: encodeURIComponent(sensor.name),
    [INGESTION_HEADER.sensorType]: SENSOR_TYPE,
    [INGESTION_HEADER.sensorVersion]: sensor.version,
    [INGESTION_HEADER.ranBy]: encodeURIComponent(sensor.ranBy),
    [INGESTION_HEADER.labels]: encodeURIComponent(
      JSON.stringify(sensor.labels.map((l) => ({ name: l.name, value: l.value }))),
    ),
  };
}

/** The batch metadata a receiver reads back from the headers (the inverse of ingestionHeaders, minus the token). */
export interface DecodedIngestionHeaders {
  batchId: string;
  kind: IngestionBatchKind;
  count: number;
  scanId: string;
  sensor: { name: string; type: string; version: string; ranBy: string };
  labels: Label[];
}

/** Reads the contract's headers; returns the problems instead when any is missing or malformed. */
export function decodeIngestionHeaders(
  get: (name: string) => string | undefined,
): { ok: true; value: DecodedIngestionHeaders } | { ok: false; issues: string[] } {
  const issues: string[] = [];
  const required = (name: string): string => {
    const value = get(name);
    if (value === undefined || value === '') {
      issues.push(`${name} is missing`);
      return '';
    }
    return value;
  };
  const decoded = (name: string): string => {
    const raw = required(name);
    try {
      return decodeURIComponent(raw);
    } catch {
      issues.push(`${name} is not percent-encoded UTF-8`);
      return '';
    }
  };
  const batchId = required(INGESTION_HEADER.batchId);
  if (batchId && !BATCH_ID_PATTERN.test(batchId))
    issues.push(`${INGESTION_HEADER.batchId} is not a valid batch id`);
  const idempotencyKey = get(INGESTION_HEADER.idempotencyKey);
  if (idempotencyKey !== undefined && idempotencyKey !== batchId)
    issues.push(`${INGESTION_HEADER.idempotencyKey} differs from ${INGESTION_HEADER.batchId}`);
  const kind = required(INGESTION_HEADER.batchKind);
  if (kind && !INGESTION_BATCH_KINDS.includes(kind as IngestionBatchKind))
    issues.push(`${INGESTION_HEADER.batchKind} must be one of ${INGESTION_BATCH_KINDS.join(', ')}`);
  const countText = required(INGESTION_HEADER.recordCount);
  const count = /^\d{1,9}$/.test(countText) ? Number(countText) : NaN;
  if (countText && Number.isNaN(count)) issues.push(`${INGESTION_HEADER.recordCount} is not a count`);
  const scanId = required(INGESTION_HEADER.scanId);
  const name = decoded(INGESTION_HEADER.sensorName);
  const type = required(INGESTION_HEADER.sensorType);
  const version = required(INGESTION_HEADER.sensorVersion);
  const ranBy = decoded(INGESTION_HEADER.ranBy);
  const labelsText = decoded(INGESTION_HEADER.labels);
  let labels: Label[] = [];
  if (labelsText) {
    try {
      const parsed: unknown = JSON.parse(labelsText);
      if (!Array.isArray(parsed) || !parsed.every(isLabel)) throw new Error('not labels');
      labels = parsed;
    } catch {
      issues.push(`${INGESTION_HEADER.labels} is not a JSON array of {name, value} strings`);
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: {
      batchId,
      kind: kind as IngestionBatchKind,
      count,
      scanId,
      sensor: { name, type, version, ranBy },
      labels,
    },
  };
}

function isLabel(value: unknown): value is Label {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && typeof v.value === 'string';
}

/** A failed send. `transient`: the same batch may succeed later (the queue should redeliver it). */
export class IngestionError extends SensorError {
  constructor(
    message: string,
    readonly details: {
      transient: boolean;
      attempts: number;
      status?: number;
      /** The receiver asked for a longer pause than the client waits in one call. */
      retryAfterMs?: number;
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get transient(): boolean {
    return this.details.transient;
  }

  get status(): number | undefined {
    return this.details.status;
  }
}

export interface IngestionResult {
  /** 2xx or 409. */
  status: number;
  /** The receiver already had this batch id (409, or a 2xx answer with `duplicate: true`). */
  duplicate: boolean;
  attempts: number;
}

export const DEFAULT_INGESTION_RETRY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 30_000,
};

export interface IngestionClientOptions {
  /** The full ingestion URL batches are POSTed to. */
  url: string;
  /** The sensor token, sent as `Authorization: Bearer`; never logged or put in an error. */
  token: string;
  /** Injected fetch (the scan deps' `fetch`, or createIngestionFetch's); TLS options are then the caller's. */
  fetch?: typeof globalThis.fetch;
  /** PEM bundle trusted in addition to the system roots (ignored when `fetch` is given). */
  caCert?: string | undefined;
  /** Turns TLS verification off; only when explicitly asked, and logged as a warning. */
  insecureSkipTlsVerify?: boolean;
  /** Per attempt, covering the response body too. Default 30 s. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
  random?: () => number;
}

/** A fetch that trusts `caCert` in addition to the system roots (or nothing, when verification is off). */
export function createIngestionFetch(options: {
  caCert?: string | undefined;
  insecureSkipTlsVerify?: boolean;
}): { fetch: typeof globalThis.fetch; close: () => Promise<void> } {
  const agent = new Agent({
    connect: {
      ...(options.caCert ? { ca: [...tls.rootCertificates, options.caCert] } : {}),
      ...(options.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
    },
  });
  const bound = ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher: agent,
    })) as unknown as typeof globalThis.fetch;
  return { fetch: bound, close: () => agent.close() };
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
]);

/** How much of the receiver's answer an error message quotes. */
const MESSAGE_LIMIT = 300;

type AttemptOutcome =
  | { kind: 'accepted'; status: number; duplicate: boolean }
  | { kind: 'retry'; reason: string; status?: number; retryAfterMs?: number }
  | { kind: 'permanent'; reason: string; status?: number; cause?: unknown };

export class IngestionClient {
  readonly url: string;
  readonly #token: string;
  readonly #fetch: typeof globalThis.fetch;
  readonly #close: (() => Promise<void>) | undefined;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #logger: Logger;
  readonly #random: () => number;

  constructor(options: IngestionClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new IngestionError('the ingestion URL is not a valid URL', { transient: false, attempts: 0 });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new IngestionError(`the ingestion URL must be http(s), got ${url.protocol}`, {
        transient: false,
        attempts: 0,
      });
    if (url.username || url.password)
      throw new IngestionError(
        'the ingestion URL must not carry credentials; the token is sent as a header',
        {
          transient: false,
          attempts: 0,
        },
      );
    if (!options.token)
      throw new IngestionError('the ingestion token is empty', { transient: false, attempts: 0 });
    this.url = url.toString();
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retry = { ...DEFAULT_INGESTION_RETRY, ...options.retry };
    this.#logger = options.logger ?? silentLogger;
    this.#random = options.random ?? Math.random;
    if (options.fetch) {
      this.#fetch = options.fetch;
    } else if (options.caCert || options.insecureSkipTlsVerify) {
      if (options.insecureSkipTlsVerify)
        this.#logger.warn('TLS verification of the ingestion endpoint is turned off', { host: url.host });
      const made = createIngestionFetch(options);
      this.#fetch = made.fetch;
      this.#close = made.close;
    } else {
      this.#fetch = globalThis.fetch;
    }
  }

  /** Releases the connection pool this client created (none when a fetch was injected). */
  async close(): Promise<void> {
    await this.#close?.();
  }

  /** POSTs the batch until it is accepted, a permanent error occurs, or the attempts run out. */
  async send(
    batch: IngestionBatch,
    sensor: IngestionSensor,
    options: { signal?: AbortSignal } = {},
  ): Promise<IngestionResult> {
    if (!BATCH_ID_PATTERN.test(batch.batchId))
      throw new IngestionError(
        `batch id ${JSON.stringify(batch.batchId.slice(0, 80))} is not a valid token`,
        {
          transient: false,
          attempts: 0,
        },
      );
    if (!BATCH_ID_PATTERN.test(batch.scanId))
      throw new IngestionError(`scan id of batch ${batch.batchId} is not a valid token`, {
        transient: false,
        attempts: 0,
      });
    if (!Number.isInteger(batch.count) || batch.count < 0)
      throw new IngestionError(`batch ${batch.batchId} has an invalid record count`, {
        transient: false,
        attempts: 0,
      });
    const headers = ingestionHeaders(batch, sensor, this.#token);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(batch, headers, options.signal);
      if (outcome.kind === 'accepted') {
        if (attempt > 1)
          this.#logger.info('ingestion accepted the batch after retries', {
            batchId: batch.batchId,
            attempt,
          });
        return { status: outcome.status, duplicate: outcome.duplicate, attempts: attempt };
      }
      if (outcome.kind === 'permanent') {
        throw new IngestionError(
          `ingestion refused batch ${batch.batchId}: ${outcome.reason}`,
          {
            transient: false,
            attempts: attempt,
            ...(outcome.status === undefined ? {} : { status: outcome.status }),
          },
          { cause: outcome.cause },
        );
      }
      const details = {
        transient: true,
        attempts: attempt,
        ...(outcome.status === undefined ? {} : { status: outcome.status }),
      };
      if (attempt >= this.#retry.maxAttempts)
        throw new IngestionError(
          `ingestion did not accept batch ${batch.batchId} after ${attempt} attempts: ${outcome.reason}`,
          details,
        );
      const retryAfterMs = outcome.retryAfterMs;
      // A long Retry-After is handed to the queue (redelivery later) instead of holding the function meanwhile.
      if (retryAfterMs !== undefined && retryAfterMs > this.#retry.maxRetryAfterMs)
        throw new IngestionError(
          `ingestion asked to retry batch ${batch.batchId} after ${Math.round(retryAfterMs / 1000)} s: ${outcome.reason}`,
          { ...details, retryAfterMs },
        );
      const delay = retryAfterMs ?? backoffDelayMs(attempt, this.#retry, this.#random);
      this.#logger.warn('ingestion attempt failed; retrying', {
        batchId: batch.batchId,
        attempt,
        delayMs: delay,
        reason: outcome.reason,
      });
      await abortableSleep(delay, options.signal);
    }
  }

  async #attempt(
    batch: IngestionBatch,
    headers: Record<string, string>,
    callerSignal: AbortSignal | undefined,
  ): Promise<AttemptOutcome> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    try {
      const response = await this.#fetch(this.url, {
        method: 'POST',
        headers,
        body: arrayBufferView(batch.body),
        signal,
        // A redirect would resend the token to another URL; the configured URL must be the final one.
        redirect: 'manual',
      });
      const text = await response.text();
      const status = response.status;
      if (status === 409) return { kind: 'accepted', status, duplicate: true };
      if (status >= 200 && status < 300)
        return { kind: 'accepted', status, duplicate: isDuplicateBody(text) };
      const said = this.#receiverMessage(text);
      const reason = `HTTP ${status}${said ? `: ${said}` : ''}`;
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after') ?? undefined);
        return { kind: 'retry', reason, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
      }
      if (status >= 300 && status < 400)
        return {
          kind: 'permanent',
          status,
          reason: `HTTP ${status} redirect; configure the final ingestion URL (redirects are not followed)`,
        };
      return { kind: 'permanent', status, reason: hintFor(status, reason) };
    } catch (error) {
      if (callerSignal?.aborted) throw callerSignal.reason;
      if (timeout.aborted) return { kind: 'retry', reason: `no answer within ${this.#timeoutMs} ms` };
      const code = errorCode(error);
      if (code !== undefined && TLS_ERROR_CODES.has(code))
        return {
          kind: 'permanent',
          reason: `TLS verification failed (${code}); pass the receiver's CA bundle`,
          cause: error,
        };
      return { kind: 'retry', reason: `network error: ${code ?? describe(error)}` };
    }
  }

  /** The receiver's `message` (or its text), one line, truncated, with the token blanked should it be echoed. */
  #receiverMessage(text: string): string {
    let message = text;
    try {
      const body: unknown = JSON.parse(text);
      if (
        typeof body === 'object' &&
        body !== null &&
        typeof (body as { message?: unknown }).message === 'string'
      )
        message = (body as { message: string }).message;
    } catch {
      // not JSON: quote the text
    }
    message = message.split(this.#token).join('[redacted]').replace(/\s+/g, ' ').trim();
    return message.length > MESSAGE_LIMIT ? `${message.slice(0, MESSAGE_LIMIT)}…` : message;
  }
}

function hintFor(status: number, reason: string): string {
  if (status === 401) return `${reason} (the ingestion token was refused)`;
  if (status === 403) return `${reason} (the token may not send to this endpoint)`;
  if (status === 404) return `${reason} (is the ingestion URL right?)`;
  if (status === 413) return `${reason} (batch too large for the receiver; lower exportBatchMaxBytes)`;
  return reason;
}

function isDuplicateBody(text: string): boolean {
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'object' && body !== null && (body as { duplicate?: unknown }).duplicate === true;
  } catch {
    return false;
  }
}

function errorCode(error: unknown): string | undefined {
  // fetch wraps the socket error: TypeError('fetch failed', { cause: { code } }).
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(asError(signal.reason));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(asError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
