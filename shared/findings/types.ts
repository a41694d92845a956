// The finding document: what the sensor says about one certificate (shape of AgileSec v3.5 at the top, our sub-fields).
import type {
  ExtendedKeyUsage,
  ExtensionInfo,
  GeneralNameType,
  HashName,
  KeyFamily,
  KeyUsageName,
  NameAttribute,
} from '#shared/x509/index';
import type { CertificateParseErrorReason } from '#shared/x509/index';

/** Bumped when a field changes meaning or is removed (major) or when fields are added (minor). */
export const FINDING_DOCUMENT_VERSION = '1.1.0';

/** AgileSec's sensor type for this sensor; the seed config says "Do not edit this value". */
export const SENSOR_TYPE = 'Keyfactor Command';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** 'none' when no rule fired. */
export type HighestSeverity = Severity | 'none';

export interface Label {
  name: string;
  value: string;
}

export interface FindingObject {
  type: 'certificate';
  /** The subject CN, else the first subjectAltName, else the subject DN, else Command's IssuedCN, else the id. */
  name: string;
}

export interface SensorInfo {
  name: string;
  type: typeof SENSOR_TYPE;
  version: string;
  ran_by: string;
}

export interface SourceInfo {
  /** 'keyfactor-command': read through Command's API; 'file': read from a file (`kfsensor inspect`). */
  type: 'keyfactor-command' | 'file';
  /** Command's API URL, or the file's URL; null when the caller gave none. */
  url: string | null;
  /** Command's certificate Id; null for files. */
  certificate_id: number | null;
}

export interface FindingObservation {
  sensor: SensorInfo;
  source: SourceInfo;
  /** Only for findings made from a file. */
  file?: { path: string };
}

export interface DistinguishedNameSection {
  /** RFC 4514 string, most specific RDN first (as `openssl x509 -nameopt RFC2253` prints it). */
  dn: string;
  /** Attributes in DER order, `rdn` grouping multi-valued RDNs. */
  attributes: NameAttribute[];
}

export interface PublicKeySection {
  algorithm: KeyFamily;
  algorithm_oid: string;
  algorithm_name: string;
  key_size_bits: number | null;
  curve: string | null;
  curve_oid: string | null;
  /** A number, or lowercase hex when larger than 2^48. */
  rsa_exponent: number | string | null;
  parameter_set: string | null;
  /** SHA-256 of the DER SubjectPublicKeyInfo: finds the same key in different certificates. Not key material. */
  spki_sha256: string;
}

export interface SignatureSection {
  algorithm_oid: string;
  algorithm_name: string;
  hash: HashName;
  algorithm: KeyFamily;
  pss: { hash: HashName; mask_gen_hash: HashName; salt_length: number } | null;
  /** False when TBSCertificate.signature differs from the outer signatureAlgorithm. */
  matches_tbs_signature: boolean;
}

export interface OtherGeneralName {
  type: GeneralNameType;
  value: string;
  oid: string | null;
}

export interface SubjectAltNamesSection {
  dns: string[];
  ip: string[];
  email: string[];
  uri: string[];
  upn: string[];
  /** otherName (other than UPN), directoryName, registeredId, x400Address, ediPartyName. */
  other: OtherGeneralName[];
}

/** What the certificate itself says. Present exactly when analysis.status is 'analysed'. */
export interface X509CertificateFields {
  version: 1 | 2 | 3;
  /** Lowercase hex of the INTEGER content octets as encoded (a leading 00 sign octet included). */
  serial_number: string;
  serial_number_negative: boolean;
  serial_number_octets: number;
  subject: DistinguishedNameSection;
  issuer: DistinguishedNameSection;
  common_name: string | null;
  /** ISO 8601 UTC, second precision. */
  not_before: string;
  not_after: string;
  fingerprints: { sha1: string; sha256: string };
  size_bytes: number;
  public_key: PublicKeySection;
  signature: SignatureSection;
  extensions: ExtensionInfo[];
  /** Null when the certificate has no subjectAltName extension. */
  subject_alt_names: SubjectAltNamesSection | null;
  key_usage: KeyUsageName[] | null;
  extended_key_usage: ExtendedKeyUsage[] | null;
  basic_constraints: { present: boolean; critical: boolean; ca: boolean; path_len: number | null };
  subject_key_identifier: string | null;
  authority_key_identifier: string | null;
  crl_distribution_points: string[] | null;
  authority_info_access: { ocsp: string[]; ca_issuers: string[] } | null;
  certificate_policies: string[] | null;
  self_issued: boolean;
  /** Self-issued and the signature verifies with the certificate's own key. */
  self_signed: boolean;
}

export interface CodeAndName {
  code: number;
  name: string;
}

export interface StoreLocationSection {
  store_machine: string | null;
  store_path: string | null;
  store_type: number | null;
  alias: string | null;
  chain_level: number | null;
  cert_store_id: string | null;
}

export interface SslLocationSection {
  store_path: string | null;
  agent_pool: string | null;
  ip_address: string | null;
  port: number | null;
  network_name: string | null;
}

/** What Keyfactor Command says about the certificate, as Command reports it (dates unparsed). */
export interface KeyfactorSection {
  certificate_id: number;
  thumbprint: string | null;
  serial_number: string | null;
  issued_dn: string | null;
  issued_cn: string | null;
  issuer_dn: string | null;
  not_before: string | null;
  not_after: string | null;
  import_date: string | null;
  cert_state: CodeAndName;
  key_type: CodeAndName | null;
  key_size_bits: number | null;
  signing_algorithm: string | null;
  revocation_date: string | null;
  revocation_reason: CodeAndName | null;
  revocation_comment: string | null;
  template_name: string | null;
  certificate_authority_name: string | null;
  requester_name: string | null;
  /** `CertRequestId`: Command's certificate request; null when Command has none (CA-synced or imported). */
  cert_request_id: number | null;
  has_private_key: boolean | null;
  locations: StoreLocationSection[];
  ssl_locations: SslLocationSection[];
  metadata: Record<string, string | null>;
}

export interface X509Section extends Partial<X509CertificateFields> {
  /** Null for findings made from a file. */
  keyfactor: KeyfactorSection | null;
}

export type PqcReadiness = 'vulnerable' | 'transitional' | 'quantum-safe';

export interface PqcAssessment {
  readiness: PqcReadiness;
  /** CycloneDX nistQuantumSecurityLevel: NIST PQC security category 1-5, 0 when none is met (classical keys). */
  nist_quantum_security_level: number;
  /** CycloneDX classicalSecurityLevel: bits of security against classical attacks; null when the size is unknown. */
  classical_security_level: number | null;
}

export interface RuleResult {
  id: string;
  severity: Severity;
  title: string;
  message: string;
  remediation: string;
}

export interface ParseErrorSection {
  reason: CertificateParseErrorReason;
  message: string;
  /** Byte offset into the DER, or character offset into ContentBytes; null when the problem is global. */
  offset: number | null;
}

export interface FindingAnalysis {
  status: 'analysed' | 'parse-error';
  /** Present exactly when status is 'parse-error'. */
  parse_error?: ParseErrorSection;
  highest_severity: HighestSeverity;
  /** About the subject public key; null when the certificate did not parse or its key algorithm is unknown. */
  pqc: PqcAssessment | null;
  rules: RuleResult[];
}

export interface Finding {
  /** When the analysis ran (AnalysisContext.now). */
  '@timestamp': string;
  /** Set by the scan layer from its store: when this finding id was first seen. */
  first_found?: string;
  version: typeof FINDING_DOCUMENT_VERSION;
  /** SHA-256 hex of the certificate DER (see docs/findings.md for undecodable content). */
  id: string;
  object: FindingObject;
  observation: FindingObservation;
  crypto: { x509: X509Section };
  analysis: FindingAnalysis;
  labels: readonly Label[];
  custom: Record<string, unknown>;
}
