// Assembles and signs an X.509 v3 certificate (RFC 5280 §4.1) from pre-encoded parts.
import type { SignatureAlgorithm } from './algorithms';
import { bitString, explicit, integerContent, sequence, smallInteger, time, tlv, Tag } from './der';
import type { KeyMaterial } from './keys';

export interface CertificateParts {
  /** Serial magnitude (big-endian, unsigned); DER adds a 00 octet when the top bit is set. */
  serial: Buffer;
  signature: SignatureAlgorithm;
  /** DER Name of the issuer; pre-encoded once per CA. */
  issuer: Buffer;
  notBefore: Date;
  notAfter: Date;
  subject: Buffer;
  subjectPublicKeyInfo: Buffer;
  /** DER Extension elements, in the order they should appear. */
  extensions: readonly Buffer[];
  signer: KeyMaterial;
}

const VERSION_3 = explicit(0, smallInteger(2));

/** The serial exactly as DER carries it (content octets of the INTEGER). */
export function serialContent(serial: Buffer): Buffer {
  return integerContent(serial);
}

export function buildCertificate(parts: CertificateParts): Buffer {
  const tbs = sequence(
    VERSION_3,
    tlv(Tag.Integer, serialContent(parts.serial)),
    parts.signature.algorithmIdentifier,
    parts.issuer,
    sequence(time(parts.notBefore), time(parts.notAfter)),
    parts.subject,
    parts.subjectPublicKeyInfo,
    ...(parts.extensions.length > 0 ? [explicit(3, sequence(...parts.extensions))] : []),
  );
  const signatureValue = parts.signer.sign(tbs, parts.signature);
  return sequence(tbs, parts.signature.algorithmIdentifier, bitString(signatureValue));
}
