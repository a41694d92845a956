// KFS-KEY-*: key strength — short RSA, weak or unapproved curves, DSA and short DH, odd RSA exponents, unknown keys.
import type { ParsedCertificate } from '#shared/x509/index';
import { ellipticCurveStrength, finiteFieldStrength } from '../pqc';
import type { CertificateRule } from '../rule';

export const shortRsaKey: CertificateRule = {
  id: 'KFS-KEY-001',
  scope: 'certificate',
  title: 'RSA key shorter than 2048 bits',
  severities: ['critical', 'high'],
  remediation: 'Re-key with RSA 3072 bits or more (2048 at the very least), or with ECDSA P-256 or better.',
  evaluate(certificate: ParsedCertificate) {
    const key = certificate.publicKey;
    const bits = key.keySizeBits;
    if (key.family !== 'RSA' || bits === null || bits >= 2048) return null;
    const strength = finiteFieldStrength(bits);
    // Below 1024 bits the modulus is within reach of a researcher with rented servers (RSA-768 fell in 2009).
    if (bits < 1024) {
      return {
        severity: 'critical',
        message: `RSA ${bits}-bit key (${strength}-bit security): factorable with modest resources; 512-bit moduli fall in hours on rented servers.`,
      };
    }
    return {
      severity: 'high',
      message: `RSA ${bits}-bit key (${strength}-bit security): within reach of well-funded attackers; NIST SP 800-131A has disallowed RSA below 2048 bits for signatures since 2013.`,
    };
  },
};

/** NIST SP 800-186 curves the CA/B Forum Baseline Requirements (6.1.5) also accept. */
const APPROVED_CURVES: ReadonlySet<string> = new Set(['P-256', 'P-384', 'P-521']);

export const weakEllipticCurve: CertificateRule = {
  id: 'KFS-KEY-002',
  scope: 'certificate',
  title: 'Weak or non-approved elliptic curve',
  severities: ['high', 'medium', 'low'],
  remediation:
    'Re-key on a named NIST curve: P-256, P-384 or P-521 (or use Ed25519 where the relying parties accept it).',
  evaluate(certificate: ParsedCertificate) {
    const key = certificate.publicKey;
    if (key.family !== 'EC') return null;
    const curve = key.curve;
    if (curve !== null && APPROVED_CURVES.has(curve)) return null;
    const bits = key.keySizeBits;
    if (curve === 'explicit') {
      return {
        severity: 'high',
        message: `EC key with explicitly specified curve parameters (${bits ?? 'unknown'}-bit order): RFC 5480 requires a named curve, and unchecked explicit parameters are what CVE-2020-0601 ("CurveBall") exploited.`,
      };
    }
    const name = curve ?? `unrecognised curve ${key.curveOid ?? '(no curve OID)'}`;
    if (bits === null) {
      return {
        severity: 'medium',
        message: `EC key on ${name}: the sensor cannot tell its strength, and it is not an approved curve (P-256, P-384, P-521).`,
      };
    }
    const strength = ellipticCurveStrength(bits);
    if (bits < 224) {
      return {
        severity: 'high',
        message: `EC ${name} key (${bits}-bit order, ${strength}-bit security): below the 112-bit minimum of NIST SP 800-131A.`,
      };
    }
    if (bits < 256) {
      return {
        severity: 'medium',
        message: `EC ${name} key (${bits}-bit order, ${strength}-bit security): below the 128-bit strength of P-256; NIST deprecates 112-bit keys after 2030.`,
      };
    }
    // Brainpool curves are sound (BSI TR-02102-1 recommends them); the issue is policy and interoperability.
    if (curve !== null && curve.startsWith('brainpool')) {
      return {
        severity: 'low',
        message: `EC ${name} key (${strength}-bit security): not a NIST SP 800-186 or CA/B Forum curve, and most TLS clients do not support it.`,
      };
    }
    return {
      severity: 'medium',
      message: `EC ${name} key (${bits}-bit order): not an approved curve (P-256, P-384, P-521); support and review of its implementations are limited.`,
    };
  },
};

export const finiteFieldKey: CertificateRule = {
  id: 'KFS-KEY-003',
  scope: 'certificate',
  title: 'DSA key or short Diffie-Hellman key',
  severities: ['high', 'medium'],
  remediation:
    'Replace DSA with ECDSA P-256 or Ed25519; re-key Diffie-Hellman with at least 2048-bit groups, or move to ECDH.',
  evaluate(certificate: ParsedCertificate) {
    const key = certificate.publicKey;
    const bits = key.keySizeBits;
    if (key.family === 'DSA') {
      const size = bits === null ? 'key with inherited parameters (size unknown)' : `${bits}-bit key`;
      return {
        severity: bits !== null && bits < 2048 ? 'high' : 'medium',
        message: `DSA ${size}: FIPS 186-5 (2023) no longer approves DSA for signing${bits !== null && bits < 2048 ? `, and ${finiteFieldStrength(bits)}-bit security is below the 112-bit minimum` : ''}.`,
      };
    }
    if (key.family === 'DH' && bits !== null && bits < 2048) {
      return {
        severity: 'high',
        message: `Diffie-Hellman ${bits}-bit key (${finiteFieldStrength(bits)}-bit security): groups this small are precomputation targets (Logjam, 2015).`,
      };
    }
    return null;
  },
};

/** FIPS 186-5 A.1.1: 2^16 < e < 2^256, e odd. 2^256 in hex is 65 digits. */
const MAX_EXPONENT_HEX_DIGITS = 64;

export const unusualRsaExponent: CertificateRule = {
  id: 'KFS-KEY-004',
  scope: 'certificate',
  title: 'Small or non-standard RSA public exponent',
  severities: ['critical', 'high', 'medium', 'low'],
  remediation: 'Re-key with the public exponent 65537.',
  evaluate(certificate: ParsedCertificate) {
    const key = certificate.publicKey;
    const exponent = key.rsaExponent;
    if (key.family !== 'RSA' || exponent === null) return null;
    if (typeof exponent === 'string') {
      if (exponent.length <= MAX_EXPONENT_HEX_DIGITS) return null;
      return {
        severity: 'low',
        message: `RSA public exponent of ${exponent.length * 4} bits: FIPS 186-5 requires e < 2^256; many verifiers reject such keys.`,
      };
    }
    if (exponent <= 1) {
      return {
        severity: 'critical',
        message: `RSA public exponent ${exponent}: the RSA operation is the identity, so anyone can forge signatures and read what is "encrypted".`,
      };
    }
    if (exponent % 2 === 0) {
      return {
        severity: 'high',
        message: `RSA public exponent ${exponent} is even: no valid RSA key has one, so the key is broken or was crafted.`,
      };
    }
    if (exponent === 3) {
      return {
        severity: 'medium',
        message: `RSA public exponent 3: sound only with flawless padding checks; lax PKCS #1 v1.5 verifiers let attackers forge signatures (Bleichenbacher 2006).`,
      };
    }
    if (exponent <= 65536) {
      return {
        severity: 'low',
        message: `RSA public exponent ${exponent}: FIPS 186-5 requires e > 2^16 (65537 is the norm).`,
      };
    }
    return null;
  },
};

export const unrecognisedKeyAlgorithm: CertificateRule = {
  id: 'KFS-KEY-005',
  scope: 'certificate',
  title: 'Unrecognised public-key algorithm',
  severities: ['info'],
  remediation:
    'Identify the algorithm with the certificate owner; if it is proprietary or obsolete, re-key with a standard one.',
  evaluate(certificate: ParsedCertificate) {
    const key = certificate.publicKey;
    if (key.family !== 'unknown') return null;
    const name =
      key.algorithmName === key.algorithmOid
        ? key.algorithmOid
        : `${key.algorithmName} (${key.algorithmOid})`;
    return {
      severity: 'info',
      message: `Public-key algorithm ${name} is not one the sensor knows: its strength and quantum readiness cannot be assessed.`,
    };
  },
};
