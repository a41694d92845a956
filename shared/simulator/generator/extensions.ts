// X.509 v3 extension encoders (RFC 5280 §4.2) for the handful of extensions an inventory sensor looks at.
import { isIP } from 'node:net';
import {
  boolean,
  explicit,
  ia5String,
  implicitConstructed,
  implicitPrimitive,
  namedBitString,
  octetString,
  oid,
  sequence,
  smallInteger,
  utf8String,
} from './der';

export const ExtensionOid = {
  SubjectKeyIdentifier: '2.5.29.14',
  KeyUsage: '2.5.29.15',
  SubjectAltName: '2.5.29.17',
  BasicConstraints: '2.5.29.19',
  CrlDistributionPoints: '2.5.29.31',
  CertificatePolicies: '2.5.29.32',
  AuthorityKeyIdentifier: '2.5.29.35',
  ExtKeyUsage: '2.5.29.37',
  AuthorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

export function extension(extensionOid: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(extensionOid), boolean(true), octetString(value))
    : sequence(oid(extensionOid), octetString(value));
}

/** RFC 5280 KeyUsage bit numbers. */
export const KeyUsageBit = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;
export type KeyUsageName = keyof typeof KeyUsageBit;

export function keyUsageExtension(usages: readonly KeyUsageName[]): Buffer {
  return extension(ExtensionOid.KeyUsage, true, namedBitString(usages.map((usage) => KeyUsageBit[usage])));
}

export function basicConstraintsExtension(
  isCa: boolean,
  pathLength: number | null,
  critical: boolean,
): Buffer {
  const fields: Buffer[] = [];
  // DER omits DEFAULT FALSE, so an end-entity's BasicConstraints is an empty SEQUENCE.
  if (isCa) fields.push(boolean(true));
  if (isCa && pathLength !== null) fields.push(smallInteger(pathLength));
  return extension(ExtensionOid.BasicConstraints, critical, sequence(...fields));
}

export function extendedKeyUsageExtension(oids: readonly string[]): Buffer {
  return extension(ExtensionOid.ExtKeyUsage, false, sequence(...oids.map((dotted) => oid(dotted))));
}

export function subjectKeyIdentifierExtension(keyIdentifier: Buffer): Buffer {
  return extension(ExtensionOid.SubjectKeyIdentifier, false, octetString(keyIdentifier));
}

export function authorityKeyIdentifierExtension(keyIdentifier: Buffer): Buffer {
  return extension(ExtensionOid.AuthorityKeyIdentifier, false, sequence(implicitPrimitive(0, keyIdentifier)));
}

export type GeneralName =
  | { type: 'dns'; value: string }
  | { type: 'email'; value: string }
  | { type: 'uri'; value: string }
  | { type: 'ip'; value: string }
  | { type: 'upn'; value: string };

/** Microsoft's user principal name otherName (szOID_NT_PRINCIPAL_NAME). */
export const UPN_OID = '1.3.6.1.4.1.311.20.2.3';

/** IPv4 or IPv6 text to the 4 or 16 network-order octets iPAddress carries. */
export function ipAddressBytes(text: string): Buffer {
  const version = isIP(text);
  if (version === 4) return Buffer.from(text.split('.').map((part) => Number(part)));
  if (version !== 6) throw new RangeError(`not an IP address: ${text}`);
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

export function encodeGeneralName(name: GeneralName): Buffer {
  switch (name.type) {
    case 'email':
      return implicitPrimitive(1, Buffer.from(name.value, 'latin1'));
    case 'dns':
      return implicitPrimitive(2, Buffer.from(name.value, 'latin1'));
    case 'uri':
      return implicitPrimitive(6, Buffer.from(name.value, 'latin1'));
    case 'ip':
      return implicitPrimitive(7, ipAddressBytes(name.value));
    case 'upn':
      // otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }, itself [0] IMPLICIT in GeneralName.
      return implicitConstructed(0, Buffer.concat([oid(UPN_OID), explicit(0, utf8String(name.value))]));
  }
}

/** RFC 5280 §4.2.1.6: the extension must be critical when the subject DN is empty. */
export function subjectAltNameExtension(names: readonly GeneralName[], critical: boolean): Buffer {
  return extension(ExtensionOid.SubjectAltName, critical, sequence(...names.map(encodeGeneralName)));
}

export function crlDistributionPointsExtension(urls: readonly string[]): Buffer {
  // DistributionPoint { distributionPoint [0] { fullName [0] GeneralNames } } per URL.
  const points = urls.map((url) =>
    sequence(implicitConstructed(0, implicitConstructed(0, encodeGeneralName({ type: 'uri', value: url })))),
  );
  return extension(ExtensionOid.CrlDistributionPoints, false, sequence(...points));
}

const OCSP_ACCESS_METHOD = '1.3.6.1.5.5.7.48.1';
const CA_ISSUERS_ACCESS_METHOD = '1.3.6.1.5.5.7.48.2';

export function authorityInfoAccessExtension(ocspUrl: string | null, caIssuersUrl: string | null): Buffer {
  const descriptions: Buffer[] = [];
  if (ocspUrl) {
    descriptions.push(sequence(oid(OCSP_ACCESS_METHOD), encodeGeneralName({ type: 'uri', value: ocspUrl })));
  }
  if (caIssuersUrl) {
    descriptions.push(
      sequence(oid(CA_ISSUERS_ACCESS_METHOD), encodeGeneralName({ type: 'uri', value: caIssuersUrl })),
    );
  }
  return extension(ExtensionOid.AuthorityInfoAccess, false, sequence(...descriptions));
}

const CPS_QUALIFIER = '1.3.6.1.5.5.7.2.1';

export function certificatePoliciesExtension(policies: readonly string[], cpsUrl: string | null): Buffer {
  const entries = policies.map((policy, index) =>
    // Only the first policy carries the CPS pointer, as public CAs usually do.
    index === 0 && cpsUrl
      ? sequence(oid(policy), sequence(sequence(oid(CPS_QUALIFIER), ia5String(cpsUrl))))
      : sequence(oid(policy)),
  );
  return extension(ExtensionOid.CertificatePolicies, false, sequence(...entries));
}
