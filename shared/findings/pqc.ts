// Post-quantum readiness of a subject public key, with CycloneDX's NIST category and classical strength in bits.
import type { PublicKeyInfo } from '#shared/x509/index';
import type { PqcAssessment } from './types';

/**
 * Security strength of RSA, DSA and DH moduli, NIST SP 800-57 Part 1 Rev. 5 Table 2. Below 1024 bits the table stops;
 * the FIPS 140 Implementation Guidance (IG D.B, formerly 7.5) general number field sieve estimate is used instead.
 */
export function finiteFieldStrength(modulusBits: number): number {
  if (modulusBits >= 15360) return 256;
  if (modulusBits >= 7680) return 192;
  if (modulusBits >= 3072) return 128;
  if (modulusBits >= 2048) return 112;
  if (modulusBits >= 1024) return 80;
  if (modulusBits < 2) return 0;
  const x = modulusBits * Math.LN2;
  const bits = (1.923 * Math.cbrt(x) * Math.pow(Math.log(x), 2 / 3) - 4.69) / Math.LN2;
  return Math.max(0, Math.floor(bits));
}

/** Elliptic curves by group-order size, NIST SP 800-57 Part 1 Rev. 5 Table 2 (f = 160-223 gives 80, ...). */
export function ellipticCurveStrength(orderBits: number): number {
  if (orderBits >= 512) return 256;
  if (orderBits >= 384) return 192;
  if (orderBits >= 256) return 128;
  if (orderBits >= 224) return 112;
  if (orderBits >= 160) return 80;
  return Math.floor(orderBits / 2);
}

/** Classical strength of each NIST PQC category: the AES key search or SHA collision that defines it (FIPS 203-205). */
const CATEGORY_CLASSICAL_BITS: Readonly<Record<number, number>> = { 1: 128, 2: 128, 3: 192, 4: 192, 5: 256 };

/** FIPS 204 Table 1: ML-DSA-44 is category 2, ML-DSA-65 category 3, ML-DSA-87 category 5. */
const ML_DSA_CATEGORY: Readonly<Record<string, number>> = { '44': 2, '65': 3, '87': 5 };
/** FIPS 203 Table 2: ML-KEM-512 category 1, 768 category 3, 1024 category 5. */
const ML_KEM_CATEGORY: Readonly<Record<string, number>> = { '512': 1, '768': 3, '1024': 5 };
/** FIPS 205 Table 2: the n = 128/192/256 parameter sets are categories 1, 3 and 5 (small and fast alike). */
const SLH_DSA_CATEGORY: Readonly<Record<string, number>> = { '128': 1, '192': 3, '256': 5 };

// Parameter-set names come from the certificate reader (ML-DSA-65, HashML-DSA-65-with-SHA512, SLH-DSA-SHA2-128s,
// MLDSA65-ECDSA-P256-SHA512...); compiled once here, never per call.
const ML_DSA_SET = /ML-?DSA-?(44|65|87)/;
const ML_KEM_SET = /ML-KEM-(512|768|1024)/;
const SLH_DSA_SET = /-(128|192|256)[sf]/;

function quantumSafe(category: number | undefined): PqcAssessment {
  const level = category ?? 0;
  return {
    readiness: 'quantum-safe',
    nist_quantum_security_level: level,
    classical_security_level: CATEGORY_CLASSICAL_BITS[level] ?? null,
  };
}

function vulnerable(classicalBits: number | null): PqcAssessment {
  return { readiness: 'vulnerable', nist_quantum_security_level: 0, classical_security_level: classicalBits };
}

/**
 * Readiness of the subject public key. Classical algorithms (RSA, EC, DSA, DH, EdDSA, X25519/X448) fall to Shor's
 * algorithm: 'vulnerable', category 0. ML-DSA, SLH-DSA and ML-KEM are 'quantum-safe' with their FIPS category.
 * Composite ML-DSA keys are 'transitional': the ML-DSA half gives the category, and since a composite signature holds
 * while either half holds, its classical strength is at least the ML-DSA half's. Null for unknown algorithms.
 */
export function assessPublicKey(publicKey: PublicKeyInfo): PqcAssessment | null {
  const bits = publicKey.keySizeBits;
  switch (publicKey.family) {
    case 'RSA':
    case 'DSA':
    case 'DH':
      return vulnerable(bits === null ? null : finiteFieldStrength(bits));
    case 'EC':
      return vulnerable(bits === null ? null : ellipticCurveStrength(bits));
    case 'Ed25519':
    case 'X25519':
      return vulnerable(128);
    case 'Ed448':
    case 'X448':
      return vulnerable(224);
    case 'ML-DSA':
      return quantumSafe(ML_DSA_CATEGORY[ML_DSA_SET.exec(publicKey.parameterSet ?? '')?.[1] ?? '']);
    case 'ML-KEM':
      return quantumSafe(ML_KEM_CATEGORY[ML_KEM_SET.exec(publicKey.parameterSet ?? '')?.[1] ?? '']);
    case 'SLH-DSA':
      return quantumSafe(SLH_DSA_CATEGORY[SLH_DSA_SET.exec(publicKey.parameterSet ?? '')?.[1] ?? '']);
    case 'composite': {
      const category = ML_DSA_CATEGORY[ML_DSA_SET.exec(publicKey.parameterSet ?? '')?.[1] ?? ''] ?? 0;
      return {
        readiness: 'transitional',
        nist_quantum_security_level: category,
        classical_security_level: CATEGORY_CLASSICAL_BITS[category] ?? null,
      };
    }
    case 'unknown':
      return null;
  }
}
