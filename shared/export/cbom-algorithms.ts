// What CycloneDX 1.6 says about an algorithm (algorithmProperties), worked out from a finding's key and signature facts.
import { assessPublicKey } from '#shared/findings/index';
import type { PqcAssessment, PublicKeySection, SignatureSection } from '#shared/findings/index';
import type { KeyFamily } from '#shared/x509/index';
import type { CryptoFunction, CryptoPadding, CryptoPrimitive } from './cbom-crypto';

/** CycloneDX 1.6 cryptoProperties.algorithmProperties.primitive (the values this exporter can produce). */
export type CbomPrimitive = Extract<CryptoPrimitive, 'signature' | 'pke' | 'kem' | 'key-agree' | 'unknown'>;

/** CycloneDX 1.6 cryptoProperties.algorithmProperties.cryptoFunctions (the values this exporter can produce). */
export type CbomCryptoFunction = Extract<
  CryptoFunction,
  'sign' | 'verify' | 'encrypt' | 'decrypt' | 'encapsulate' | 'decapsulate' | 'keyderive' | 'unknown'
>;

/** CycloneDX 1.6 cryptoProperties.algorithmProperties.padding (the values this exporter can produce). */
export type CbomPadding = Extract<CryptoPadding, 'pkcs1v15' | 'other'>;

/** One algorithm component's content; equal names always describe equal algorithms. */
export interface CbomAlgorithm {
  name: string;
  primitive: CbomPrimitive;
  parameterSetIdentifier: string | null;
  curve: string | null;
  cryptoFunctions: readonly CbomCryptoFunction[];
  /**
   * Only where the identifier fixes it: PKCS#1 v1.5 for the sha*WithRSAEncryption signatures, 'other' for RSASSA-PSS
   * (the 1.6 enum has no PSS). Null for everything else, an rsaEncryption key included (it may be used with any).
   */
  padding: CbomPadding | null;
  /** Bits of classical security; null when the identifier alone does not fix it. */
  classicalSecurityLevel: number | null;
  /** NIST PQC category 0-5 (0: none); null when the algorithm is unknown. */
  nistQuantumSecurityLevel: number | null;
  oid: string;
}

const SIGN_VERIFY: readonly CbomCryptoFunction[] = Object.freeze(['sign', 'verify']);
const RSA_FUNCTIONS: readonly CbomCryptoFunction[] = Object.freeze(['encrypt', 'decrypt', 'sign', 'verify']);
const KEM_FUNCTIONS: readonly CbomCryptoFunction[] = Object.freeze(['encapsulate', 'decapsulate']);
const AGREEMENT_FUNCTIONS: readonly CbomCryptoFunction[] = Object.freeze(['keyderive']);
const UNKNOWN_FUNCTIONS: readonly CbomCryptoFunction[] = Object.freeze(['unknown']);

const RSASSA_PSS_OID = '1.2.840.113549.1.1.10';
/** rsaEncryption: a key OID, which some old certificates put where the signature algorithm belongs. */
const RSA_ENCRYPTION_OID = '1.2.840.113549.1.1.1';
/** RSASSA-PSS and RFC 8702's id-RSASSA-PSS-SHAKE128/256; every other RSA signature OID is PKCS#1 v1.5. */
const PSS_SIGNATURE_OIDS: ReadonlySet<string> = new Set([
  RSASSA_PSS_OID,
  '1.3.6.1.5.5.7.6.30',
  '1.3.6.1.5.5.7.6.31',
]);
/** SEC 1 id-ecDH and id-ecMQV: EC keys restricted to key agreement. */
const EC_AGREEMENT_OIDS: ReadonlySet<string> = new Set(['1.3.132.1.12', '1.3.132.1.13']);

/** Names from std-curves (neuromancer.sk), the source CycloneDX recommends for `curve`. */
const EDWARDS_AND_MONTGOMERY_CURVES: Readonly<Partial<Record<KeyFamily, string>>> = {
  Ed25519: 'Ed25519',
  Ed448: 'Ed448',
  X25519: 'Curve25519',
  X448: 'Curve448',
};

const ML_DSA_SET = /ML-?DSA-?(44|65|87)/;
const ML_KEM_SET = /ML-KEM-(512|768|1024)/;

/**
 * The parameter set as CycloneDX's examples write it: the part after the family ("65" in ML-DSA-65, "SHA2-128s" in
 * SLH-DSA-SHA2-128s). Composite names are kept whole: no shorter form identifies both halves.
 */
function parameterSetIdentifier(family: KeyFamily, parameterSet: string): string | null {
  switch (family) {
    case 'ML-DSA':
      return ML_DSA_SET.exec(parameterSet)?.[1] ?? parameterSet;
    case 'ML-KEM':
      return ML_KEM_SET.exec(parameterSet)?.[1] ?? parameterSet;
    case 'SLH-DSA':
      return parameterSet.replace(/^(Hash)?SLH-DSA-/, '');
    default:
      return parameterSet;
  }
}

function levels(
  pqc: PqcAssessment | null,
): Pick<CbomAlgorithm, 'classicalSecurityLevel' | 'nistQuantumSecurityLevel'> {
  return {
    classicalSecurityLevel: pqc?.classical_security_level ?? null,
    nistQuantumSecurityLevel: pqc?.nist_quantum_security_level ?? null,
  };
}

/**
 * Algorithms whose identifier fixes everything (EdDSA, ML-DSA, SLH-DSA, ML-KEM, composites): the same component
 * whether it is met as a subject key or as an issuer's signature, so both paths must build it here.
 */
function selfDescribingAlgorithm(
  family: KeyFamily,
  parameterSet: string | null,
  oid: string,
): CbomAlgorithm | null {
  const curve = EDWARDS_AND_MONTGOMERY_CURVES[family];
  if (curve !== undefined) {
    const agreement = family === 'X25519' || family === 'X448';
    return {
      name: family,
      primitive: agreement ? 'key-agree' : 'signature',
      parameterSetIdentifier: null,
      curve,
      cryptoFunctions: agreement ? AGREEMENT_FUNCTIONS : SIGN_VERIFY,
      padding: null,
      ...levels(assessFamily(family, null)),
      oid,
    };
  }
  if (family !== 'ML-DSA' && family !== 'SLH-DSA' && family !== 'ML-KEM' && family !== 'composite')
    return null;
  const name = parameterSet ?? oid;
  return {
    name,
    primitive: family === 'ML-KEM' ? 'kem' : 'signature',
    parameterSetIdentifier: parameterSet === null ? null : parameterSetIdentifier(family, parameterSet),
    curve: null,
    cryptoFunctions: family === 'ML-KEM' ? KEM_FUNCTIONS : SIGN_VERIFY,
    padding: null,
    ...levels(assessFamily(family, name)),
    oid,
  };
}

/** The findings engine's own assessment, so the CBOM and the finding can never disagree about a level. */
function assessFamily(family: KeyFamily, parameterSet: string | null): PqcAssessment | null {
  return assessPublicKey({
    family,
    algorithmOid: '',
    algorithmName: '',
    keySizeBits: null,
    curve: null,
    curveOid: null,
    rsaExponent: null,
    parameterSet,
    spkiSha256: '',
  });
}

function sized(prefix: string, bits: number | null): string {
  return bits === null ? prefix : `${prefix}-${bits}`;
}

function ellipticCurveLabel(key: PublicKeySection): string {
  if (key.curve === 'explicit') return sized('explicit', key.key_size_bits);
  return key.curve ?? key.curve_oid ?? sized('unknown-curve', key.key_size_bits);
}

/** The algorithm of a certificate's subject public key; its levels are the finding's PQC assessment of that key. */
export function keyAlgorithm(key: PublicKeySection, pqc: PqcAssessment | null): CbomAlgorithm {
  const selfDescribing = selfDescribingAlgorithm(key.algorithm, key.parameter_set, key.algorithm_oid);
  if (selfDescribing !== null) return selfDescribing;
  const bits = key.key_size_bits;
  const common = {
    curve: null,
    parameterSetIdentifier: bits === null ? null : String(bits),
    padding: null,
    oid: key.algorithm_oid,
  };
  switch (key.algorithm) {
    case 'RSA':
      return key.algorithm_oid === RSASSA_PSS_OID
        ? {
            ...common,
            name: sized('RSASSA-PSS', bits),
            primitive: 'signature',
            cryptoFunctions: SIGN_VERIFY,
            padding: 'other',
            ...levels(pqc),
          }
        : {
            ...common,
            name: sized('RSA', bits),
            primitive: 'pke',
            cryptoFunctions: RSA_FUNCTIONS,
            ...levels(pqc),
          };
    case 'EC': {
      const agreement = EC_AGREEMENT_OIDS.has(key.algorithm_oid);
      const curve = ellipticCurveLabel(key);
      return {
        ...common,
        name: `${agreement ? 'ECDH' : 'EC'}-${curve}`,
        primitive: agreement ? 'key-agree' : 'signature',
        curve,
        cryptoFunctions: agreement ? AGREEMENT_FUNCTIONS : SIGN_VERIFY,
        ...levels(pqc),
      };
    }
    case 'DSA':
      return {
        ...common,
        name: sized('DSA', bits),
        primitive: 'signature',
        cryptoFunctions: SIGN_VERIFY,
        ...levels(pqc),
      };
    case 'DH':
      return {
        ...common,
        name: sized('DH', bits),
        primitive: 'key-agree',
        cryptoFunctions: AGREEMENT_FUNCTIONS,
        ...levels(pqc),
      };
    default:
      return {
        ...common,
        name: key.algorithm_name,
        primitive: 'unknown',
        cryptoFunctions: UNKNOWN_FUNCTIONS,
        ...levels(pqc),
      };
  }
}

/** Digest names that are not already in the OpenSSL-style identifier, for RSASSA-PSS. */
function pssName(signature: SignatureSection): string {
  const pss = signature.pss;
  if (pss === null) return `RSASSA-PSS-${signature.hash}`;
  return `RSASSA-PSS-${pss.hash}-MGF1-${pss.mask_gen_hash}-salt-${pss.salt_length}`;
}

function rsaSignaturePadding(signature: SignatureSection): CbomPadding | null {
  if (signature.algorithm !== 'RSA' || signature.algorithm_oid === RSA_ENCRYPTION_OID) return null;
  return signature.pss !== null || PSS_SIGNATURE_OIDS.has(signature.algorithm_oid) ? 'other' : 'pkcs1v15';
}

/**
 * The issuer's signature algorithm. A classical signature's strength depends on the issuer's key, which the
 * certificate does not carry, so classicalSecurityLevel is left out for RSA, ECDSA and DSA signatures.
 */
export function signatureAlgorithm(signature: SignatureSection): CbomAlgorithm {
  const selfDescribing = selfDescribingAlgorithm(
    signature.algorithm,
    signature.algorithm_name,
    signature.algorithm_oid,
  );
  if (selfDescribing !== null) return selfDescribing;
  const known = signature.algorithm !== 'unknown';
  return {
    name: signature.pss === null ? signature.algorithm_name : pssName(signature),
    primitive: known ? 'signature' : 'unknown',
    parameterSetIdentifier: null,
    curve: null,
    cryptoFunctions: known ? SIGN_VERIFY : UNKNOWN_FUNCTIONS,
    padding: rsaSignaturePadding(signature),
    classicalSecurityLevel: null,
    // Every classical family falls to Shor's algorithm; only the unknown ones are left unassessed.
    nistQuantumSecurityLevel: known ? 0 : null,
    oid: signature.algorithm_oid,
  };
}
