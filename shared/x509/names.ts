// X.500 names: attributes decoded per string type, and the RFC 4514 string byte-for-byte as `openssl -nameopt RFC2253` prints it.
import type { DerReader } from './der';
import { TAG } from './der';
import { fail, relabel } from './errors';
import { decodeOid, lookupOid } from './oids';
import type { DistinguishedName, NameAttribute } from './types';

const COMMON_NAME_OID = '2.5.4.3';

/** How OpenSSL reads each universal string tag: bytes per character, 0 for UTF-8 kept as bytes (a_strex.c tag2nbyte). */
const CHAR_WIDTH = new Int8Array(32).fill(-1);
CHAR_WIDTH[12] = 0; // UTF8String
for (const tag of [18, 19, 20, 21, 22, 23, 24, 25, 26, 27]) CHAR_WIDTH[tag] = 1; // Numeric, Printable, Teletex... GeneralString
CHAR_WIDTH[28] = 4; // UniversalString
CHAR_WIDTH[30] = 2; // BMPString

const FIRST = 1;
const LAST = 2;

const UPPER_HEX = '0123456789ABCDEF';

/** Characters that need no escaping anywhere in an RFC 2253 value (printable ASCII minus the specials). */
const PLAIN = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) PLAIN[c] = 1;
for (const special of ',+"\\<>;#') PLAIN[special.charCodeAt(0)] = 0;
PLAIN[0x20] = 1; // space: plain except first or last, checked separately
PLAIN[0x23] = 1; // '#': plain except first, checked separately

function escapeAscii(c: number, position: number): string {
  switch (c) {
    case 0x2c: // ,
    case 0x2b: // +
    case 0x22: // "
    case 0x5c: // \
    case 0x3c: // <
    case 0x3e: // >
    case 0x3b: // ;
      return `\\${String.fromCharCode(c)}`;
    case 0x20:
      return position !== 0 ? '\\ ' : ' ';
    case 0x23:
      return position === FIRST ? '\\#' : '#';
    default:
      if (c < 0x20 || c === 0x7f) return `\\${UPPER_HEX.charAt(c >> 4)}${UPPER_HEX.charAt(c & 15)}`;
      return String.fromCharCode(c);
  }
}

function escapeByte(byte: number): string {
  return `\\${UPPER_HEX.charAt(byte >> 4)}${UPPER_HEX.charAt(byte & 15)}`;
}

/** A code point as OpenSSL's do_buf emits it: UTF-8 bytes, each above 0x7F as \XX; surrogates and > U+10FFFF vanish. */
function escapeCodePoint(codePoint: number, position: number): string {
  if (codePoint < 0x80) return escapeAscii(codePoint, position);
  if (codePoint < 0x800) return escapeByte(0xc0 | (codePoint >> 6)) + escapeByte(0x80 | (codePoint & 0x3f));
  if (codePoint < 0x10000) {
    if (codePoint >= 0xd800 && codePoint < 0xe000) return '';
    return (
      escapeByte(0xe0 | (codePoint >> 12)) +
      escapeByte(0x80 | ((codePoint >> 6) & 0x3f)) +
      escapeByte(0x80 | (codePoint & 0x3f))
    );
  }
  if (codePoint < 0x110000) {
    return (
      escapeByte(0xf0 | (codePoint >> 18)) +
      escapeByte(0x80 | ((codePoint >> 12) & 0x3f)) +
      escapeByte(0x80 | ((codePoint >> 6) & 0x3f)) +
      escapeByte(0x80 | (codePoint & 0x3f))
    );
  }
  return '';
}

function positionOf(index: number, count: number): number {
  // OpenSSL sets the "last" flag after the "first" one, so a one-character value is only "last".
  return index === count - 1 ? LAST : index === 0 ? FIRST : 0;
}

/** OpenSSL's dump of a value: "#" + uppercase hex of its DER (primitive values re-encoded with a minimal length). */
function dumpValue(reader: DerReader, tlvStart: number, tag: number, start: number, end: number): string {
  if ((tag & 0x20) !== 0) return `#${reader.upperHex(tlvStart, end)}`;
  const length = end - start;
  let header = UPPER_HEX.charAt(tag >> 4) + UPPER_HEX.charAt(tag & 15);
  if (length < 0x80) {
    header += UPPER_HEX.charAt(length >> 4) + UPPER_HEX.charAt(length & 15);
  } else {
    let octets = '';
    let count = 0;
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) {
      const byte = rest & 0xff;
      octets = UPPER_HEX.charAt(byte >> 4) + UPPER_HEX.charAt(byte & 15) + octets;
      count++;
    }
    header += `8${count}${octets}`;
  }
  return `#${header}${reader.upperHex(start, end)}`;
}

interface DecodedValue {
  text: string;
  rfc2253: string;
}

const scratch: DecodedValue = { text: '', rfc2253: '' };

/**
 * Decodes a string value and its RFC 2253 form into `scratch` (one shared object: no allocation per attribute).
 * Returns false when the value is not a string OpenSSL would print as text (the caller dumps it as hex).
 */
function decodeString(reader: DerReader, tag: number, start: number, end: number): boolean {
  const bytes = reader.bytes;
  const width = tag < 32 ? (CHAR_WIDTH[tag] as number) : -1;
  const length = end - start;
  if (width === 0 || width === 1) {
    // Fast path: printable ASCII without specials reads the same in every form.
    let plain = true;
    for (let i = start; i < end; i++) {
      if (PLAIN[bytes[i] as number] === 0) {
        plain = false;
        break;
      }
    }
    if (plain && length > 0) {
      const first = bytes[start] as number;
      const last = bytes[end - 1] as number;
      if (first === 0x20 || last === 0x20 || (first === 0x23 && length > 1)) plain = false;
    }
    if (plain) {
      const text = bytes.toString('latin1', start, end);
      scratch.text = text;
      scratch.rfc2253 = text;
      return true;
    }
    let out = '';
    for (let i = start; i < end; i++) {
      const c = bytes[i] as number;
      const position = positionOf(i - start, length);
      if (c < 0x80) out += escapeAscii(c, position);
      else if (width === 0) out += escapeByte(c);
      else out += escapeByte(0xc0 | (c >> 6)) + escapeByte(0x80 | (c & 0x3f));
    }
    scratch.text = width === 0 ? bytes.toString('utf8', start, end) : bytes.toString('latin1', start, end);
    scratch.rfc2253 = out;
    return true;
  }
  if (width === 2 || width === 4) {
    if (length % width !== 0) return false;
    const count = length / width;
    let text = '';
    let out = '';
    for (let index = 0; index < count; index++) {
      const at = start + index * width;
      const codePoint =
        width === 2
          ? ((bytes[at] as number) << 8) | (bytes[at + 1] as number)
          : (((bytes[at] as number) << 24) |
              ((bytes[at + 1] as number) << 16) |
              ((bytes[at + 2] as number) << 8) |
              (bytes[at + 3] as number)) >>>
            0;
      out += escapeCodePoint(codePoint, positionOf(index, count));
      if (width === 2) text += String.fromCharCode(codePoint);
      else
        text +=
          codePoint < 0x110000 && (codePoint < 0xd800 || codePoint >= 0xe000)
            ? String.fromCodePoint(codePoint)
            : '\ufffd';
    }
    scratch.text = text;
    scratch.rfc2253 = out;
    return true;
  }
  return false;
}

/** Parses the Name whose SEQUENCE content is [start, end); structural errors become 'invalid-name' naming `what`. */
export function parseName(reader: DerReader, start: number, end: number, what: string): DistinguishedName {
  try {
    return readName(reader, start, end, what);
  } catch (error) {
    throw relabel(error, 'invalid-name', what);
  }
}

/** The value of the last commonName attribute (the most specific one), null when there is none. */
export function commonNameOf(name: DistinguishedName): string | null {
  const attributes = name.attributes;
  for (let i = attributes.length - 1; i >= 0; i--) {
    const attribute = attributes[i] as NameAttribute;
    if (attribute.oid === COMMON_NAME_OID) return attribute.value;
  }
  return null;
}

/**
 * Reads the AttributeTypeAndValues in [start, end) (the content of one RDN SET) into `attributes`, with their
 * RFC 2253 pieces in `pieces`.
 */
function readAttributes(
  reader: DerReader,
  start: number,
  end: number,
  what: string,
  rdn: number,
  attributes: NameAttribute[],
  pieces: string[],
): void {
  const bytes = reader.bytes;
  let atvPos = start;
  while (atvPos < end) {
    const atvEnd = reader.expect(atvPos, end, TAG.SEQUENCE, `${what} attribute`);
    const oidEnd = reader.expect(reader.start, atvEnd, TAG.OID, `${what} attribute type`);
    const oidStart = reader.start;
    const valueStart = oidEnd;
    reader.header(valueStart, atvEnd, `${what} attribute value`);
    const tag = reader.tag;
    const contentStart = reader.start;
    const valueEnd = reader.end;
    if (valueEnd !== atvEnd)
      fail('invalid-name', valueEnd, `${what}: attribute has more than a type and a value`);
    if ((tag & 0x20) !== 0) reader.checkWellFormed(contentStart, valueEnd, 1, `${what} attribute value`);

    const entry = lookupOid(bytes, oidStart, oidEnd);
    const oid = entry ? entry.oid : decodeOid(bytes, oidStart, oidEnd);
    const type = entry?.shortName ?? oid;
    let text: string;
    let rfc2253: string;
    if ((tag & 0x20) === 0 && decodeString(reader, tag, contentStart, valueEnd)) {
      text = scratch.text;
      // OpenSSL dumps the value of an attribute type it does not know, whatever its string type.
      rfc2253 = entry ? scratch.rfc2253 : dumpValue(reader, valueStart, tag, contentStart, valueEnd);
    } else {
      text = dumpValue(reader, valueStart, tag, contentStart, valueEnd);
      rfc2253 = text;
    }
    attributes.push({ type, oid, value: text, rdn });
    pieces.push(`${type}=${rfc2253}`);
    atvPos = atvEnd;
  }
}

/** Validates a RelativeDistinguishedName whose SET content is [start, end) (CRL distribution point names). */
export function checkRelativeName(reader: DerReader, start: number, end: number, what: string): void {
  try {
    readAttributes(reader, start, end, what, 0, [], []);
  } catch (error) {
    throw relabel(error, 'invalid-name', what);
  }
}

function readName(reader: DerReader, start: number, end: number, what: string): DistinguishedName {
  const attributes: NameAttribute[] = [];
  const pieces: string[] = [];
  let rdn = 0;
  let pos = start;
  while (pos < end) {
    const setEnd = reader.expect(pos, end, TAG.SET, `${what} RDN`);
    readAttributes(reader, reader.start, setEnd, what, rdn, attributes, pieces);
    rdn++;
    pos = setEnd;
  }
  // OpenSSL prints the last attribute first; "+" joins attributes of one RDN, "," separates RDNs.
  let rfc4514 = '';
  let previousRdn = -1;
  for (let i = attributes.length - 1; i >= 0; i--) {
    const rdn = (attributes[i] as NameAttribute).rdn;
    if (previousRdn !== -1) rfc4514 += rdn === previousRdn ? '+' : ',';
    rfc4514 += pieces[i] as string;
    previousRdn = rdn;
  }
  return { rfc4514, attributes };
}
