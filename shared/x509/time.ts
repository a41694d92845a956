// Validity times under RFC 5280's rules: UTCTime YYMMDDHHMMSSZ, GeneralizedTime YYYYMMDDHHMMSSZ, nothing looser.
import type { DerReader } from './der';
import { TAG, describeTag } from './der';
import { fail } from './errors';

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function twoDigits(bytes: Buffer, at: number): number {
  return ((bytes[at] as number) - 0x30) * 10 + ((bytes[at + 1] as number) - 0x30);
}

/**
 * Reads the Time element at `pos` and returns it as ISO 8601 ("2049-12-31T23:59:59Z"); leaves the element's end in
 * reader.end. Fractional seconds, offsets, missing seconds and out-of-range fields are all 'invalid-time'.
 */
export function readTime(reader: DerReader, pos: number, limit: number, what: string): string {
  reader.header(pos, limit, what);
  const { tag, start, end } = reader;
  const bytes = reader.bytes;
  let digits: number;
  if (tag === TAG.UTC_TIME) digits = 12;
  else if (tag === TAG.GENERALIZED_TIME) digits = 14;
  else
    fail(
      'unexpected-tag',
      pos,
      `${what}: expected UTCTime (0x17) or GeneralizedTime (0x18), found ${describeTag(tag)}`,
    );
  const form = tag === TAG.UTC_TIME ? 'UTCTime YYMMDDHHMMSSZ' : 'GeneralizedTime YYYYMMDDHHMMSSZ';
  if (end - start !== digits + 1 || bytes[end - 1] !== 0x5a) {
    fail('invalid-time', pos, `${what}: "${bytes.toString('latin1', start, end)}" is not RFC 5280 ${form}`);
  }
  for (let i = start; i < end - 1; i++) {
    const c = bytes[i] as number;
    if (c < 0x30 || c > 0x39)
      fail('invalid-time', i, `${what}: "${bytes.toString('latin1', start, end)}" has a non-digit`);
  }
  let year: number;
  let at = start;
  if (digits === 12) {
    // RFC 5280 4.1.2.5.1: YY >= 50 is 19YY, otherwise 20YY.
    const yy = twoDigits(bytes, at);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    at += 2;
  } else {
    year = twoDigits(bytes, at) * 100 + twoDigits(bytes, at + 2);
    at += 4;
  }
  const month = twoDigits(bytes, at);
  const day = twoDigits(bytes, at + 2);
  const hour = twoDigits(bytes, at + 4);
  const minute = twoDigits(bytes, at + 6);
  const second = twoDigits(bytes, at + 8);
  const monthDays = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) {
    fail(
      'invalid-time',
      pos,
      `${what}: "${bytes.toString('latin1', start, end)}" is not a valid date and time`,
    );
  }
  const yyyy = digits === 12 ? String(year) : bytes.toString('latin1', start, start + 4);
  const rest = bytes.toString('latin1', at, end - 1);
  return `${yyyy}-${rest.slice(0, 2)}-${rest.slice(2, 4)}T${rest.slice(4, 6)}:${rest.slice(6, 8)}:${rest.slice(8, 10)}Z`;
}
