// KFS-PQC-001: the subject key falls to a cryptographically relevant quantum computer (Shor's algorithm).
import type { ParsedCertificate } from '#shared/x509/index';
import type { CertificateRule, RuleSubject } from '../rule';
import type { Severity } from '../types';

/** NIST IR 8547 (ipd, 2024): 112-bit classical public-key algorithms deprecated after 2030, all disallowed after 2035. */
const DEPRECATED_AFTER_MS = Date.UTC(2031, 0, 1);
const DISALLOWED_AFTER_MS = Date.UTC(2035, 0, 1);

function keyDescription(certificate: ParsedCertificate): string {
  const key = certificate.publicKey;
  if (key.family === 'EC') return `EC ${key.curve ?? key.curveOid ?? 'unknown-curve'} key`;
  if (key.family === 'RSA' || key.family === 'DSA' || key.family === 'DH') {
    return `${key.family} ${key.keySizeBits === null ? 'key of unknown size' : `${key.keySizeBits}-bit key`}`;
  }
  return `${key.family} key`;
}

/** Keys that encrypt or agree on session keys can be attacked on recorded traffic today ("harvest now, decrypt later"). */
function protectsRecordedTraffic(certificate: ParsedCertificate): boolean {
  const usage = certificate.keyUsage;
  if (usage === null) return false;
  return (
    usage.includes('keyEncipherment') || usage.includes('keyAgreement') || usage.includes('dataEncipherment')
  );
}

export const quantumVulnerableKey: CertificateRule = {
  id: 'KFS-PQC-001',
  scope: 'certificate',
  title: 'Quantum-vulnerable public key',
  severities: ['high', 'medium', 'low'],
  remediation:
    'Plan its replacement with ML-DSA (FIPS 204) or a composite ML-DSA certificate; replace first what stays valid past 2030.',
  evaluate(certificate: ParsedCertificate, subject: RuleSubject) {
    const pqc = subject.pqc;
    if (pqc === null || pqc.readiness !== 'vulnerable') return null;
    const key = keyDescription(certificate);
    const notAfter = subject.notAfterMs;
    let severity: Severity = 'low';
    let why = 'its signatures become forgeable once a cryptographically relevant quantum computer exists';
    if (notAfter >= DISALLOWED_AFTER_MS) {
      severity = 'high';
      why = `it stays valid until ${certificate.notAfter}, past 2035 when NIST IR 8547 disallows quantum-vulnerable public-key algorithms`;
    } else if (protectsRecordedTraffic(certificate)) {
      severity = 'medium';
      why = `its key usage (${(certificate.keyUsage ?? []).join(', ')}) protects session keys, so traffic recorded today can be decrypted later ("harvest now, decrypt later")`;
    } else if (notAfter >= DEPRECATED_AFTER_MS && (pqc.classical_security_level ?? 0) <= 112) {
      severity = 'medium';
      why = `it stays valid until ${certificate.notAfter}, past 2030 when NIST IR 8547 deprecates 112-bit public-key algorithms`;
    }
    return {
      severity,
      message: `${key}: broken by Shor's algorithm on a quantum computer (NIST category 0); ${why}.`,
    };
  },
};
