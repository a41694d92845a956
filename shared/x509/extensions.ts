// Extensions: every OID and critical flag, and the decoded values findings need (SANs, key usages, constraints, URIs...).
import type { DerReader } from './der';
import { TAG } from './der';
import { fail, relabel } from './errors';
import { checkRelativeName, parseName } from './names';
import { decodeOid, knownOid, lookupOid } from './oids';
import type {
  AuthorityInformationAccess,
  BasicConstraints,
  ExtendedKeyUsage,
  GeneralName,
  KeyUsageName,
  ParsedCertificate,
} from './types';

const SUBJECT_ALT_NAME = knownOid('2.5.29.17');
const KEY_USAGE = knownOid('2.5.29.15');
const EXTENDED_KEY_USAGE = knownOid('2.5.29.37');
const BASIC_CONSTRAINTS = knownOid('2.5.29.19');
const SUBJECT_KEY_IDENTIFIER = knownOid('2.5.29.14');
const AUTHORITY_KEY_IDENTIFIER = knownOid('2.5.29.35');
const CRL_DISTRIBUTION_POINTS = knownOid('2.5.29.31');
const AUTHORITY_INFO_ACCESS = knownOid('1.3.6.1.5.5.7.1.1');
const CERTIFICATE_POLICIES = knownOid('2.5.29.32');
const OCSP = knownOid('1.3.6.1.5.5.7.48.1');
const CA_ISSUERS = knownOid('1.3.6.1.5.5.7.48.2');
const USER_PRINCIPAL_NAME = knownOid('1.3.6.1.4.1.311.20.2.3');

const KEY_USAGE_NAMES: readonly KeyUsageName[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

/** The part of ParsedCertificate that comes from the extensions. */
export type ExtensionFields = Pick<
  ParsedCertificate,
  | 'extensions'
  | 'subjectAltNames'
  | 'keyUsage'
  | 'extendedKeyUsage'
  | 'basicConstraints'
  | 'subjectKeyIdentifier'
  | 'authorityKeyIdentifier'
  | 'crlDistributionPoints'
  | 'authorityInfoAccess'
  | 'certificatePolicies'
>;

export function noExtensions(): ExtensionFields {
  return {
    extensions: [],
    subjectAltNames: null,
    keyUsage: null,
    extendedKeyUsage: null,
    basicConstraints: { present: false, critical: false, cA: false, pathLen: null },
    subjectKeyIdentifier: null,
    authorityKeyIdentifier: null,
    crlDistributionPoints: null,
    authorityInfoAccess: null,
    certificatePolicies: null,
  };
}

/** OpenSSL's rendering of an iPAddress (ossl_ipaddr_to_asc): IPv6 uncompressed, uppercase, no leading zeros. */
function formatIpAddress(bytes: Buffer, start: number, end: number): string {
  const length = end - start;
  if (length === 4) return `${bytes[start]}.${bytes[start + 1]}.${bytes[start + 2]}.${bytes[start + 3]}`;
  if (length === 16) {
    let text = '';
    for (let i = start; i < end; i += 2) {
      const group = (((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16).toUpperCase();
      text += i === start ? group : `:${group}`;
    }
    return text;
  }
  return `<invalid length=${length}>`;
}

/** Reads one GeneralName at `pos` and appends it to `out`; returns its end. */
function readGeneralName(reader: DerReader, pos: number, limit: number, out: GeneralName[]): number {
  reader.header(pos, limit, 'GeneralName');
  const { tag, start, end } = reader;
  const bytes = reader.bytes;
  switch (tag) {
    case 0x82:
      out.push({ type: 'dns', value: bytes.toString('latin1', start, end), oid: null });
      break;
    case 0x81:
      out.push({ type: 'email', value: bytes.toString('latin1', start, end), oid: null });
      break;
    case 0x86:
      out.push({ type: 'uri', value: bytes.toString('latin1', start, end), oid: null });
      break;
    case 0x87:
      out.push({ type: 'ip', value: formatIpAddress(bytes, start, end), oid: null });
      break;
    case 0x88:
      out.push({
        type: 'registeredId',
        value: lookupOid(bytes, start, end)?.oid ?? decodeOid(bytes, start, end),
        oid: null,
      });
      break;
    case 0xa0: {
      const oidEnd = reader.expect(start, end, TAG.OID, 'otherName type-id');
      const typeEntry = lookupOid(bytes, reader.start, oidEnd);
      const oid = typeEntry ? typeEntry.oid : decodeOid(bytes, reader.start, oidEnd);
      const explicitEnd = reader.expect(oidEnd, end, 0xa0, 'otherName value');
      if (explicitEnd !== end) fail('invalid-extension', explicitEnd, 'otherName: data after the value');
      const valueAt = reader.start;
      reader.header(valueAt, explicitEnd, 'otherName value');
      if (reader.end !== explicitEnd) fail('invalid-extension', reader.end, 'otherName: more than one value');
      const valueTag = reader.tag;
      if ((valueTag & 0x20) !== 0) reader.checkWellFormed(reader.start, explicitEnd, 1, 'otherName value');
      let value: string;
      if (valueTag === TAG.UTF8_STRING) value = bytes.toString('utf8', reader.start, reader.end);
      else if (valueTag === 0x16) value = bytes.toString('latin1', reader.start, reader.end);
      else value = `#${reader.upperHex(valueAt, explicitEnd)}`;
      const isUpn = typeEntry === USER_PRINCIPAL_NAME && valueTag === TAG.UTF8_STRING;
      out.push({ type: isUpn ? 'upn' : 'otherName', value, oid });
      break;
    }
    case 0xa4: {
      const nameEnd = reader.expect(start, end, TAG.SEQUENCE, 'directoryName');
      if (nameEnd !== end) fail('invalid-extension', nameEnd, 'directoryName: data after the name');
      out.push({
        type: 'directoryName',
        value: parseName(reader, reader.start, nameEnd, 'directoryName').rfc4514,
        oid: null,
      });
      break;
    }
    case 0xa3:
      reader.checkWellFormed(start, end, 1, 'x400Address');
      out.push({ type: 'x400Address', value: `#${reader.upperHex(pos, end)}`, oid: null });
      break;
    case 0xa5:
      reader.checkWellFormed(start, end, 1, 'ediPartyName');
      out.push({ type: 'ediPartyName', value: `#${reader.upperHex(pos, end)}`, oid: null });
      break;
    default:
      fail('invalid-extension', pos, `GeneralName: tag 0x${tag.toString(16)} is not a GeneralName choice`);
  }
  return end;
}

function readGeneralNames(reader: DerReader, start: number, end: number, out: GeneralName[]): void {
  let pos = start;
  while (pos < end) pos = readGeneralName(reader, pos, end, out);
}

function expectWhole(reader: DerReader, start: number, end: number, tag: number, what: string): number {
  const elementEnd = reader.expect(start, end, tag, what);
  if (elementEnd !== end) fail('invalid-extension', elementEnd, `${what}: data after the value`);
  return reader.start;
}

function readKeyUsage(reader: DerReader, start: number, end: number): KeyUsageName[] {
  const dataStart = reader.bitStringData(
    expectWhole(reader, start, end, TAG.BIT_STRING, 'keyUsage'),
    end,
    'keyUsage',
  );
  const names: KeyUsageName[] = [];
  const bytes = reader.bytes;
  for (let bit = 0; bit < KEY_USAGE_NAMES.length; bit++) {
    const at = dataStart + (bit >> 3);
    if (at < end && ((bytes[at] as number) & (0x80 >> (bit & 7))) !== 0)
      names.push(KEY_USAGE_NAMES[bit] as KeyUsageName);
  }
  return names;
}

function readExtendedKeyUsage(reader: DerReader, start: number, end: number): ExtendedKeyUsage[] {
  const contentEnd = end;
  let pos = expectWhole(reader, start, end, TAG.SEQUENCE, 'extendedKeyUsage');
  const usages: ExtendedKeyUsage[] = [];
  const bytes = reader.bytes;
  while (pos < contentEnd) {
    const oidEnd = reader.expect(pos, contentEnd, TAG.OID, 'extendedKeyUsage purpose');
    const entry = lookupOid(bytes, reader.start, oidEnd);
    const oid = entry ? entry.oid : decodeOid(bytes, reader.start, oidEnd);
    usages.push({ oid, name: entry?.shortName ?? oid });
    pos = oidEnd;
  }
  return usages;
}

function readBasicConstraints(
  reader: DerReader,
  start: number,
  end: number,
  critical: boolean,
): BasicConstraints {
  let pos = expectWhole(reader, start, end, TAG.SEQUENCE, 'basicConstraints');
  let cA = false;
  let pathLen: number | null = null;
  if (pos < end && reader.bytes[pos] === TAG.BOOLEAN) {
    cA = reader.boolean(pos, end, 'basicConstraints cA');
    pos = reader.end;
  }
  if (pos < end) {
    const integerEnd = reader.expect(pos, end, TAG.INTEGER, 'basicConstraints pathLenConstraint');
    reader.checkInteger(reader.start, integerEnd, 'basicConstraints pathLenConstraint');
    pathLen = reader.smallUnsigned(reader.start, integerEnd);
    if (pathLen === null)
      fail('invalid-extension', pos, 'basicConstraints: pathLenConstraint is negative or absurdly large');
    if (integerEnd !== end)
      fail('invalid-extension', integerEnd, 'basicConstraints: data after pathLenConstraint');
  }
  return { present: true, critical, cA, pathLen };
}

function readAuthorityKeyIdentifier(reader: DerReader, start: number, end: number): string | null {
  let pos = expectWhole(reader, start, end, TAG.SEQUENCE, 'authorityKeyIdentifier');
  let keyIdentifier: string | null = null;
  while (pos < end) {
    reader.header(pos, end, 'authorityKeyIdentifier field');
    const fieldEnd = reader.end;
    if (reader.tag === 0x80) keyIdentifier = reader.hex(reader.start, fieldEnd);
    else if (reader.tag === 0xa1) readGeneralNames(reader, reader.start, fieldEnd, []);
    else if (reader.tag !== 0x82)
      fail(
        'invalid-extension',
        pos,
        `authorityKeyIdentifier: unexpected field tag 0x${reader.tag.toString(16)}`,
      );
    pos = fieldEnd;
  }
  return keyIdentifier;
}

function readCrlDistributionPoints(reader: DerReader, start: number, end: number): string[] {
  let pos = expectWhole(reader, start, end, TAG.SEQUENCE, 'cRLDistributionPoints');
  const uris: string[] = [];
  const names: GeneralName[] = [];
  while (pos < end) {
    const pointEnd = reader.expect(pos, end, TAG.SEQUENCE, 'DistributionPoint');
    let fieldPos = reader.start;
    while (fieldPos < pointEnd) {
      reader.header(fieldPos, pointEnd, 'DistributionPoint field');
      const fieldEnd = reader.end;
      if (reader.tag === 0xa0) {
        reader.header(reader.start, fieldEnd, 'distributionPoint name');
        if (reader.end !== fieldEnd)
          fail('invalid-extension', reader.end, 'distributionPoint: data after the name');
        if (reader.tag === 0xa0) readGeneralNames(reader, reader.start, fieldEnd, names);
        else if (reader.tag === 0xa1)
          checkRelativeName(reader, reader.start, fieldEnd, 'nameRelativeToCRLIssuer');
        else
          fail(
            'invalid-extension',
            fieldPos,
            'distributionPoint: neither fullName nor nameRelativeToCRLIssuer',
          );
      } else if (reader.tag === 0xa2) {
        readGeneralNames(reader, reader.start, fieldEnd, []);
      } else if (reader.tag !== 0x81) {
        fail(
          'invalid-extension',
          fieldPos,
          `DistributionPoint: unexpected field tag 0x${reader.tag.toString(16)}`,
        );
      }
      fieldPos = fieldEnd;
    }
    pos = pointEnd;
  }
  for (const name of names) if (name.type === 'uri') uris.push(name.value);
  return uris;
}

function readAuthorityInfoAccess(reader: DerReader, start: number, end: number): AuthorityInformationAccess {
  let pos = expectWhole(reader, start, end, TAG.SEQUENCE, 'authorityInfoAccess');
  const access: AuthorityInformationAccess = { ocsp: [], caIssuers: [] };
  const bytes = reader.bytes;
  const locations: GeneralName[] = [];
  while (pos < end) {
    const descriptionEnd = reader.expect(pos, end, TAG.SEQUENCE, 'AccessDescription');
    const methodEnd = reader.expect(reader.start, descriptionEnd, TAG.OID, 'accessMethod');
    const method = lookupOid(bytes, reader.start, methodEnd);
    if (!method) decodeOid(bytes, reader.start, methodEnd);
    locations.length = 0;
    if (readGeneralName(reader, methodEnd, descriptionEnd, locations) !== descriptionEnd) {
      fail('invalid-extension', methodEnd, 'AccessDescription: data after the location');
    }
    const location = locations[0];
    if (location?.type === 'uri') {
      if (method === OCSP) access.ocsp.push(location.value);
      else if (method === CA_ISSUERS) access.caIssuers.push(location.value);
    }
    pos = descriptionEnd;
  }
  return access;
}

function readCertificatePolicies(reader: DerReader, start: number, end: number): string[] {
  let pos = expectWhole(reader, start, end, TAG.SEQUENCE, 'certificatePolicies');
  const policies: string[] = [];
  const bytes = reader.bytes;
  while (pos < end) {
    const informationEnd = reader.expect(pos, end, TAG.SEQUENCE, 'PolicyInformation');
    const oidEnd = reader.expect(reader.start, informationEnd, TAG.OID, 'policyIdentifier');
    policies.push(lookupOid(bytes, reader.start, oidEnd)?.oid ?? decodeOid(bytes, reader.start, oidEnd));
    if (oidEnd < informationEnd) {
      const qualifiersEnd = reader.expect(oidEnd, informationEnd, TAG.SEQUENCE, 'policyQualifiers');
      if (qualifiersEnd !== informationEnd)
        fail('invalid-extension', qualifiersEnd, 'PolicyInformation: data after the qualifiers');
      reader.checkWellFormed(reader.start, qualifiersEnd, 1, 'policyQualifiers');
    }
    pos = informationEnd;
  }
  return policies;
}

/** Reads the Extensions SEQUENCE content [start, end) (inside the [3] wrapper) into `fields`. */
export function readExtensions(reader: DerReader, start: number, end: number, fields: ExtensionFields): void {
  const bytes = reader.bytes;
  let pos = start;
  while (pos < end) {
    const extensionEnd = reader.expect(pos, end, TAG.SEQUENCE, 'Extension');
    const oidEnd = reader.expect(reader.start, extensionEnd, TAG.OID, 'extnID');
    const oidStart = reader.start;
    const entry = lookupOid(bytes, oidStart, oidEnd);
    const oid = entry ? entry.oid : decodeOid(bytes, oidStart, oidEnd);
    let valuePos = oidEnd;
    let critical = false;
    if (valuePos < extensionEnd && bytes[valuePos] === TAG.BOOLEAN) {
      critical = reader.boolean(valuePos, extensionEnd, 'Extension critical');
      valuePos = reader.end;
    }
    const valueEnd = reader.expect(valuePos, extensionEnd, TAG.OCTET_STRING, 'extnValue');
    if (valueEnd !== extensionEnd)
      fail('invalid-extension', valueEnd, `extension ${oid}: data after extnValue`);
    const valueStart = reader.start;
    const name = entry ? entry.shortName : null;
    fields.extensions.push({ oid, name, critical });
    if (entry) {
      try {
        readKnownExtension(reader, entry, valueStart, valueEnd, critical, fields);
      } catch (error) {
        throw relabel(error, 'invalid-extension', `${name ?? oid} extension`);
      }
    }
    pos = extensionEnd;
  }
}

function readKnownExtension(
  reader: DerReader,
  entry: NonNullable<ReturnType<typeof lookupOid>>,
  start: number,
  end: number,
  critical: boolean,
  fields: ExtensionFields,
): void {
  // The first occurrence wins; duplicates stay visible in `extensions`.
  switch (entry) {
    case SUBJECT_ALT_NAME:
      if (fields.subjectAltNames === null) {
        const names: GeneralName[] = [];
        readGeneralNames(reader, expectWhole(reader, start, end, TAG.SEQUENCE, 'subjectAltName'), end, names);
        fields.subjectAltNames = names;
      }
      break;
    case KEY_USAGE:
      if (fields.keyUsage === null) fields.keyUsage = readKeyUsage(reader, start, end);
      break;
    case EXTENDED_KEY_USAGE:
      if (fields.extendedKeyUsage === null)
        fields.extendedKeyUsage = readExtendedKeyUsage(reader, start, end);
      break;
    case BASIC_CONSTRAINTS:
      if (!fields.basicConstraints.present)
        fields.basicConstraints = readBasicConstraints(reader, start, end, critical);
      break;
    case SUBJECT_KEY_IDENTIFIER:
      if (fields.subjectKeyIdentifier === null) {
        fields.subjectKeyIdentifier = reader.hex(
          expectWhole(reader, start, end, TAG.OCTET_STRING, 'subjectKeyIdentifier'),
          end,
        );
      }
      break;
    case AUTHORITY_KEY_IDENTIFIER:
      if (fields.authorityKeyIdentifier === null)
        fields.authorityKeyIdentifier = readAuthorityKeyIdentifier(reader, start, end);
      break;
    case CRL_DISTRIBUTION_POINTS:
      if (fields.crlDistributionPoints === null)
        fields.crlDistributionPoints = readCrlDistributionPoints(reader, start, end);
      break;
    case AUTHORITY_INFO_ACCESS:
      if (fields.authorityInfoAccess === null)
        fields.authorityInfoAccess = readAuthorityInfoAccess(reader, start, end);
      break;
    case CERTIFICATE_POLICIES:
      if (fields.certificatePolicies === null)
        fields.certificatePolicies = readCertificatePolicies(reader, start, end);
      break;
    default:
      break;
  }
}
