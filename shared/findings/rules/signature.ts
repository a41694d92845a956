// KFS-SIG-001: the certificate's signature uses a hash with practical collision attacks (MD2, MD4, MD5, SHA-1).
import type { HashName, ParsedCertificate } from '#shared/x509/index';
import { isSelfSigned } from '../rule';
import type { CertificateRule } from '../rule';
import type { Severity } from '../types';

const WEAK_HASHES: ReadonlyMap<HashName, { severity: Severity; attack: string }> = new Map([
  ['MD2', { severity: 'critical', attack: 'preimage attacks are known and no current client accepts it' }],
  ['MD4', { severity: 'critical', attack: 'collisions take microseconds to compute' }],
  [
    'MD5',
    {
      severity: 'critical',
      attack: 'chosen-prefix collisions forged a rogue CA certificate in 2008 (and Flame in 2012)',
    },
  ],
  [
    'SHA-1',
    {
      severity: 'high',
      attack: 'chosen-prefix collisions cost about US$45k since 2020 (SHA-1 is a Shambles)',
    },
  ],
]);

export const weakSignatureHash: CertificateRule = {
  id: 'KFS-SIG-001',
  scope: 'certificate',
  title: 'Weak signature hash',
  severities: ['critical', 'high'],
  remediation: 'Re-issue the certificate with a SHA-256 (or stronger) signature.',
  evaluate(certificate: ParsedCertificate, subject) {
    const signature = certificate.signatureAlgorithm;
    const weakness = WEAK_HASHES.get(signature.hash);
    if (weakness === undefined) return null;
    // A trust anchor is trusted by its presence in a store, not by its signature: the hash on a self-signed root is moot.
    if (certificate.basicConstraints.cA && isSelfSigned(certificate)) return null;
    const role = subject.isCa ? 'CA certificate' : 'certificate';
    return {
      severity: weakness.severity,
      message: `${role} signed with ${signature.name} (${signature.hash}): ${weakness.attack}, so a colliding certificate request can yield a forged certificate carrying the same valid signature.`,
    };
  },
};
