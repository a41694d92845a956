// HTTP error taxonomy and the one place errors become responses: 4xx messages are shown, anything else is a plain 500.
import { SensorError } from '#shared/errors';

export interface Issue {
  path: string;
  message: string;
}

/** An error the caller caused, with the status it maps to; its message is safe to show. */
export class HttpError extends SensorError {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: { issues?: Issue[]; headers?: Record<string, string> } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class RequestValidationError extends HttpError {
  constructor(message: string, issues: Issue[], options?: { cause?: unknown }) {
    super(400, message, { issues }, options);
  }
}
export class UnauthorizedError extends HttpError {
  constructor(message = 'unauthorized') {
    super(401, message);
  }
}
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, message);
  }
}
export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, message);
  }
}
export class MethodNotAllowedError extends HttpError {
  constructor(allowed: readonly string[]) {
    super(405, 'method not allowed', { headers: { allow: allowed.join(', ') } });
  }
}
export class ConflictError extends HttpError {
  constructor(message: string) {
    super(409, message);
  }
}
export class PayloadTooLargeError extends HttpError {
  constructor(limitBytes: number) {
    super(413, `request body exceeds ${limitBytes} bytes`);
  }
}
export class UnsupportedMediaTypeError extends HttpError {
  constructor() {
    super(415, 'content-type must be application/json');
  }
}

/** A programming error in a route (undeclared status, duplicate route): always a 500. */
export class SensorHttpInvariantError extends SensorError {}

/** Turns a domain error into an HttpError, or returns undefined to let it become a 500. */
export type ErrorClassifier = (error: unknown) => HttpError | undefined;

export interface ErrorBody {
  message: string;
  requestId: string;
  issues?: Issue[];
}

/** Converts zod issues into dotted paths such as `roles.0`; each unrecognised key becomes its own issue. */
export function toIssues(
  issues: readonly {
    path: readonly PropertyKey[];
    message: string;
    code?: string;
    keys?: readonly string[];
  }[],
  prefix?: string,
): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const base = [...(prefix ? [prefix] : []), ...issue.path.map((p) => String(p))];
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      for (const key of issue.keys)
        out.push({ path: [...base, key].join('.'), message: 'is not a field that can be set' });
    } else {
      out.push({ path: base.join('.'), message: issue.message });
    }
  }
  return out;
}

/** The status and body for any thrown value; unknown errors never leak their message. */
export function errorResponse(
  error: unknown,
  requestId: string,
  classify: ErrorClassifier = () => undefined,
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const known = error instanceof HttpError ? error : classify(error);
  if (known && known.status >= 400 && known.status < 500) {
    const body: ErrorBody = { message: known.message, requestId };
    if (known.extra.issues) body.issues = known.extra.issues;
    return { status: known.status, body, headers: known.extra.headers ?? {} };
  }
  return { status: 500, body: { message: 'internal error', requestId }, headers: {} };
}
