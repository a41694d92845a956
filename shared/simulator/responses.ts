// Response values the route handlers return; the server writes them (or lets a fault rewrite them first).

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[]>;
  /** JSON text (a Buffer when assembled from cached bytes), or '' for no body. */
  body: string | Buffer;
  /** What the body is, so a 'malformed' fault can give a wrong-shaped body of the other kind. */
  kind: 'list' | 'object' | 'error' | 'empty';
}

/**
 * Command-style ErrorCode values. The real catalogue is not public: these are invented hex codes in Command's
 * format; clients must key on the HTTP status and show the Message.
 */
export const ERROR_CODES = {
  400: '0xA0140001',
  401: '0xA0120001',
  403: '0xA0120002',
  404: '0xA0110001',
  405: '0xA0110003',
  429: '0xA0150001',
  500: '0x80004005',
  503: '0xA0150002',
} as const satisfies Record<number, string>;

export function errorCodeFor(status: number): string {
  return (ERROR_CODES as Record<number, string>)[status] ?? '0x80004005';
}

export function errorBody(status: number, message: string): string {
  return JSON.stringify({ ErrorCode: errorCodeFor(status), Message: message });
}

export function errorResponse(
  status: number,
  message: string,
  headers: Record<string, string | string[]> = {},
): ApiResponse {
  return { status, headers, body: errorBody(status, message), kind: 'error' };
}

export function objectResponse(json: string | Buffer): ApiResponse {
  return { status: 200, headers: {}, body: json, kind: 'object' };
}

/** A list page; `x-total-count` is the size of the whole result, not of the page. */
export function listResponse(pageJson: string | Buffer, totalCount: number): ApiResponse {
  return { status: 200, headers: { 'x-total-count': String(totalCount) }, body: pageJson, kind: 'list' };
}

export function emptyResponse(status: number): ApiResponse {
  return { status, headers: {}, body: '', kind: 'empty' };
}
