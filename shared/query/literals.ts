// Reading query literals (integers, booleans, dates, numbers) and certificate timestamps, shared by parser and evaluator.

export const DAY_MS = 86_400_000;

/** A date literal before `now` is known: %TODAY±N% tokens resolve at compile time, timestamps are fixed. */
export type DateLiteral = { kind: 'today'; offsetDays: number } | { kind: 'instant'; epochMs: number };

const TODAY_TOKEN = /^%today(?:([+-])(\d{1,5}))?%$/i;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
// Seconds and zone are optional; a timestamp without a zone is read as UTC (see docs/query-language.md).
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const INTEGER = /^[+-]?\d{1,15}$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const ZONE_SUFFIX = /(?:z|[+-]\d{2}:?\d{2})$/i;

export function parseIntegerLiteral(text: string): number | null {
  const trimmed = text.trim();
  return INTEGER.test(trimmed) ? Number(trimmed) : null;
}

/** Metadata values and literals count as numbers only when the whole text is a decimal number. */
export function parseNumberLiteral(text: string): number | null {
  const trimmed = text.trim();
  return DECIMAL.test(trimmed) ? Number(trimmed) : null;
}

export function parseBooleanLiteral(text: string): boolean | null {
  switch (text.trim().toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      return null;
  }
}

export function parseTodayToken(text: string): DateLiteral | null {
  const match = TODAY_TOKEN.exec(text.trim());
  if (match === null) return null;
  const [, sign, digits] = match;
  const magnitude = digits === undefined ? 0 : Number(digits);
  return { kind: 'today', offsetDays: sign === '-' ? -magnitude : magnitude };
}

export function parseDateLiteral(text: string): DateLiteral | null {
  const trimmed = text.trim();
  const token = parseTodayToken(trimmed);
  if (token !== null) return token;
  const dateOnly = DATE_ONLY.exec(trimmed);
  if (dateOnly !== null) return calendarInstant(dateOnly.slice(1, 4), [], undefined);
  const timestamp = TIMESTAMP.exec(trimmed);
  if (timestamp === null) return null;
  return calendarInstant(timestamp.slice(1, 4), timestamp.slice(4, 8), timestamp[8]);
}

/** Builds the instant and rejects impossible dates such as 2025-02-30 that Date.UTC would silently roll over. */
function calendarInstant(
  ymd: (string | undefined)[],
  time: (string | undefined)[],
  zone: string | undefined,
): DateLiteral | null {
  const [year, month, day] = ymd.map(Number) as [number, number, number];
  const [hour = 0, minute = 0, second = 0] = time.slice(0, 3).map((part) => Number(part ?? 0));
  const fraction = time[3] === undefined ? 0 : Number(`0.${time[3]}`) * 1000;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(utc);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day)
    return null;
  return { kind: 'instant', epochMs: utc + Math.floor(fraction) - zoneOffsetMs(zone) };
}

function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone.toLowerCase() === 'z') return 0;
  const digits = zone.replace(':', '');
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  return (digits.startsWith('-') ? -minutes : minutes) * 60_000;
}

/** %TODAY% is midnight UTC of `now`'s UTC day; offsets move it by whole days. */
export function resolveDateLiteral(literal: DateLiteral, now: Date): number {
  if (literal.kind === 'instant') return literal.epochMs;
  return (utcDay(now.getTime()) + literal.offsetDays) * DAY_MS;
}

/** Days since the epoch in UTC; NaN stays NaN so unparsable dates never compare equal. */
export function utcDay(epochMs: number): number {
  return Math.floor(epochMs / DAY_MS);
}

/**
 * Certificate timestamps come with `Z`; one without a zone is read as UTC rather than the host's local time,
 * which is what Date.parse would do.
 */
export function parseCertificateInstant(text: string): number {
  if (text.length > 10 && !ZONE_SUFFIX.test(text)) return Date.parse(`${text}Z`);
  return Date.parse(text);
}
