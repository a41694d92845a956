// Public API of the certificate reader: DER in, plain finding-ready data out, CertificateParseError for anything malformed.
export { MAX_CERTIFICATE_BYTES, parseCertificate, tryParseCertificate } from './certificate';
export { MAX_NESTING_DEPTH } from './der';
export { CERTIFICATE_PARSE_ERROR_REASONS, CertificateParseError } from './errors';
export type { CertificateParseErrorReason } from './errors';
export { decodeBase64Der, pemToDers } from './pem';
export type { Base64DecodeResult } from './pem';
export type {
  AuthorityInformationAccess,
  BasicConstraints,
  DistinguishedName,
  ExtendedKeyUsage,
  ExtensionInfo,
  GeneralName,
  GeneralNameType,
  HashName,
  KeyFamily,
  KeyUsageName,
  NameAttribute,
  ParseResult,
  ParsedCertificate,
  PssParameters,
  PublicKeyInfo,
  SelfSignatureCheck,
  SignatureAlgorithmInfo,
} from './types';
