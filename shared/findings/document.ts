// Maps the parsed certificate and Command's certificate object onto the finding's snake_case sections.
// The reader's arrays and small objects whose shape already matches (name attributes, extensions, EKUs, key usage,
// URLs, policies) are referenced, not copied: each parse makes fresh ones, and a million findings must stay cheap.
import type { CommandCertificate, SslLocation, StoreLocation } from '#shared/keyfactor/model';
import { CERT_STATE_NAMES, KEY_TYPE_NAMES } from '#shared/keyfactor/model';
import type { GeneralName, ParsedCertificate } from '#shared/x509/index';
import { revocationReason } from './rules/revocation';
import type {
  CodeAndName,
  KeyfactorSection,
  SslLocationSection,
  StoreLocationSection,
  SubjectAltNamesSection,
  X509CertificateFields,
  X509Section,
} from './types';

function groupAltNames(names: readonly GeneralName[]): SubjectAltNamesSection {
  const section: SubjectAltNamesSection = { dns: [], ip: [], email: [], uri: [], upn: [], other: [] };
  for (const name of names) {
    switch (name.type) {
      case 'dns':
      case 'ip':
      case 'email':
      case 'uri':
      case 'upn':
        section[name.type].push(name.value);
        break;
      default:
        section.other.push(name);
    }
  }
  return section;
}

/** The certificate's own fields, with Command's section (null for files) last, as one object: no spread copies. */
export function x509Section(
  certificate: ParsedCertificate,
  keyfactor: KeyfactorSection | null,
): X509CertificateFields & X509Section {
  const key = certificate.publicKey;
  const signature = certificate.signatureAlgorithm;
  const pss = signature.pss;
  const constraints = certificate.basicConstraints;
  const access = certificate.authorityInfoAccess;
  const altNames = certificate.subjectAltNames;
  return {
    version: certificate.version,
    serial_number: certificate.serialNumber,
    serial_number_negative: certificate.serialNumberNegative,
    serial_number_octets: certificate.serialNumberLength,
    subject: { dn: certificate.subject.rfc4514, attributes: certificate.subject.attributes },
    issuer: { dn: certificate.issuer.rfc4514, attributes: certificate.issuer.attributes },
    common_name: certificate.commonName,
    not_before: certificate.notBefore,
    not_after: certificate.notAfter,
    fingerprints: { sha1: certificate.sha1, sha256: certificate.sha256 },
    size_bytes: certificate.derLength,
    public_key: {
      algorithm: key.family,
      algorithm_oid: key.algorithmOid,
      algorithm_name: key.algorithmName,
      key_size_bits: key.keySizeBits,
      curve: key.curve,
      curve_oid: key.curveOid,
      rsa_exponent: key.rsaExponent,
      parameter_set: key.parameterSet,
      spki_sha256: key.spkiSha256,
    },
    signature: {
      algorithm_oid: signature.oid,
      algorithm_name: signature.name,
      hash: signature.hash,
      algorithm: signature.family,
      pss:
        pss === null ? null : { hash: pss.hash, mask_gen_hash: pss.maskGenHash, salt_length: pss.saltLength },
      matches_tbs_signature: certificate.signatureAlgorithmsMatch,
    },
    extensions: certificate.extensions,
    subject_alt_names: altNames === null ? null : groupAltNames(altNames),
    key_usage: certificate.keyUsage,
    extended_key_usage: certificate.extendedKeyUsage,
    basic_constraints: {
      present: constraints.present,
      critical: constraints.critical,
      ca: constraints.cA,
      path_len: constraints.pathLen,
    },
    subject_key_identifier: certificate.subjectKeyIdentifier,
    authority_key_identifier: certificate.authorityKeyIdentifier,
    crl_distribution_points: certificate.crlDistributionPoints,
    authority_info_access: access === null ? null : { ocsp: access.ocsp, ca_issuers: access.caIssuers },
    certificate_policies: certificate.certificatePolicies,
    self_issued: certificate.selfIssued,
    // Reading selfSigned verifies the signature: only worth it (and only meaningful) for self-issued certificates.
    self_signed: certificate.selfIssued && certificate.selfSigned,
    keyfactor,
  };
}

// Command's object has passed the client's schema, but a field of the wrong type must not leak into a finding.
function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function integer(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

function flag(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

function codeAndName(code: number, names: Readonly<Record<number, string>>, unknown: string): CodeAndName {
  return { code, name: names[code] ?? `${unknown} ${code}` };
}

function storeLocation(location: StoreLocation): StoreLocationSection {
  return {
    store_machine: text(location.StoreMachine),
    store_path: text(location.StorePath),
    store_type: integer(location.StoreType),
    alias: text(location.Alias),
    chain_level: integer(location.ChainLevel),
    cert_store_id: text(location.CertStoreId),
  };
}

function sslLocation(location: SslLocation): SslLocationSection {
  return {
    store_path: text(location.StorePath),
    agent_pool: text(location.AgentPool),
    ip_address: text(location.IPAddress),
    port: integer(location.Port),
    network_name: text(location.NetworkName),
  };
}

function isStringRecord(value: unknown): value is Record<string, string | null> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Frozen: it is shared by every finding whose certificate has no metadata.
const NO_METADATA: Record<string, string | null> = Object.freeze({});

export function keyfactorSection(command: CommandCertificate): KeyfactorSection {
  const state = integer(command.CertState) ?? 0;
  const keyType = integer(command.KeyType);
  const locations = Array.isArray(command.Locations) ? command.Locations.map(storeLocation) : [];
  const sslLocations = Array.isArray(command.SSLLocations) ? command.SSLLocations.map(sslLocation) : [];
  return {
    certificate_id: integer(command.Id) ?? -1,
    thumbprint: text(command.Thumbprint),
    serial_number: text(command.SerialNumber),
    issued_dn: text(command.IssuedDN),
    issued_cn: text(command.IssuedCN),
    issuer_dn: text(command.IssuerDN),
    not_before: text(command.NotBefore),
    not_after: text(command.NotAfter),
    import_date: text(command.ImportDate),
    cert_state: codeAndName(state, CERT_STATE_NAMES, 'state'),
    key_type: keyType === null ? null : codeAndName(keyType, KEY_TYPE_NAMES, 'key type'),
    key_size_bits: integer(command.KeySizeInBits),
    signing_algorithm: text(command.SigningAlgorithm),
    revocation_date: text(command.RevocationEffDate),
    revocation_reason: revocationReason(integer(command.RevocationReason)),
    revocation_comment: text(command.RevocationComment),
    template_name: text(command.TemplateName),
    certificate_authority_name: text(command.CertificateAuthorityName),
    requester_name: text(command.RequesterName),
    cert_request_id: integer(command.CertRequestId),
    has_private_key: flag(command.HasPrivateKey),
    locations,
    ssl_locations: sslLocations,
    // Referenced, not copied: the finding is serialised, never mutated, and metadata can be large.
    metadata: isStringRecord(command.Metadata) ? command.Metadata : NO_METADATA,
  };
}

/** Where Command found the certificate deployed: store locations plus SSL discovery endpoints. */
export function deployedCount(command: CommandCertificate): number {
  const stores = Array.isArray(command.Locations) ? command.Locations.length : 0;
  const endpoints = Array.isArray(command.SSLLocations) ? command.SSLLocations.length : 0;
  return stores + endpoints;
}
