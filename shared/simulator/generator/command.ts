// Turns a built certificate plus its inventory facts into the object Command's certificate endpoints return,
// every attribute derived from the DER facts so that the two can never disagree.
import { createHash } from 'node:crypto';
import { CERT_STATE_NAMES, KEY_TYPE_NAMES, SanType } from '#shared/keyfactor/model';
import type { CommandCertificate, SubjectAltNameElement } from '#shared/keyfactor/model';
import { PUBLIC_KEY_ALGORITHM_OIDS } from './algorithms';
import { EKU_BY_OID } from './catalog';
import type { GeneralName, KeyUsageName } from './extensions';
import type { CertificateFacts } from './hierarchy';
import type { InventoryFacts } from './leaf';
import { firstValue, formatName } from './names';

export interface CommandFormat {
  /** Separator between RDNs in IssuedDN / IssuerDN. */
  dnSeparator: string;
  /** CRL URL → Command's CRLDistributionPoints[].Id. */
  crlRowIds: ReadonlyMap<string, number>;
}

/** .NET X509KeyUsageFlags values, which Command reports as KeyUsage (25.4.1 shows 160 for digitalSignature|keyEncipherment). */
const KEY_USAGE_FLAGS: Record<KeyUsageName, number> = {
  digitalSignature: 0x80,
  nonRepudiation: 0x40,
  keyEncipherment: 0x20,
  dataEncipherment: 0x10,
  keyAgreement: 0x08,
  keyCertSign: 0x04,
  cRLSign: 0x02,
  encipherOnly: 0x01,
  decipherOnly: 0x8000,
};

const SAN_TYPES: Record<GeneralName['type'], number> = {
  dns: SanType.DNS,
  email: SanType.Email,
  uri: SanType.URI,
  ip: SanType.IPAddress,
  upn: SanType.UPN,
};

/** Command's value hashes (SAN ValueHash, CRL UrlHash): MD5 of the UTF-16LE text, uppercase hex (checked on 25.4.1 data). */
export function commandValueHash(value: string): string {
  return createHash('md5').update(value, 'utf16le').digest('hex').toUpperCase();
}

/** Row ids for de-duplicated values (SAN values, unknown CRL URLs): stable per value, positive int32. */
function valueRowId(value: string, type: number): number {
  return createHash('md5').update(`${type}:${value}`).digest().readUInt32BE(0) & 0x7fffffff;
}

/** `YYYY-MM-DDTHH:MM:SSZ`: Command's NotBefore / NotAfter form (whole seconds, UTC). */
export function commandSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ`: Command's ImportDate form. */
export function commandMilliseconds(date: Date): string {
  return date.toISOString();
}

export function certStateString(state: number): string {
  return `${CERT_STATE_NAMES[state] ?? 'Unknown'} (${state})`;
}

function keyUsageValue(usages: readonly KeyUsageName[] | null): number {
  let value = 0;
  for (const usage of usages ?? []) value |= KEY_USAGE_FLAGS[usage];
  return value;
}

function detailedKeyUsage(
  usages: readonly KeyUsageName[] | null,
  value: number,
): CommandCertificate['DetailedKeyUsage'] {
  const has = (usage: KeyUsageName): boolean => usages?.includes(usage) ?? false;
  return {
    CrlSign: has('cRLSign'),
    DataEncipherment: has('dataEncipherment'),
    DecipherOnly: has('decipherOnly'),
    DigitalSignature: has('digitalSignature'),
    EncipherOnly: has('encipherOnly'),
    KeyAgreement: has('keyAgreement'),
    KeyCertSign: has('keyCertSign'),
    KeyEncipherment: has('keyEncipherment'),
    NonRepudiation: has('nonRepudiation'),
    // 25.4.1 shows "a0" for 160: lowercase hex of the flags, at least two digits.
    HexCode: value.toString(16).padStart(2, '0'),
  };
}

function subjectAltNameElements(names: readonly GeneralName[]): SubjectAltNameElement[] {
  return names.map((name) => {
    const type = SAN_TYPES[name.type];
    return {
      Id: valueRowId(name.value, type),
      Value: name.value,
      Type: type,
      ValueHash: commandValueHash(name.value),
    };
  });
}

function locationsCount(
  inventory: InventoryFacts,
  storeTypeNames: ReadonlyMap<number, string>,
): { Type: string; Count: number }[] {
  const counts = new Map<string, number>();
  for (const location of inventory.locations) {
    const type = storeTypeNames.get(location.StoreType ?? -1) ?? 'Unknown';
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return [...counts].map(([Type, Count]) => ({ Type, Count }));
}

/**
 * Field order follows a Command 25.4.1 response, and the set is the union of that response and the v10 OpenAPI
 * model (CertificateKeyId), so the object looks like what the list endpoint returns.
 */
export function toCommandCertificate(
  facts: CertificateFacts,
  inventory: InventoryFacts,
  thumbprint: string,
  format: CommandFormat,
  storeTypeNames: ReadonlyMap<number, string>,
): CommandCertificate {
  const keyUsage = keyUsageValue(facts.keyUsages);
  const serialNumber = facts.serial.toString('hex').toUpperCase();
  const authority = inventory.authority;
  const request = inventory.request;
  return {
    IsCACertificate: facts.isCa,
    PathLengthConstraint: facts.pathLength,
    Id: inventory.id,
    Thumbprint: thumbprint,
    SerialNumber: serialNumber,
    IssuedDN: formatName(facts.subject, format.dnSeparator),
    IssuedCN: firstValue(facts.subject, 'CN'),
    ImportDate: commandMilliseconds(inventory.importDate),
    NotBefore: commandSeconds(facts.notBefore),
    NotAfter: commandSeconds(facts.notAfter),
    IssuerDN: formatName(facts.issuer, format.dnSeparator),
    // go-client v3 declares PrincipalId a string, so a number would break it; real responses carry null.
    PrincipalId: null,
    OwnerRoleId: inventory.ownerRole?.id ?? null,
    OwnerRoleName: inventory.ownerRole?.name ?? null,
    TemplateId: request?.template.id ?? null,
    CertState: inventory.certState,
    KeySizeInBits: facts.key.sizeInBits,
    KeyType: facts.key.commandKeyType,
    KeyAlgorithm: PUBLIC_KEY_ALGORITHM_OIDS[facts.key.family],
    AltKeyAlgorithm: null,
    AltKeySizeInBits: 0,
    AltKeyType: null,
    RequesterId: request?.requester.id ?? null,
    IssuedOU: firstValue(facts.subject, 'OU'),
    IssuedEmail: firstValue(facts.subject, 'E'),
    KeyUsage: keyUsage,
    SigningAlgorithm: facts.signature.kind,
    AltSigningAlgorithm: null,
    CertStateString: certStateString(inventory.certState),
    KeyTypeString: KEY_TYPE_NAMES[facts.key.commandKeyType] ?? 'Unknown',
    AltKeyTypeString: null,
    RevocationEffDate: inventory.revocation ? commandSeconds(inventory.revocation.date) : null,
    RevocationReason: inventory.revocation?.reason ?? null,
    RevocationComment: inventory.revocation?.comment ?? null,
    CertificateAuthorityId: authority?.commandId ?? null,
    CertificateAuthorityName: authority?.commandName ?? null,
    TemplateName: request?.template.name ?? null,
    ArchivedKey: inventory.archivedKey,
    HasPrivateKey: inventory.hasPrivateKey,
    HasAltPrivateKey: false,
    PrincipalName: inventory.principalName,
    CertRequestId: request?.requestId ?? null,
    RequesterName: request?.requester.name ?? null,
    ContentBytes: facts.der.toString('base64'),
    ExtendedKeyUsages: facts.extendedKeyUsages.map((oid) => {
      const entry = EKU_BY_OID.get(oid);
      return { Id: entry?.id ?? valueRowId(oid, -1), Oid: oid, DisplayName: entry?.displayName ?? oid };
    }),
    SubjectAltNameElements: subjectAltNameElements(facts.subjectAltNames),
    CRLDistributionPoints: facts.crlUrls.map((url) => ({
      Id: format.crlRowIds.get(url) ?? valueRowId(url, -2),
      Url: url,
      UrlHash: commandValueHash(url),
    })),
    LocationsCount: locationsCount(inventory, storeTypeNames),
    SSLLocations: inventory.sslLocations,
    Locations: inventory.locations,
    Metadata: inventory.metadata,
    CertificateKeyId: facts.key.keyId,
    CARowIndex: null,
    // 25.4.1 sets CARecordId to the serial for CA-synced certificates.
    CARecordId: authority ? serialNumber : null,
    DetailedKeyUsage: detailedKeyUsage(facts.keyUsages, keyUsage),
    KeyRecoverable: inventory.archivedKey,
    Curve: facts.key.curve?.oid ?? null,
  };
}
