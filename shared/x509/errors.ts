// The one error the certificate reader throws on bad input: a reason code for programs, a byte offset and a message for people.
import { InputError } from '#shared/errors';

export const CERTIFICATE_PARSE_ERROR_REASONS = [
  'empty-input',
  'too-large',
  'invalid-base64',
  'invalid-pem',
  'truncated',
  'trailing-data',
  'unexpected-tag',
  'invalid-length',
  'indefinite-length',
  'too-deep',
  'invalid-integer',
  'invalid-oid',
  'invalid-boolean',
  'invalid-bit-string',
  'invalid-time',
  'unsupported-version',
  'invalid-name',
  'invalid-algorithm',
  'invalid-public-key',
  'invalid-extension',
  'internal-error',
] as const;

export type CertificateParseErrorReason = (typeof CERTIFICATE_PARSE_ERROR_REASONS)[number];

export class CertificateParseError extends InputError {
  readonly reason: CertificateParseErrorReason;
  /** Byte offset into the DER (or character offset into base64/PEM text) where the problem is; null when global. */
  readonly offset: number | null;
  /** The message without the offset suffix, for wrapping in a more specific error. */
  readonly detail: string;

  constructor(
    reason: CertificateParseErrorReason,
    offset: number | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(offset === null ? message : `${message} (at byte ${offset})`, options);
    this.reason = reason;
    this.offset = offset;
    this.detail = message;
  }
}

/**
 * Re-labels a structural error found inside a part with its own reason (a broken extension is 'invalid-extension'
 * wherever in it the DER went wrong); depth errors keep their reason.
 */
export function relabel(error: unknown, reason: CertificateParseErrorReason, what: string): unknown {
  if (!(error instanceof CertificateParseError) || error.reason === 'too-deep') return error;
  if (error.detail.startsWith(what))
    return error.reason === reason
      ? error
      : new CertificateParseError(reason, error.offset, error.detail, { cause: error });
  return new CertificateParseError(reason, error.offset, `${what}: ${error.detail}`, { cause: error });
}

/** Throws; typed `never` so callers read as control flow. */
export function fail(reason: CertificateParseErrorReason, offset: number | null, message: string): never {
  throw new CertificateParseError(reason, offset, message);
}
