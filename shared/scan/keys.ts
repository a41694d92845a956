// Identities of the scan pipeline: the sensor key (cursor and findings belong to it), scan ids, task ids, and the
// content hash that decides whether a finding changed.
import { createHash, randomBytes } from 'node:crypto';
import type { Finding } from '#shared/findings/index';
import { parseQuery, printQuery, withCommandFieldNames } from '#shared/query/index';

/** Scheme and host in lower case, default port dropped, no credentials, query or fragment, no trailing slash. */
export function normaliseCommandUrl(url: string): string {
  const parsed = new URL(url.trim());
  const path = parsed.pathname.replace(/\/+$/, '');
  // URL already lower-cases scheme and host and drops a default port.
  return `${parsed.protocol}//${parsed.host}${path}`;
}

/**
 * The filter in canonical form: parsed, field aliases replaced by Command's names, printed. Whitespace, keyword
 * case and alias spelling then never make a new sensor. null/blank: every certificate (''). Throws QueryError.
 */
export function canonicalFilter(queryFilter: string | null): string {
  if (queryFilter === null) return '';
  const node = parseQuery(queryFilter);
  return node === null ? '' : printQuery(withCommandFieldNames(node));
}

/**
 * `<host>/<32 hex>`: the readable host for people reading tables and logs, and 128 bits of SHA-256 over the
 * normalised URL and canonical filter for identity.
 */
export function sensorKey(url: string, queryFilter: string | null): string {
  const normalised = normaliseCommandUrl(url);
  const digest = createHash('sha256')
    .update(JSON.stringify([normalised, canonicalFilter(queryFilter)]))
    .digest('hex');
  return `${new URL(normalised).host}/${digest.slice(0, 32)}`;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * ULID-shaped (26 Crockford base-32 characters): 48 bits of milliseconds, so ids sort by creation time, then 80
 * random bits.
 */
export function newScanId(now: Date = new Date()): string {
  let time = now.getTime();
  if (!Number.isFinite(time) || time < 0) throw new RangeError('newScanId: invalid time');
  let timePart = '';
  for (let i = 0; i < 10; i += 1) {
    timePart = CROCKFORD[time % 32]! + timePart;
    time = Math.floor(time / 32);
  }
  const random = randomBytes(10);
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
  let randomPart = '';
  for (let i = 0; i < 16; i += 1) {
    randomPart = CROCKFORD[Number(bits & 31n)]! + randomPart;
    bits >>= 5n;
  }
  return timePart + randomPart;
}

/** Deterministic page-task id of the inclusive CertId range [lo, hi]: completions are recorded once per id. */
export function taskIdFor(lo: number, hi: number): string {
  return `r${lo}-${hi}`;
}

/** `"key":` per key seen, bounded: the same few hundred keys recur in every finding. */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 10_000;

/** JSON with object keys sorted, so equal content always hashes equally whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // Plain loops and concatenation: this runs over every finding of every scan (the content hash), and the
  // entries/filter/map/join version allocated four arrays per object (50 -> 40 µs per finding with the key cache).
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i += 1) {
      if (i > 0) out += ',';
      out += canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // Default sort compares UTF-16 code units, as `<` does; most objects need no sorting at all.
  for (let i = 1; i < keys.length; i += 1) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    if (!first) out += ',';
    first = false;
    let quoted = quotedKeys.get(key);
    if (quoted === undefined) {
      quoted = `${JSON.stringify(key)}:`;
      if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(key, quoted);
    }
    out += quoted + canonicalJson(item);
  }
  return `${out}}`;
}

/**
 * SHA-256 of the finding without what varies from run to run for the same certificate: `@timestamp` (when the
 * analysis ran), `first_found` (set from the store), and each rule's `message`, whose relative wording ("expires
 * in 12 days") changes daily. Rule ids and severities stay in, so a rule firing or its severity moving is a change.
 */
export function findingContentHash(finding: Finding): string {
  const { '@timestamp': _timestamp, first_found: _firstFound, ...stable } = finding;
  const content = {
    ...stable,
    analysis: {
      ...stable.analysis,
      rules: stable.analysis.rules.map(({ message: _message, ...rule }) => rule),
    },
  };
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
