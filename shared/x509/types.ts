// What the certificate reader hands the findings engine: plain, JSON-serialisable data, with null for "absent".
import type { CertificateParseError } from './errors';

export type KeyFamily =
  | 'RSA'
  | 'EC'
  | 'Ed25519'
  | 'Ed448'
  | 'X25519'
  | 'X448'
  | 'DSA'
  | 'DH'
  | 'ML-DSA'
  | 'SLH-DSA'
  | 'ML-KEM'
  | 'composite'
  | 'unknown';

export type HashName =
  | 'MD2'
  | 'MD4'
  | 'MD5'
  | 'SHA-1'
  | 'SHA-224'
  | 'SHA-256'
  | 'SHA-384'
  | 'SHA-512'
  | 'SHA-512/224'
  | 'SHA-512/256'
  | 'SHA3-224'
  | 'SHA3-256'
  | 'SHA3-384'
  | 'SHA3-512'
  | 'SHAKE128'
  | 'SHAKE256'
  | 'RIPEMD-160'
  | 'SM3'
  /** The algorithm signs the message itself (EdDSA, pure ML-DSA, pure SLH-DSA). */
  | 'none'
  | 'unknown';

export interface NameAttribute {
  /** OpenSSL's short name (CN, O, emailAddress, jurisdictionC...) or the dotted OID when OpenSSL has none. */
  type: string;
  oid: string;
  /** Decoded text for string types (TeletexString read as Latin-1); "#" + DER hex for anything else. */
  value: string;
  /** Index of the RDN (in DER order) holding this attribute; equal indexes mean a multi-valued RDN. */
  rdn: number;
}

export interface DistinguishedName {
  /** RFC 4514 string exactly as `openssl x509 -nameopt RFC2253` prints it (last RDN first). */
  rfc4514: string;
  /** Attributes in DER order (first RDN first). */
  attributes: NameAttribute[];
}

export interface PublicKeyInfo {
  family: KeyFamily;
  algorithmOid: string;
  /** OpenSSL's long name for the algorithm (rsaEncryption, id-ecPublicKey, ED25519...), else the standard's name or OID. */
  algorithmName: string;
  /**
   * RSA: modulus bits; EC: group order bits (521 for P-521); DSA/DH: bits of p; Ed25519 256; Ed448 456;
   * ML-DSA, SLH-DSA, ML-KEM: public key length in bits for the parameter set; composite: encoded key length in bits.
   * Null when the size cannot be known (DSA with inherited parameters, unknown algorithms or curves).
   */
  keySizeBits: number | null;
  /** EC only: P-256, P-384, P-521, secp256k1, brainpoolP256r1...; "explicit" for specified curves; null otherwise. */
  curve: string | null;
  curveOid: string | null;
  /** RSA only: the public exponent, as a number, or as hex when larger than 2^48. */
  rsaExponent: number | string | null;
  /** ML-DSA-44, SLH-DSA-SHA2-128s, ML-KEM-768, composite algorithm names...; null for classical algorithms. */
  parameterSet: string | null;
  /** SHA-256 of the DER SubjectPublicKeyInfo: the same key in different certificates has the same value. */
  spkiSha256: string;
}

export interface PssParameters {
  hash: HashName;
  maskGenHash: HashName;
  saltLength: number;
}

export interface SignatureAlgorithmInfo {
  oid: string;
  /** As OpenSSL names it (sha256WithRSAEncryption, ecdsa-with-SHA384, rsassaPss, ED25519...), else the OID. */
  name: string;
  hash: HashName;
  family: KeyFamily;
  /** RSASSA-PSS only. */
  pss: PssParameters | null;
}

export type GeneralNameType =
  | 'dns'
  | 'email'
  | 'uri'
  | 'ip'
  | 'upn'
  | 'otherName'
  | 'directoryName'
  | 'registeredId'
  | 'x400Address'
  | 'ediPartyName';

export interface GeneralName {
  type: GeneralNameType;
  /**
   * dns/email/uri: the IA5String (Latin-1); ip: dotted IPv4 or OpenSSL's uncompressed uppercase IPv6
   * ("2001:DB8:0:0:0:0:0:1"), "<invalid length=N>" otherwise; upn and otherName: the string when the value is a
   * UTF8String or IA5String, else "#" + DER hex; directoryName: RFC 4514; registeredId: dotted OID;
   * x400Address/ediPartyName: "#" + DER hex.
   */
  value: string;
  /** otherName and upn: the type-id OID. */
  oid: string | null;
}

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

export interface ExtensionInfo {
  oid: string;
  /** OpenSSL's short name (subjectAltName, keyUsage, ct_precert_scts...), null when OpenSSL does not know it. */
  name: string | null;
  critical: boolean;
}

export interface ExtendedKeyUsage {
  oid: string;
  /** OpenSSL's short name (serverAuth, clientAuth, msSmartcardLogin...) or the OID. */
  name: string;
}

export interface BasicConstraints {
  present: boolean;
  critical: boolean;
  cA: boolean;
  pathLen: number | null;
}

export interface AuthorityInformationAccess {
  ocsp: string[];
  caIssuers: string[];
}

export type SelfSignatureCheck = 'not-self-issued' | 'verified' | 'failed' | 'unsupported';

export interface ParsedCertificate {
  version: 1 | 2 | 3;
  /** Lowercase hex of the INTEGER content bytes as encoded (a leading 00 sign byte included). */
  serialNumber: string;
  serialNumberNegative: boolean;
  /** Content octets, as encoded: RFC 5280 allows at most 20. */
  serialNumberLength: number;
  subject: DistinguishedName;
  issuer: DistinguishedName;
  /** The last CN of the subject in DER order (the most specific), null when there is none. */
  commonName: string | null;
  /** ISO 8601 UTC, second precision: "2025-01-31T23:59:59Z". */
  notBefore: string;
  notAfter: string;
  /** Lowercase hex digests of the whole DER. */
  sha1: string;
  sha256: string;
  derLength: number;
  publicKey: PublicKeyInfo;
  /** The outer signatureAlgorithm (the one the signature was made with). */
  signatureAlgorithm: SignatureAlgorithmInfo;
  /** False when TBSCertificate.signature differs from the outer signatureAlgorithm (RFC 5280 requires equality). */
  signatureAlgorithmsMatch: boolean;
  /** Every extension in order, duplicates included. */
  extensions: ExtensionInfo[];
  subjectAltNames: GeneralName[] | null;
  keyUsage: KeyUsageName[] | null;
  extendedKeyUsage: ExtendedKeyUsage[] | null;
  basicConstraints: BasicConstraints;
  subjectKeyIdentifier: string | null;
  /** keyIdentifier of the AuthorityKeyIdentifier extension, lowercase hex. */
  authorityKeyIdentifier: string | null;
  /** fullName URIs of every distribution point. */
  crlDistributionPoints: string[] | null;
  authorityInfoAccess: AuthorityInformationAccess | null;
  /** Policy OIDs in order. */
  certificatePolicies: string[] | null;
  /** Subject and issuer are the same DER bytes. */
  selfIssued: boolean;
  /**
   * Self-issued and the signature verifies with the certificate's own key (computed on first read, through
   * node:crypto; see selfSignatureCheck). When the key algorithm cannot be verified here, a self-issued certificate
   * counts as self-signed unless its authority key identifier names a different key.
   */
  readonly selfSigned: boolean;
  readonly selfSignatureCheck: SelfSignatureCheck;
}

export type ParseResult =
  { ok: true; certificate: ParsedCertificate } | { ok: false; error: CertificateParseError };
