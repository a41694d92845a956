// Getting DER out of text: strict base64 (Command's ContentBytes), PEM files with many certificates, or raw DER files.
import { DerReader, TAG } from './der';
import { CertificateParseError, fail } from './errors';
import { MAX_CERTIFICATE_BYTES } from './certificate';

export type Base64DecodeResult = { ok: true; der: Uint8Array } | { ok: false; error: CertificateParseError };

/** 1 for characters of the standard base64 alphabet (RFC 4648 section 4; no URL-safe variant). */
const BASE64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  BASE64_ALPHABET[c.charCodeAt(0)] = 1;

function base64Value(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  return c === 0x2b ? 62 : 63;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Longest text worth scanning: the base64 of the largest certificate with generous room for line breaks. */
const MAX_BASE64_CHARACTERS = Math.ceil((MAX_CERTIFICATE_BYTES * 4) / 3) * 2;

/**
 * Validates [start, end) of `text` as strict base64 (whitespace allowed between characters, '=' padding required and
 * only at the end, zero unused bits) and decodes it. Offsets in errors are character offsets into `text`.
 */
function decodeBase64Range(text: string, start: number, end: number): Buffer {
  if (end - start > MAX_BASE64_CHARACTERS) {
    fail('too-large', start, `${end - start} characters of base64 is more than any certificate needs`);
  }
  let significant = 0;
  let padding = 0;
  let lastDataAt = -1;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (isWhitespace(c)) continue;
    if (c === 0x3d) {
      padding++;
      continue;
    }
    if (c >= 128 || BASE64_ALPHABET[c] === 0) {
      fail('invalid-base64', i, `invalid base64 character ${JSON.stringify(text[i])}`);
    }
    if (padding > 0) fail('invalid-base64', i, 'base64 data after "=" padding');
    significant++;
    lastDataAt = i;
  }
  if (significant === 0) fail('empty-input', start, 'no base64 data');
  if ((significant + padding) % 4 !== 0 || padding > 2 || (padding > 0 && significant % 4 === 0)) {
    fail(
      'invalid-base64',
      end,
      `${significant} base64 characters with ${padding} "=" do not form whole 4-character groups`,
    );
  }
  // A canonical encoder leaves the bits past the last byte zero; anything else is corruption or a different message.
  const unusedBitsMask = padding === 1 ? 0x03 : padding === 2 ? 0x0f : 0;
  if ((base64Value(text.charCodeAt(lastDataAt)) & unusedBitsMask) !== 0) {
    fail('invalid-base64', lastDataAt, 'base64 has non-zero bits after the last byte');
  }
  if ((significant * 3) / 4 - padding > MAX_CERTIFICATE_BYTES) {
    fail('too-large', start, `the base64 decodes to more than ${MAX_CERTIFICATE_BYTES} bytes`);
  }
  // Node's decoder skips whitespace itself, and everything else has been checked above.
  return Buffer.from(start === 0 && end === text.length ? text : text.slice(start, end), 'base64');
}

/** Strict base64 → DER bytes, or the reason it is not. */
export function decodeBase64Der(text: string): Base64DecodeResult {
  try {
    return { ok: true, der: decodeBase64Range(text, 0, text.length) };
  } catch (error) {
    if (error instanceof CertificateParseError) return { ok: false, error };
    throw error;
  }
}

const CERTIFICATE_LABELS: ReadonlySet<string> = new Set([
  'CERTIFICATE',
  'X509 CERTIFICATE',
  'TRUSTED CERTIFICATE',
]);

/** OpenSSL's TRUSTED CERTIFICATE appends trust settings to the DER: keep the first element only. */
function firstElement(der: Buffer, offset: number): Buffer {
  const reader = new DerReader(der);
  try {
    reader.expect(0, der.length, TAG.SEQUENCE, 'TRUSTED CERTIFICATE');
  } catch (error) {
    if (error instanceof CertificateParseError) {
      throw new CertificateParseError(error.reason, offset, `TRUSTED CERTIFICATE block: ${error.detail}`, {
        cause: error,
      });
    }
    throw error;
  }
  return der.subarray(0, reader.end);
}

function looksLikeBase64(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isWhitespace(c) && c !== 0x3d && (c >= 128 || BASE64_ALPHABET[c] === 0)) return false;
  }
  return true;
}

/**
 * Every certificate in a PEM file (CERTIFICATE, X509 CERTIFICATE and TRUSTED CERTIFICATE blocks; other blocks such
 * as keys are skipped), a raw DER file (one certificate), or bare base64. The DERs are not parsed: pass each to
 * parseCertificate. Throws CertificateParseError for a malformed block or when nothing certificate-like is found.
 */
export function pemToDers(input: string | Uint8Array): Uint8Array[] {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    const bytes = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    // DER starts with a SEQUENCE tag and a length byte; PEM text starting with "0" would be followed by text.
    if (
      bytes.length > 1 &&
      bytes[0] === TAG.SEQUENCE &&
      ((bytes[1] as number) < 0x80 || ((bytes[1] as number) >= 0x81 && (bytes[1] as number) <= 0x84))
    ) {
      if (!bytes.includes('-----BEGIN ')) return [bytes];
    }
    text = bytes.toString('latin1');
  }
  const ders: Uint8Array[] = [];
  let searchFrom = 0;
  let blocks = 0;
  for (;;) {
    const begin = text.indexOf('-----BEGIN ', searchFrom);
    if (begin < 0) break;
    const labelEnd = text.indexOf('-----', begin + 11);
    if (labelEnd < 0) fail('invalid-pem', begin, 'PEM BEGIN line is not closed by "-----"');
    const label = text.slice(begin + 11, labelEnd);
    const bodyStart = labelEnd + 5;
    const endLine = `-----END ${label}-----`;
    const end = text.indexOf(endLine, bodyStart);
    if (end < 0) fail('invalid-pem', begin, `PEM block "${label}" has no "${endLine}" line`);
    blocks++;
    if (CERTIFICATE_LABELS.has(label)) {
      const der = decodeBase64Range(text, bodyStart, end);
      ders.push(label === 'TRUSTED CERTIFICATE' ? firstElement(der, begin) : der);
    }
    searchFrom = end + endLine.length;
  }
  if (blocks > 0) return ders;
  const trimmed = text.trim();
  if (trimmed.length > 0 && looksLikeBase64(trimmed)) return [decodeBase64Range(trimmed, 0, trimmed.length)];
  fail('invalid-pem', null, 'no PEM block, DER certificate or base64 found');
}
