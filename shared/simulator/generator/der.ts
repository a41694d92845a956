// A minimal DER writer: enough of X.690 to build certificates fast and byte-for-byte reproducibly.

export const Tag = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  PrintableString: 0x13,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  Sequence: 0x30,
  Set: 0x31,
} as const;

function lengthOfLength(length: number): number {
  if (length < 0x80) return 0;
  let octets = 0;
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets++;
  return octets;
}

/** Writes tag and length at the start of a buffer sized for the whole TLV; returns where the content goes. */
function header(tag: number, length: number): { out: Buffer; contentStart: number } {
  const extra = lengthOfLength(length);
  const out = Buffer.allocUnsafe(2 + extra + length);
  out[0] = tag;
  if (extra === 0) {
    out[1] = length;
  } else {
    out[1] = 0x80 | extra;
    for (let index = extra, rest = length; index >= 1; index--, rest = Math.floor(rest / 256)) {
      out[1 + index] = rest & 0xff;
    }
  }
  return { out, contentStart: 2 + extra };
}

// Certificates are built from many small TLVs; writing each into one exactly-sized buffer avoids the
// intermediate concatenations that otherwise rival the signing cost of the cheap algorithms.
export function tlv(tag: number, content: Uint8Array): Buffer {
  const { out, contentStart } = header(tag, content.length);
  out.set(content, contentStart);
  return out;
}

function constructed(tag: number, children: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const child of children) length += child.length;
  const { out, contentStart } = header(tag, length);
  let at = contentStart;
  for (const child of children) {
    out.set(child, at);
    at += child.length;
  }
  return out;
}

export function sequence(...children: Uint8Array[]): Buffer {
  return constructed(Tag.Sequence, children);
}

/** SET OF: DER sorts the encoded elements; the generator only ever puts one element in a set, but stay correct. */
export function setOf(...children: Buffer[]): Buffer {
  const sorted =
    children.length > 1 ? [...children].sort((left, right) => Buffer.compare(left, right)) : children;
  return constructed(Tag.Set, sorted);
}

/** [n] EXPLICIT (constructed context tag). */
export function explicit(tagNumber: number, content: Uint8Array): Buffer {
  return tlv(0xa0 | tagNumber, content);
}

/** [n] IMPLICIT for a primitive value (the content replaces the universal tag). */
export function implicitPrimitive(tagNumber: number, content: Uint8Array): Buffer {
  return tlv(0x80 | tagNumber, content);
}

/** [n] IMPLICIT for a constructed value such as a SEQUENCE. */
export function implicitConstructed(tagNumber: number, content: Uint8Array): Buffer {
  return tlv(0xa0 | tagNumber, content);
}

/** The content octets of an INTEGER from unsigned big-endian magnitude: minimal, with a 00 pad when the top bit is set. */
export function integerContent(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = Buffer.from(magnitude.subarray(start));
  const first = trimmed[0] ?? 0;
  return first & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
}

export function unsignedInteger(magnitude: Uint8Array): Buffer {
  return tlv(Tag.Integer, integerContent(magnitude));
}

export function smallInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff)
    throw new RangeError(`bad INTEGER ${value}`);
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  return unsignedInteger(Buffer.from(bytes));
}

export function bigInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return unsignedInteger(Buffer.from(hex, 'hex'));
}

export function boolean(value: boolean): Buffer {
  return tlv(Tag.Boolean, Buffer.from([value ? 0xff : 0x00]));
}

export const NULL = Buffer.from([Tag.Null, 0x00]);

const oidCache = new Map<string, Buffer>();

export function oid(dotted: string): Buffer {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map((arc) => Number(arc));
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined) throw new RangeError(`bad OID ${dotted}`);
  const bytes: number[] = [first * 40 + second];
  for (const arc of rest) {
    const groups: number[] = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      groups.unshift(0x80 | (value & 0x7f));
    }
    bytes.push(...groups);
  }
  const encoded = tlv(Tag.Oid, Buffer.from(bytes));
  oidCache.set(dotted, encoded);
  return encoded;
}

export function octetString(content: Uint8Array): Buffer {
  return tlv(Tag.OctetString, content);
}

/** BIT STRING holding whole bytes (keys, signatures). */
export function bitString(content: Uint8Array): Buffer {
  return tlv(Tag.BitString, Buffer.concat([Buffer.from([0]), content]));
}

/**
 * A named-bit BIT STRING (KeyUsage): DER drops trailing zero bits, so the unused-bit count depends on the highest bit set.
 * `bits` lists bit numbers as RFC 5280 numbers them (0 = digitalSignature = the most significant bit of the first byte).
 */
export function namedBitString(bits: readonly number[]): Buffer {
  if (bits.length === 0) return tlv(Tag.BitString, Buffer.from([0]));
  const highest = Math.max(...bits);
  const byteCount = Math.floor(highest / 8) + 1;
  const bytes = Buffer.alloc(byteCount);
  for (const bit of bits) {
    const index = Math.floor(bit / 8);
    bytes[index] = (bytes[index] ?? 0) | (0x80 >> (bit % 8));
  }
  const unused = 7 - (highest % 8);
  return tlv(Tag.BitString, Buffer.concat([Buffer.from([unused]), bytes]));
}

export function utf8String(value: string): Buffer {
  return tlv(Tag.Utf8String, Buffer.from(value, 'utf8'));
}

export function printableString(value: string): Buffer {
  return tlv(Tag.PrintableString, Buffer.from(value, 'latin1'));
}

export function ia5String(value: string): Buffer {
  return tlv(Tag.Ia5String, Buffer.from(value, 'latin1'));
}

function twoDigits(value: number): string {
  return value.toString().padStart(2, '0');
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always whole seconds in UTC. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const rest =
    twoDigits(date.getUTCMonth() + 1) +
    twoDigits(date.getUTCDate()) +
    twoDigits(date.getUTCHours()) +
    twoDigits(date.getUTCMinutes()) +
    twoDigits(date.getUTCSeconds()) +
    'Z';
  if (year >= 1950 && year < 2050) {
    return tlv(Tag.UtcTime, Buffer.from(twoDigits(year % 100) + rest, 'latin1'));
  }
  return tlv(Tag.GeneralizedTime, Buffer.from(year.toString().padStart(4, '0') + rest, 'latin1'));
}

export interface TlvView {
  tag: number;
  /** Offset of the first content byte. */
  contentStart: number;
  contentEnd: number;
}

/** Reads one TLV header at `offset`; enough to pick apart DER that node:crypto exports (SPKI). */
export function readTlv(bytes: Uint8Array, offset: number): TlvView {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) throw new RangeError('truncated DER');
  let length = first;
  let headerLength = 2;
  if (first & 0x80) {
    const lengthOfLength = first & 0x7f;
    length = 0;
    for (let i = 0; i < lengthOfLength; i++) length = length * 256 + (bytes[offset + 2 + i] ?? 0);
    headerLength += lengthOfLength;
  }
  const contentStart = offset + headerLength;
  return { tag, contentStart, contentEnd: contentStart + length };
}
