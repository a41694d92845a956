// parseCertificate: one pass over the DER with bounds checks everywhere, producing everything a finding needs.
import { constants, createPublicKey, hash, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { checkAlgorithmIdentifier, readPublicKeyInfo, readSignatureAlgorithm } from './algorithms';
import { DerReader, TAG, describeTag } from './der';
import { CertificateParseError, fail } from './errors';
import { noExtensions, readExtensions } from './extensions';
import { commonNameOf, parseName } from './names';
import { readTime } from './time';
import type {
  HashName,
  KeyFamily,
  ParseResult,
  ParsedCertificate,
  SelfSignatureCheck,
  SignatureAlgorithmInfo,
} from './types';

/**
 * Largest certificate accepted. Real certificates are a few kilobytes; the largest post-quantum ones (SLH-DSA-256f
 * signatures, about 50 kB) fit many times over. Anything bigger is rejected before it is read.
 */
export const MAX_CERTIFICATE_BYTES = 1024 * 1024;

/** node:crypto digest names for the hashes a certificate signature can use; absent ones cannot be verified here. */
const NODE_DIGESTS: Partial<Record<HashName, string>> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512/224': 'sha512-224',
  'SHA-512/256': 'sha512-256',
  'SHA3-224': 'sha3-224',
  'SHA3-256': 'sha3-256',
  'SHA3-384': 'sha3-384',
  'SHA3-512': 'sha3-512',
  'RIPEMD-160': 'ripemd160',
};

/** Where the signed bytes, the key and the signature sit in the DER, kept only for self-issued certificates. */
interface SelfSignatureInput {
  der: Buffer;
  tbsStart: number;
  tbsEnd: number;
  spkiStart: number;
  spkiEnd: number;
  signatureStart: number;
  signatureEnd: number;
  signature: SignatureAlgorithmInfo;
  keyFamily: KeyFamily;
}

/**
 * Verifies the signature with the certificate's own key through node:crypto's verify (not X509Certificate.verify,
 * which cannot tell "wrong signature" from "algorithm unavailable"). Roughly 30-150 µs depending on the algorithm.
 */
function checkSelfSignature(input: SelfSignatureInput): SelfSignatureCheck {
  const { der, signature, keyFamily } = input;
  const pss = signature.pss;
  const digest = signature.hash === 'none' ? null : (NODE_DIGESTS[signature.hash] ?? undefined);
  if (digest === undefined) return 'unsupported';
  if (pss && (pss.maskGenHash !== pss.hash || pss.saltLength < 0)) return 'unsupported';
  const signatureFamily = signature.family;
  if (
    signatureFamily !== 'RSA' &&
    signatureFamily !== 'EC' &&
    signatureFamily !== 'DSA' &&
    signatureFamily !== 'Ed25519' &&
    signatureFamily !== 'Ed448'
  ) {
    return 'unsupported';
  }
  // SM2 signatures need a distinguishing identifier node:crypto cannot pass.
  if (signature.hash === 'SM3') return 'unsupported';
  if (signatureFamily !== keyFamily) return 'failed';
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der.subarray(input.spkiStart, input.spkiEnd), format: 'der', type: 'spki' });
  } catch {
    return 'unsupported';
  }
  const data = der.subarray(input.tbsStart, input.tbsEnd);
  const value = der.subarray(input.signatureStart, input.signatureEnd);
  try {
    const verified = pss
      ? verify(
          digest,
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss.saltLength },
          value,
        )
      : verify(digest, data, key, value);
    return verified ? 'verified' : 'failed';
  } catch {
    return 'unsupported';
  }
}

interface SelfSignatureState {
  check: SelfSignatureCheck | null;
  input: SelfSignatureInput | null;
}

const NOT_SELF_ISSUED: SelfSignatureState = { check: 'not-self-issued', input: null };

function resolveSelfSignature(state: SelfSignatureState): SelfSignatureCheck {
  if (state.check === null) {
    state.check = checkSelfSignature(state.input as SelfSignatureInput);
    state.input = null;
  }
  return state.check;
}

/** A private copy (pooled allocation, one memcpy): the caller may reuse its buffer before selfSigned is read. */
function copyOf(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafe(bytes.length);
  bytes.copy(copy);
  return copy;
}

function asBuffer(der: Uint8Array): Buffer {
  return Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
}

/**
 * Parses one DER certificate. Throws CertificateParseError (and nothing else) on malformed input; unknown algorithms
 * and extensions are not errors.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const length = der.length;
  if (length === 0) fail('empty-input', null, 'the certificate is empty');
  if (length > MAX_CERTIFICATE_BYTES) {
    fail(
      'too-large',
      null,
      `${length} bytes is larger than the ${MAX_CERTIFICATE_BYTES}-byte limit for a certificate`,
    );
  }
  const bytes = asBuffer(der);
  const reader = new DerReader(bytes);

  if (bytes[0] !== TAG.SEQUENCE) {
    const hint = bytes[0] === 0x2d ? ' (this looks like PEM text: decode it with pemToDers first)' : '';
    fail(
      'unexpected-tag',
      0,
      `Certificate: expected a SEQUENCE (0x30), found ${describeTag(bytes[0] as number)}${hint}`,
    );
  }
  const certificateEnd = reader.expect(0, length, TAG.SEQUENCE, 'Certificate');
  if (certificateEnd !== length) {
    fail('trailing-data', certificateEnd, `${length - certificateEnd} bytes follow the certificate`);
  }

  // TBSCertificate
  const tbsAt = reader.start;
  const tbsEnd = reader.expect(tbsAt, certificateEnd, TAG.SEQUENCE, 'TBSCertificate');
  let pos = reader.start;

  let version: 1 | 2 | 3 = 1;
  if (pos < tbsEnd && bytes[pos] === 0xa0) {
    const versionEnd = reader.expect(pos, tbsEnd, 0xa0, 'version');
    const integerEnd = reader.expect(reader.start, versionEnd, TAG.INTEGER, 'version');
    reader.checkInteger(reader.start, integerEnd, 'version');
    if (integerEnd !== versionEnd) fail('trailing-data', integerEnd, 'version: data after the INTEGER');
    const value = reader.smallUnsigned(reader.start, integerEnd);
    if (value === null || value > 2) {
      fail(
        'unsupported-version',
        reader.start,
        `version ${value === null ? 'is negative or huge' : `v${value + 1}`}: only v1 to v3 exist`,
      );
    }
    version = (value + 1) as 1 | 2 | 3;
    pos = versionEnd;
  }

  const serialEnd = reader.expect(pos, tbsEnd, TAG.INTEGER, 'serialNumber');
  const serialStart = reader.start;
  reader.checkInteger(serialStart, serialEnd, 'serialNumber');
  const serialNumber = reader.hex(serialStart, serialEnd);
  const serialNumberNegative = reader.isNegativeInteger(serialStart);

  const tbsSignatureAt = serialEnd;
  const tbsSignatureEnd = checkAlgorithmIdentifier(
    reader,
    tbsSignatureAt,
    tbsEnd,
    'TBSCertificate signature',
  );

  const issuerAt = tbsSignatureEnd;
  const issuerEnd = reader.expect(issuerAt, tbsEnd, TAG.SEQUENCE, 'issuer');
  const issuer = parseName(reader, reader.start, issuerEnd, 'issuer');

  const validityEnd = reader.expect(issuerEnd, tbsEnd, TAG.SEQUENCE, 'validity');
  const notBefore = readTime(reader, reader.start, validityEnd, 'notBefore');
  const notAfter = readTime(reader, reader.end, validityEnd, 'notAfter');
  if (reader.end !== validityEnd) fail('trailing-data', reader.end, 'validity: data after notAfter');

  const subjectAt = validityEnd;
  const subjectEnd = reader.expect(subjectAt, tbsEnd, TAG.SEQUENCE, 'subject');
  const subject = parseName(reader, reader.start, subjectEnd, 'subject');

  const publicKey = readPublicKeyInfo(reader, subjectEnd, tbsEnd);
  const spkiEnd = reader.end;
  pos = spkiEnd;

  // issuerUniqueID [1] and subjectUniqueID [2]: IMPLICIT BIT STRINGs nobody reads, but they must be well formed.
  for (const [tag, what] of UNIQUE_IDS) {
    if (pos < tbsEnd && bytes[pos] === tag) {
      const end = reader.expect(pos, tbsEnd, tag, what);
      reader.bitStringData(reader.start, end, what);
      pos = end;
    }
  }
  const fields = noExtensions();
  if (pos < tbsEnd && bytes[pos] === 0xa3) {
    const wrapperEnd = reader.expect(pos, tbsEnd, 0xa3, 'extensions');
    const sequenceEnd = reader.expect(reader.start, wrapperEnd, TAG.SEQUENCE, 'extensions');
    if (sequenceEnd !== wrapperEnd) fail('trailing-data', sequenceEnd, 'extensions: data after the SEQUENCE');
    readExtensions(reader, reader.start, sequenceEnd, fields);
    pos = wrapperEnd;
  }
  if (pos !== tbsEnd) {
    fail(
      'trailing-data',
      pos,
      `TBSCertificate: unexpected element ${describeTag(bytes[pos] as number)} after the last field`,
    );
  }

  const signatureAlgorithm = readSignatureAlgorithm(reader, tbsEnd, certificateEnd, 'signatureAlgorithm');
  const signatureAlgorithmEnd = reader.end;
  const signatureEnd = reader.expect(signatureAlgorithmEnd, certificateEnd, TAG.BIT_STRING, 'signatureValue');
  const signatureStart = reader.bitStringData(reader.start, signatureEnd, 'signatureValue');
  if (signatureEnd !== certificateEnd)
    fail('trailing-data', signatureEnd, 'Certificate: data after signatureValue');

  const selfIssued = reader.equalRanges(issuerAt, issuerEnd, subjectAt, subjectEnd);
  const authorityKeyIdentifier = fields.authorityKeyIdentifier;
  const subjectKeyIdentifier = fields.subjectKeyIdentifier;
  // Only self-issued certificates can be self-signed: keep a private copy of their DER until someone asks.
  const selfSignature: SelfSignatureState = selfIssued
    ? {
        check: null,
        input: {
          der: copyOf(bytes),
          tbsStart: tbsAt,
          tbsEnd,
          spkiStart: subjectEnd,
          spkiEnd,
          signatureStart,
          signatureEnd,
          signature: signatureAlgorithm,
          keyFamily: publicKey.family,
        },
      }
    : NOT_SELF_ISSUED;

  return {
    version,
    serialNumber,
    serialNumberNegative,
    serialNumberLength: serialEnd - serialStart,
    subject,
    issuer,
    commonName: commonNameOf(subject),
    notBefore,
    notAfter,
    sha1: hash('sha1', bytes, 'hex'),
    sha256: hash('sha256', bytes, 'hex'),
    derLength: length,
    publicKey,
    signatureAlgorithm,
    signatureAlgorithmsMatch: reader.equalRanges(
      tbsSignatureAt,
      tbsSignatureEnd,
      tbsEnd,
      signatureAlgorithmEnd,
    ),
    extensions: fields.extensions,
    subjectAltNames: fields.subjectAltNames,
    keyUsage: fields.keyUsage,
    extendedKeyUsage: fields.extendedKeyUsage,
    basicConstraints: fields.basicConstraints,
    subjectKeyIdentifier,
    authorityKeyIdentifier,
    crlDistributionPoints: fields.crlDistributionPoints,
    authorityInfoAccess: fields.authorityInfoAccess,
    certificatePolicies: fields.certificatePolicies,
    selfIssued,
    get selfSigned(): boolean {
      const check = resolveSelfSignature(selfSignature);
      // Without a verdict, trust the key identifiers unless they name a different key.
      return (
        check === 'verified' ||
        (check === 'unsupported' &&
          (authorityKeyIdentifier === null || authorityKeyIdentifier === subjectKeyIdentifier))
      );
    },
    get selfSignatureCheck(): SelfSignatureCheck {
      return resolveSelfSignature(selfSignature);
    },
  };
}

const UNIQUE_IDS: ReadonlyArray<readonly [number, string]> = [
  [0x81, 'issuerUniqueID'],
  [0x82, 'subjectUniqueID'],
];

/**
 * parseCertificate without throwing. Any other exception (a bug) is reported as reason 'internal-error' rather than
 * escaping, so one bad certificate cannot stop an inventory scan.
 */
export function tryParseCertificate(der: Uint8Array): ParseResult {
  try {
    return { ok: true, certificate: parseCertificate(der) };
  } catch (error) {
    if (error instanceof CertificateParseError) return { ok: false, error };
    return {
      ok: false,
      error: new CertificateParseError(
        'internal-error',
        null,
        `the certificate reader failed unexpectedly: ${String(error)}`,
        {
          cause: error,
        },
      ),
    };
  }
}
