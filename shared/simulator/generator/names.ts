// Distinguished names: DER encoding for the certificate and the string form Command shows in IssuedDN / IssuerDN.
import { ia5String, oid, printableString, sequence, setOf, utf8String } from './der';

export type NameAttribute = 'C' | 'ST' | 'L' | 'O' | 'OU' | 'CN' | 'E' | 'DC';

export interface NameComponent {
  type: NameAttribute;
  value: string;
}

/** A DN in DER order (most significant RDN first, e.g. C before CN); one attribute per RDN. */
export type DistinguishedName = readonly NameComponent[];

const ATTRIBUTE_OIDS: Record<NameAttribute, string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  E: '1.2.840.113549.1.9.1',
  DC: '0.9.2342.19200300.100.1.25',
};

function encodeValue(component: NameComponent): Buffer {
  switch (component.type) {
    case 'C':
      // X.520 fixes countryName to PrintableString.
      return printableString(component.value);
    case 'E':
    case 'DC':
      // PKCS#9 emailAddress and RFC 4519 domainComponent are IA5String.
      return ia5String(component.value);
    default:
      // RFC 5280 §4.1.2.4: new certificates should use UTF8String for DirectoryString attributes.
      return utf8String(component.value);
  }
}

export function encodeName(name: DistinguishedName): Buffer {
  return sequence(
    ...name.map((component) => setOf(sequence(oid(ATTRIBUTE_OIDS[component.type]), encodeValue(component)))),
  );
}

/** RFC 4514 §2.4 escaping: special characters anywhere, '#' or space at the start, space at the end. */
export function escapeDnValue(value: string): string {
  let escaped = value.replace(/["+,;<>\\]/g, (character) => `\\${character}`);
  if (escaped.startsWith('#') || escaped.startsWith(' ')) escaped = `\\${escaped}`;
  if (escaped.endsWith(' ') && escaped.length > 1) escaped = `${escaped.slice(0, -1)}\\ `;
  return escaped;
}

/**
 * The string form Command reports: RFC 4514 order (least significant first, i.e. CN before C), short attribute names
 * (E for emailAddress, ST for stateOrProvinceName) and `separator` between RDNs. Empty DN gives "".
 */
export function formatName(name: DistinguishedName, separator: string): string {
  const parts: string[] = [];
  for (let index = name.length - 1; index >= 0; index--) {
    const component = name[index];
    if (component) parts.push(`${component.type}=${escapeDnValue(component.value)}`);
  }
  return parts.join(separator);
}

export function firstValue(name: DistinguishedName, type: NameAttribute): string | null {
  // Command reports the most specific value (the one printed first in RFC 4514 order).
  for (let index = name.length - 1; index >= 0; index--) {
    const component = name[index];
    if (component?.type === type) return component.value;
  }
  return null;
}
