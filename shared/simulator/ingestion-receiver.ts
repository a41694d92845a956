// A real ingestion endpoint on loopback for tests and the demo: implements docs/ingestion.md (bearer token, gzip JSON
// lines, de-duplication by batch id) and can fail on purpose (500, 429 with Retry-After, resets, slow or lost answers).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  INGESTION_CONTENT_TYPE,
  decodeIngestionHeaders,
  type DecodedIngestionHeaders,
  type IngestionBatchKind,
} from '#shared/export/ingestion';
import { seededRandom } from './faults';
import { createSelfSignedCertificate } from './tls';

export const INGESTION_PATH = '/v1/batches';

/**
 * '500' / '503': a server error; '429': Too Many Requests with Retry-After; 'reset': the socket is destroyed before
 * any answer; 'slow': the answer (a normal one) comes after `slowMs`; 'lost-response': the batch IS recorded, then the
 * socket is destroyed, so the sender must resend and be told 409.
 */
export type IngestionFaultKind = '500' | '503' | '429' | 'reset' | 'slow' | 'lost-response';

export interface IngestionFaults {
  /** Fraction of requests (0..1) that fail, drawn from the seeded generator. */
  failRate?: number;
  /** The next N requests fail (counted from when these faults were set). */
  failFirst?: number;
  /** What a failing request gets; one is drawn per failure when several are given. Default ['500']. */
  kinds?: IngestionFaultKind[];
  /** Retry-After of '429' answers: seconds, or an HTTP date string. Default 1. */
  retryAfter?: number | string;
  /** Delay of 'slow' answers. Default 2000 ms. */
  slowMs?: number;
  /** Seed of the generator behind failRate and kinds. Default 1. */
  seed?: number;
}

export interface ReceivedBatch {
  batchId: string;
  kind: IngestionBatchKind;
  scanId: string;
  count: number;
  sensor: DecodedIngestionHeaders['sensor'];
  labels: DecodedIngestionHeaders['labels'];
  receivedAt: string;
  /** Ids of the records: finding ids (findings) or resolved finding ids (resolutions). */
  ids: string[];
}

/** One resolution line as the receiver keeps it (see docs/ingestion.md). */
export interface ReceivedResolution {
  findingId: string;
  certificateId: number | null;
  sensorKey?: string;
  resolvedAt: string;
  scanId: string;
  batchId: string;
}

export interface IngestionReceiverStats {
  /** Every request that reached the server, failed ones included. */
  requests: number;
  /** Batches accepted for the first time. */
  accepted: number;
  /** Repeats of an accepted batch id (answered 409). */
  duplicates: number;
  /** Requests answered 4xx for a bad token, headers or body. */
  rejected: number;
  /** Requests failed on purpose. */
  injectedFaults: number;
  /** Finding lines in accepted batches; equals `findings.size` when no finding came twice in different batches. */
  findingLines: number;
  resolutionLines: number;
}

export interface IngestionReceiverOptions {
  /** The bearer token the receiver accepts. */
  token: string;
  /** Default 0 (any free port) on 127.0.0.1. */
  port?: number;
  faults?: IngestionFaults | null;
  /** Largest accepted request body (compressed). Default 8 MiB. */
  maxBodyBytes?: number;
  /** Largest decompressed body (a gzip bomb gets 413). Default 64 MiB. */
  maxDecompressedBytes?: number;
  /** Serve HTTPS: PEM certificate and key, or 'self-signed' for 127.0.0.1/localhost (clients trust `caCertPem`). */
  tls?: { cert: string; key: string; caCertPem?: string } | 'self-signed';
}

export interface IngestionReceiver {
  /** The ingestion URL to configure: http(s)://127.0.0.1:<port>/v1/batches */
  url: string;
  port: number;
  /** With `tls`: the PEM bundle a client must trust. */
  caCertPem?: string;
  /** Latest document per finding id. */
  findings: Map<string, Record<string, unknown>>;
  /** Latest resolution per finding id. */
  resolutions: Map<string, ReceivedResolution>;
  /** Accepted batches by id. */
  batches: Map<string, ReceivedBatch>;
  readonly stats: IngestionReceiverStats;
  readonly requests: number;
  readonly duplicates: number;
  /** Replaces the fault settings (null: none); the counters of failFirst and the generator restart. */
  setFaults(faults: IngestionFaults | null): void;
  /** Forgets every batch, finding and resolution and zeroes the counters. */
  clear(): void;
  stop(): Promise<void>;
}

interface FaultState {
  faults: IngestionFaults;
  random: () => number;
  firstLeft: number;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startIngestionReceiver(options: IngestionReceiverOptions): Promise<IngestionReceiver> {
  if (!options.token) throw new Error('startIngestionReceiver: token is required');
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const maxDecompressedBytes = options.maxDecompressedBytes ?? 64 * 1024 * 1024;
  const findings = new Map<string, Record<string, unknown>>();
  const resolutions = new Map<string, ReceivedResolution>();
  const batches = new Map<string, ReceivedBatch>();
  const zero = (): IngestionReceiverStats => ({
    requests: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    injectedFaults: 0,
    findingLines: 0,
    resolutionLines: 0,
  });
  let stats = zero();
  let faultState: FaultState | null = null;
  const setFaults = (faults: IngestionFaults | null): void => {
    if (faults === null) {
      faultState = null;
      return;
    }
    const rate = faults.failRate ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new RangeError('ingestion faults: failRate must be within 0..1');
    if (faults.kinds !== undefined && faults.kinds.length === 0)
      throw new RangeError('ingestion faults: kinds must not be empty');
    faultState = { faults, random: seededRandom(faults.seed ?? 1), firstLeft: faults.failFirst ?? 0 };
  };
  setFaults(options.faults ?? null);

  /** The fault this request gets, if any. */
  const drawFault = (): IngestionFaultKind | null => {
    const state = faultState;
    if (state === null) return null;
    let fail = false;
    if (state.firstLeft > 0) {
      state.firstLeft--;
      fail = true;
    } else if ((state.faults.failRate ?? 0) > 0 && state.random() < (state.faults.failRate ?? 0)) {
      fail = true;
    }
    if (!fail) return null;
    const kinds = state.faults.kinds ?? ['500'];
    return kinds[Math.floor(state.random() * kinds.length)] ?? '500';
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++;
    const fault = drawFault();
    if (fault !== null) stats.injectedFaults++;
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === '500' || fault === '503') {
      req.resume();
      send(res, Number(fault), { message: 'injected server error' });
      return;
    }
    if (fault === '429') {
      req.resume();
      const retryAfter = faultState?.faults.retryAfter ?? 1;
      send(res, 429, { message: 'slow down' }, { 'Retry-After': String(retryAfter) });
      return;
    }
    if (fault === 'slow')
      await new Promise((resolve) => setTimeout(resolve, faultState?.faults.slowMs ?? 2000));

    let status: number;
    let body: Record<string, unknown>;
    try {
      const result = await accept(req);
      status = result.status;
      body = result.body;
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      stats.rejected++;
      req.resume();
      // The body may be unread: close the connection rather than parse what is left of it.
      send(res, error.status, { message: error.message }, { Connection: 'close' });
      return;
    }
    if (fault === 'lost-response') {
      req.socket.destroy();
      return;
    }
    send(res, status, body);
  };

  const accept = async (req: IncomingMessage): Promise<{ status: number; body: Record<string, unknown> }> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== INGESTION_PATH)
      throw new HttpProblem(404, `no route ${path}; batches go to ${INGESTION_PATH}`);
    if (req.method !== 'POST') throw new HttpProblem(405, 'only POST');
    const authorization = req.headers.authorization ?? '';
    if (authorization !== `Bearer ${options.token}`)
      throw new HttpProblem(401, 'missing or wrong bearer token');
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== INGESTION_CONTENT_TYPE)
      throw new HttpProblem(415, `Content-Type must be ${INGESTION_CONTENT_TYPE}`);
    if ((req.headers['content-encoding'] ?? '').toLowerCase() !== 'gzip')
      throw new HttpProblem(415, 'Content-Encoding must be gzip');
    const decoded = decodeIngestionHeaders((name) => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(',') : value;
    });
    if (!decoded.ok) throw new HttpProblem(400, decoded.issues.join('; '));
    const meta = decoded.value;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBodyBytes) throw new HttpProblem(413, `body larger than ${maxBodyBytes} bytes`);
    const compressed = await readBody(req, maxBodyBytes);
    let text: string;
    try {
      text = gunzipSync(compressed, { maxOutputLength: maxDecompressedBytes }).toString('utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
        throw new HttpProblem(413, `decompressed body larger than ${maxDecompressedBytes} bytes`);
      throw new HttpProblem(400, 'body is not gzip');
    }
    const records = parseLines(text, meta.kind);
    if (records.length !== meta.count)
      throw new HttpProblem(
        400,
        `X-Record-Count says ${meta.count} but the body has ${records.length} lines`,
      );
    // Checked after the body is read, so the connection stays usable and concurrent repeats cannot both record.
    if (batches.has(meta.batchId)) {
      stats.duplicates++;
      return {
        status: 409,
        body: { batchId: meta.batchId, duplicate: true, message: 'batch already received' },
      };
    }
    const ids: string[] = [];
    for (const record of records) {
      if (meta.kind === 'findings') {
        const id = record.id as string;
        findings.set(id, record);
        // A finding superseded by a later document is no longer resolved.
        resolutions.delete(id);
        stats.findingLines++;
        ids.push(id);
      } else {
        const findingId = record.findingId as string;
        resolutions.set(findingId, {
          findingId,
          certificateId: typeof record.certificateId === 'number' ? record.certificateId : null,
          ...(typeof record.sensorKey === 'string' ? { sensorKey: record.sensorKey } : {}),
          resolvedAt: record.resolvedAt as string,
          scanId: typeof record.scanId === 'string' ? record.scanId : meta.scanId,
          batchId: meta.batchId,
        });
        stats.resolutionLines++;
        ids.push(findingId);
      }
    }
    batches.set(meta.batchId, {
      batchId: meta.batchId,
      kind: meta.kind,
      scanId: meta.scanId,
      count: meta.count,
      sensor: meta.sensor,
      labels: meta.labels,
      receivedAt: new Date().toISOString(),
      ids,
    });
    stats.accepted++;
    return { status: 202, body: { batchId: meta.batchId, accepted: records.length, duplicate: false } };
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { message: `receiver error: ${String(error)}` });
      else res.destroy();
    });
  };
  const material = options.tls === 'self-signed' ? createSelfSignedCertificate() : options.tls;
  const server: Server = material
    ? createHttpsServer({ cert: material.cert, key: material.key }, listener)
    : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `${material ? 'https' : 'http'}://127.0.0.1:${port}${INGESTION_PATH}`,
    port,
    ...(material?.caCertPem === undefined ? {} : { caCertPem: material.caCertPem }),
    findings,
    resolutions,
    batches,
    get stats() {
      return stats;
    },
    get requests() {
      return stats.requests;
    },
    get duplicates() {
      return stats.duplicates;
    },
    setFaults,
    clear() {
      findings.clear();
      resolutions.clear();
      batches.clear();
      stats = zero();
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Collects the body up to `limit`; past it, rejects with 413 and keeps draining (the caller answers, then closes). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) return;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(new HttpProblem(413, `body larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** JSON lines; a trailing newline is optional. Each line is checked for the fields its kind needs. */
function parseLines(text: string, kind: IngestionBatchKind): Array<Record<string, unknown>> {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line, index) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new HttpProblem(400, `line ${index + 1} is not JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new HttpProblem(400, `line ${index + 1} is not a JSON object`);
    const record = value as Record<string, unknown>;
    if (kind === 'findings' && (typeof record.id !== 'string' || record.id === ''))
      throw new HttpProblem(400, `line ${index + 1}: a finding needs a string id`);
    if (
      kind === 'resolutions' &&
      (typeof record.findingId !== 'string' ||
        record.findingId === '' ||
        typeof record.resolvedAt !== 'string')
    )
      throw new HttpProblem(400, `line ${index + 1}: a resolution needs findingId and resolvedAt strings`);
    return record;
  });
}
