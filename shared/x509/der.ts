// Bounds-checked DER primitives: element headers, INTEGER/BOOLEAN/BIT STRING checks, hex, all without per-element allocation.
import { fail } from './errors';

/** Tags the reader compares against (universal class unless noted). */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

/**
 * Deepest nesting the reader will walk through generically (inside opaque constructed values it keeps, such as a
 * SEQUENCE used as a name attribute value). The schema-driven parts never recurse on data-controlled depth.
 */
export const MAX_NESTING_DEPTH = 32;

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, byte) =>
  byte.toString(16).padStart(2, '0'),
);

export function describeTag(tag: number): string {
  return `0x${HEX_BYTE[tag] ?? '??'}`;
}

/**
 * A cursor over one certificate's bytes. `header` leaves the element's tag and content range in `tag`, `start` and
 * `end` instead of returning an object, so walking a certificate allocates nothing per element.
 */
export class DerReader {
  readonly bytes: Buffer;
  readonly length: number;
  tag = 0;
  /** Offset of the first content byte of the element last read. */
  start = 0;
  /** Offset just past the element last read. */
  end = 0;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
    this.length = bytes.length;
  }

  /**
   * Reads the header of the element at `pos`, which must end by `limit` (the end of its parent). Lengths in long form
   * with up to 4 length octets are accepted even when not minimal, as OpenSSL does; indefinite lengths are not DER.
   */
  header(pos: number, limit: number, what: string): void {
    const bytes = this.bytes;
    if (pos >= limit) this.overrun(pos, limit, what, 'is missing');
    const tag = bytes[pos] as number;
    if ((tag & 0x1f) === 0x1f)
      fail(
        'unexpected-tag',
        pos,
        `${what}: high-tag-number form ${describeTag(tag)} is not used in certificates`,
      );
    if (pos + 1 >= limit) this.overrun(pos, limit, what, 'has no length');
    let length = bytes[pos + 1] as number;
    let contentStart = pos + 2;
    if (length >= 0x80) {
      const octets = length & 0x7f;
      if (octets === 0)
        fail('indefinite-length', pos + 1, `${what}: indefinite length is not allowed in DER`);
      if (octets > 4)
        fail('invalid-length', pos + 1, `${what}: a length of ${octets} octets is absurd for a certificate`);
      if (contentStart + octets > limit) this.overrun(pos, limit, what, 'has a truncated length');
      length = 0;
      for (let i = 0; i < octets; i++) length = length * 256 + (bytes[contentStart + i] as number);
      contentStart += octets;
    }
    if (length > limit - contentStart) {
      if (limit === this.length) {
        fail(
          'truncated',
          pos,
          `${what}: length ${length} runs past the end of the input (${limit - contentStart} bytes left)`,
        );
      }
      fail(
        'invalid-length',
        pos,
        `${what}: length ${length} runs past the end of its enclosing element (${limit - contentStart} bytes left)`,
      );
    }
    this.tag = tag;
    this.start = contentStart;
    this.end = contentStart + length;
  }

  /** Reads a header and insists on one tag; returns the element's end. */
  expect(pos: number, limit: number, tag: number, what: string): number {
    this.header(pos, limit, what);
    if (this.tag !== tag) {
      fail(
        'unexpected-tag',
        pos,
        `${what}: expected tag ${describeTag(tag)}, found ${describeTag(this.tag)}`,
      );
    }
    return this.end;
  }

  private overrun(pos: number, limit: number, what: string, problem: string): never {
    if (limit === this.length) fail('truncated', pos, `${what} ${problem}: the input ends`);
    fail('invalid-length', pos, `${what} ${problem}: its enclosing element ends`);
  }

  /** Checks INTEGER content (non-empty); non-minimal padding is tolerated as OpenSSL's parser would not be. */
  checkInteger(start: number, end: number, what: string): void {
    if (end <= start) fail('invalid-integer', start, `${what}: an INTEGER needs at least one content byte`);
  }

  isNegativeInteger(start: number): boolean {
    return ((this.bytes[start] as number) & 0x80) !== 0;
  }

  /** Value of a non-negative INTEGER that fits in 48 bits; null when negative or larger. */
  smallUnsigned(start: number, end: number): number | null {
    const bytes = this.bytes;
    if (end <= start || ((bytes[start] as number) & 0x80) !== 0) return null;
    let first = start;
    while (first < end - 1 && bytes[first] === 0) first++;
    if (end - first > 6) return null;
    let value = 0;
    for (let i = first; i < end; i++) value = value * 256 + (bytes[i] as number);
    return value;
  }

  /** Bit length of an unsigned big-endian magnitude (leading zero bytes ignored), as BN_num_bits reports it. */
  unsignedBitLength(start: number, end: number): number {
    const bytes = this.bytes;
    let first = start;
    while (first < end && bytes[first] === 0) first++;
    if (first === end) return 0;
    return (end - first - 1) * 8 + (32 - Math.clz32(bytes[first] as number));
  }

  /** BOOLEAN content: one byte; any non-zero value is TRUE (BER), as OpenSSL accepts. */
  boolean(pos: number, limit: number, what: string): boolean {
    this.expect(pos, limit, TAG.BOOLEAN, what);
    if (this.end - this.start !== 1)
      fail('invalid-boolean', pos, `${what}: a BOOLEAN has exactly one content byte`);
    return this.bytes[this.start] !== 0;
  }

  /** Validates BIT STRING framing at [start, end) and returns the offset of the first data byte. */
  bitStringData(start: number, end: number, what: string): number {
    if (end <= start) fail('invalid-bit-string', start, `${what}: a BIT STRING needs its unused-bits byte`);
    const unused = this.bytes[start] as number;
    if (unused > 7) fail('invalid-bit-string', start, `${what}: ${unused} unused bits is more than 7`);
    if (unused !== 0 && end - start === 1)
      fail('invalid-bit-string', start, `${what}: unused bits in an empty BIT STRING`);
    return start + 1;
  }

  hex(start: number, end: number): string {
    return this.bytes.toString('hex', start, end);
  }

  /** Uppercase hex, the form OpenSSL uses when it dumps DER. */
  upperHex(start: number, end: number): string {
    return this.bytes.toString('hex', start, end).toUpperCase();
  }

  equalRanges(aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
    if (aEnd - aStart !== bEnd - bStart) return false;
    return this.bytes.compare(this.bytes, bStart, bEnd, aStart, aEnd) === 0;
  }

  /**
   * Checks that [start, end) is a sequence of well-formed elements, descending into constructed ones up to
   * MAX_NESTING_DEPTH. Used only for opaque values the reader keeps and prints (never on its hot path).
   */
  checkWellFormed(start: number, end: number, depth: number, what: string): void {
    if (depth > MAX_NESTING_DEPTH)
      fail('too-deep', start, `${what}: nested deeper than ${MAX_NESTING_DEPTH} levels`);
    let pos = start;
    while (pos < end) {
      this.header(pos, end, what);
      const next = this.end;
      if ((this.tag & 0x20) !== 0) this.checkWellFormed(this.start, next, depth + 1, what);
      pos = next;
    }
  }
}
