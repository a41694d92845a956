// AlgorithmIdentifiers: the signature algorithm (with RSASSA-PSS parameters) and the SubjectPublicKeyInfo's key facts.
import { hash } from 'node:crypto';
import type { DerReader } from './der';
import { TAG } from './der';
import { fail, relabel } from './errors';
import { decodeOid, lookupOid } from './oids';
import type { OidEntry } from './oids';
import type { HashName, PssParameters, PublicKeyInfo, SignatureAlgorithmInfo } from './types';

/** Content range of the parameters of the AlgorithmIdentifier last read by readAlgorithm; start === end when absent. */
interface AlgorithmScratch {
  entry: OidEntry | undefined;
  oidStart: number;
  oidEnd: number;
  parametersTag: number;
  parametersStart: number;
  parametersEnd: number;
  /** Offset of the parameters' header (their DER starts here). */
  parametersAt: number;
}

const algorithm: AlgorithmScratch = {
  entry: undefined,
  oidStart: 0,
  oidEnd: 0,
  parametersTag: -1,
  parametersStart: 0,
  parametersEnd: 0,
  parametersAt: 0,
};

/** Reads the AlgorithmIdentifier SEQUENCE at `pos` into the shared scratch; returns its end. */
function readAlgorithm(reader: DerReader, pos: number, limit: number, what: string): number {
  const end = reader.expect(pos, limit, TAG.SEQUENCE, what);
  const oidEnd = reader.expect(reader.start, end, TAG.OID, `${what} algorithm`);
  algorithm.oidStart = reader.start;
  algorithm.oidEnd = oidEnd;
  algorithm.entry = lookupOid(reader.bytes, reader.start, oidEnd);
  algorithm.parametersAt = oidEnd;
  if (oidEnd < end) {
    reader.header(oidEnd, end, `${what} parameters`);
    if (reader.end !== end)
      fail('invalid-algorithm', reader.end, `${what}: more than an algorithm and its parameters`);
    algorithm.parametersTag = reader.tag;
    algorithm.parametersStart = reader.start;
    algorithm.parametersEnd = reader.end;
    // Parameters are opaque to most algorithms, but must still be well-formed DER (as OpenSSL's decoder insists).
    if ((reader.tag & 0x20) !== 0) {
      reader.checkWellFormed(algorithm.parametersStart, end, 1, `${what} parameters`);
      reader.tag = algorithm.parametersTag;
      reader.start = algorithm.parametersStart;
      reader.end = end;
    }
  } else {
    algorithm.parametersTag = -1;
    algorithm.parametersStart = end;
    algorithm.parametersEnd = end;
  }
  return end;
}

function algorithmOid(reader: DerReader): string {
  return algorithm.entry
    ? algorithm.entry.oid
    : decodeOid(reader.bytes, algorithm.oidStart, algorithm.oidEnd);
}

/** The digest named by the hash AlgorithmIdentifier at `pos` (absent NULL parameters or not). */
function readDigest(reader: DerReader, pos: number, limit: number, what: string): HashName {
  readAlgorithm(reader, pos, limit, what);
  return algorithm.entry?.digest ?? 'unknown';
}

/** RFC 4055 RSASSA-PSS-params; every field has a default (SHA-1, MGF1 with SHA-1, 20-byte salt). */
function readPssParameters(reader: DerReader, start: number, end: number): PssParameters {
  let hashName: HashName = 'SHA-1';
  let maskGenHash: HashName = 'SHA-1';
  let saltLength = 20;
  let pos = start;
  while (pos < end) {
    reader.header(pos, end, 'RSASSA-PSS parameter');
    const tag = reader.tag;
    const fieldEnd = reader.end;
    const inner = reader.start;
    if (tag === 0xa0) {
      hashName = readDigest(reader, inner, fieldEnd, 'RSASSA-PSS hashAlgorithm');
    } else if (tag === 0xa1) {
      readAlgorithm(reader, inner, fieldEnd, 'RSASSA-PSS maskGenAlgorithm');
      // MGF1's parameter is itself a hash AlgorithmIdentifier.
      maskGenHash =
        algorithm.parametersTag === TAG.SEQUENCE
          ? readDigest(reader, algorithm.parametersAt, algorithm.parametersEnd, 'RSASSA-PSS MGF1 hash')
          : 'unknown';
    } else if (tag === 0xa2) {
      const integerEnd = reader.expect(inner, fieldEnd, TAG.INTEGER, 'RSASSA-PSS saltLength');
      reader.checkInteger(reader.start, integerEnd, 'RSASSA-PSS saltLength');
      saltLength = reader.smallUnsigned(reader.start, integerEnd) ?? -1;
    } else if (tag !== 0xa3) {
      fail('unexpected-tag', pos, `RSASSA-PSS parameters: unexpected field tag 0x${tag.toString(16)}`);
    }
    pos = fieldEnd;
  }
  return { hash: hashName, maskGenHash, saltLength };
}

/** Validates the AlgorithmIdentifier at `pos` (the TBSCertificate's copy of the signature algorithm); returns its end. */
export function checkAlgorithmIdentifier(
  reader: DerReader,
  pos: number,
  limit: number,
  what: string,
): number {
  try {
    const end = readAlgorithm(reader, pos, limit, what);
    algorithmOid(reader);
    return end;
  } catch (error) {
    throw relabel(error, 'invalid-algorithm', what);
  }
}

/** Reads the signature AlgorithmIdentifier at `pos`; returns its end in reader.end. */
export function readSignatureAlgorithm(
  reader: DerReader,
  pos: number,
  limit: number,
  what: string,
): SignatureAlgorithmInfo {
  let end: number;
  try {
    end = readAlgorithm(reader, pos, limit, what);
  } catch (error) {
    throw relabel(error, 'invalid-algorithm', what);
  }
  const entry = algorithm.entry;
  const oid = algorithmOid(reader);
  const spec = entry?.signature ?? null;
  let pss: PssParameters | null = null;
  let hashName: HashName = spec ? spec.hash : 'unknown';
  if (spec?.pss && algorithm.parametersTag === TAG.SEQUENCE) {
    try {
      pss = readPssParameters(reader, algorithm.parametersStart, algorithm.parametersEnd);
    } catch (error) {
      throw relabel(error, 'invalid-algorithm', `${what} RSASSA-PSS parameters`);
    }
    hashName = pss.hash;
  } else if (spec?.pss) {
    pss = { hash: 'SHA-1', maskGenHash: 'SHA-1', saltLength: 20 };
  }
  reader.end = end;
  return {
    oid,
    name: spec ? spec.name : (entry?.longName ?? oid),
    hash: hashName,
    // Some old certificates name the key algorithm (rsaEncryption) instead of a signature algorithm.
    family: spec ? spec.family : (entry?.key?.family ?? 'unknown'),
    pss,
  };
}

function readUnsignedBits(reader: DerReader, pos: number, limit: number, what: string): number {
  const end = reader.expect(pos, limit, TAG.INTEGER, what);
  reader.checkInteger(reader.start, end, what);
  if (reader.isNegativeInteger(reader.start)) fail('invalid-public-key', reader.start, `${what} is negative`);
  return reader.unsignedBitLength(reader.start, end);
}

/** Group-order size of explicitly specified curve parameters (RFC 3279 ECParameters). */
function explicitCurveOrderBits(reader: DerReader, start: number, end: number): number {
  let pos = reader.expect(start, end, TAG.INTEGER, 'ECParameters version');
  pos = reader.expect(pos, end, TAG.SEQUENCE, 'ECParameters fieldID');
  pos = reader.expect(pos, end, TAG.SEQUENCE, 'ECParameters curve');
  pos = reader.expect(pos, end, TAG.OCTET_STRING, 'ECParameters base');
  return readUnsignedBits(reader, pos, end, 'ECParameters order');
}

/**
 * Reads the SubjectPublicKeyInfo SEQUENCE at `pos`. Structural errors anywhere in it, key bytes included, are
 * 'invalid-public-key'. Returns the end in reader.end.
 */
export function readPublicKeyInfo(reader: DerReader, pos: number, limit: number): PublicKeyInfo {
  try {
    return readPublicKey(reader, pos, limit);
  } catch (error) {
    throw relabel(error, 'invalid-public-key', 'subjectPublicKeyInfo');
  }
}

function readPublicKey(reader: DerReader, pos: number, limit: number): PublicKeyInfo {
  const end = reader.expect(pos, limit, TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const bitStringAt = readAlgorithm(reader, reader.start, end, 'subjectPublicKeyInfo algorithm');
  const keyEnd = reader.expect(bitStringAt, end, TAG.BIT_STRING, 'subjectPublicKey');
  if (keyEnd !== end) fail('invalid-public-key', keyEnd, 'subjectPublicKeyInfo: data after the key');
  const keyStart = reader.bitStringData(reader.start, keyEnd, 'subjectPublicKey');
  const entry = algorithm.entry;
  const spec = entry?.key ?? null;
  const oid = algorithmOid(reader);
  const family = spec ? spec.family : 'unknown';
  let keySizeBits = spec ? spec.keySizeBits : null;
  let curve: string | null = null;
  let curveOid: string | null = null;
  let rsaExponent: number | string | null = null;
  const { parametersTag, parametersStart, parametersEnd } = algorithm;

  switch (family) {
    case 'RSA': {
      const sequenceEnd = reader.expect(keyStart, keyEnd, TAG.SEQUENCE, 'RSAPublicKey');
      if (sequenceEnd !== keyEnd) fail('invalid-public-key', sequenceEnd, 'RSAPublicKey: data after the key');
      const modulusAt = reader.start;
      keySizeBits = readUnsignedBits(reader, modulusAt, sequenceEnd, 'RSA modulus');
      const exponentEnd = reader.expect(reader.end, sequenceEnd, TAG.INTEGER, 'RSA publicExponent');
      if (exponentEnd !== sequenceEnd)
        fail('invalid-public-key', exponentEnd, 'RSAPublicKey: data after the exponent');
      const exponentStart = reader.start;
      reader.checkInteger(exponentStart, exponentEnd, 'RSA publicExponent');
      if (reader.isNegativeInteger(exponentStart))
        fail('invalid-public-key', exponentStart, 'RSA publicExponent is negative');
      rsaExponent = reader.smallUnsigned(exponentStart, exponentEnd);
      if (rsaExponent === null) {
        let first = exponentStart;
        while (first < exponentEnd - 1 && reader.bytes[first] === 0) first++;
        rsaExponent = reader.hex(first, exponentEnd);
      }
      break;
    }
    case 'EC': {
      if (parametersTag === TAG.OID) {
        const curveEntry = lookupOid(reader.bytes, parametersStart, parametersEnd);
        curveOid = curveEntry ? curveEntry.oid : decodeOid(reader.bytes, parametersStart, parametersEnd);
        if (curveEntry?.curve) {
          curve = curveEntry.curve.name;
          keySizeBits = curveEntry.curve.orderBits;
        }
      } else if (parametersTag === TAG.SEQUENCE) {
        curve = 'explicit';
        keySizeBits = explicitCurveOrderBits(reader, parametersStart, parametersEnd);
      }
      break;
    }
    case 'DSA':
    case 'DH': {
      // DSA Dss-Parms, PKCS #3 DHParameter and X9.42 DomainParameters all start with p.
      if (parametersTag === TAG.SEQUENCE)
        keySizeBits = readUnsignedBits(reader, parametersStart, parametersEnd, `${family} p`);
      break;
    }
    case 'composite':
      keySizeBits = (keyEnd - keyStart) * 8;
      break;
    default:
      break;
  }
  reader.end = end;
  return {
    family,
    algorithmOid: oid,
    algorithmName: entry?.longName ?? spec?.parameterSet ?? oid,
    keySizeBits,
    curve,
    curveOid,
    rsaExponent,
    parameterSet: spec ? spec.parameterSet : null,
    spkiSha256: hash('sha256', reader.bytes.subarray(pos, end), 'hex'),
  };
}
