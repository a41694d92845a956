// Reading an API Gateway REST proxy event: request id, headers, and a JSON body checked for size and type before parsing.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { PayloadTooLargeError, RequestValidationError, UnsupportedMediaTypeError } from './errors.ts';

/** Default body limit; API Gateway accepts up to 10 MB, this API never needs more than a few KiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

/** API Gateway's request id, so a caller's report can be matched to the logs; a placeholder if absent. */
export function requestIdOf(event: Pick<APIGatewayProxyEvent, 'requestContext'> | undefined): string {
  const id: unknown = event?.requestContext?.requestId;
  return typeof id === 'string' && id.length > 0 ? id : 'unknown';
}

/** Header lookup ignoring case, as HTTP requires; API Gateway passes names as the client sent them. */
export function headerOf(
  headers: APIGatewayProxyEvent['headers'] | null | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  return undefined;
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/**
 * The parsed JSON body, or undefined when there is none. Size is checked on the raw bytes before anything is
 * decoded or parsed, so an oversized body costs no parsing; the content type must be JSON whenever a body is sent.
 */
export function readJsonBody(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded' | 'headers'>,
  limitBytes: number = DEFAULT_BODY_LIMIT_BYTES,
): unknown {
  const raw = event.body;
  if (raw === null || raw === undefined || raw === '') return undefined;
  const bytes = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw, 'utf8');
  if (bytes > limitBytes) throw new PayloadTooLargeError(limitBytes);
  const mediaType = (headerOf(event.headers, 'content-type') ?? '').split(';')[0]?.trim() ?? '';
  if (!JSON_MEDIA_TYPE.test(mediaType)) throw new UnsupportedMediaTypeError();
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RequestValidationError(
      'request body is not valid JSON',
      [{ path: '', message: 'malformed JSON' }],
      {
        cause: error,
      },
    );
  }
}

/** Headers on every response: JSON, no sniffing or framing, and nothing cached (responses may carry a secret). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
};

export function jsonResponse(
  status: number,
  body: unknown,
  requestId: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { ...SECURITY_HEADERS, ...headers, 'x-request-id': requestId },
    body: JSON.stringify(body),
  };
}

/** A non-JSON body (e.g. a signed XML download) with the same security headers and its own content type. */
export function rawResponse(
  status: number,
  body: string,
  contentType: string,
  requestId: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { ...SECURITY_HEADERS, ...headers, 'content-type': contentType, 'x-request-id': requestId },
    body,
  };
}
