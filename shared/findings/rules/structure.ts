// KFS-STR-*: RFC 5280 structure — serial numbers, extensions in v1/v2, CA marking, signature fields, validity order.
import type { ParsedCertificate } from '#shared/x509/index';
import { CertState } from '#shared/keyfactor/model';
import { plural } from '../rule';
import type { CertificateRule, RuleSubject } from '../rule';

const ALL_ZEROS = /^0+$/;

export const serialNumberOutOfRange: CertificateRule = {
  id: 'KFS-STR-001',
  scope: 'certificate',
  title: 'Serial number not positive or longer than 20 octets',
  severities: ['medium', 'low'],
  remediation: 'Have the CA re-issue it with a positive serial of at most 20 octets (RFC 5280 4.1.2.2).',
  evaluate(certificate: ParsedCertificate) {
    const serial = certificate.serialNumber;
    if (certificate.serialNumberNegative) {
      return {
        severity: 'medium',
        message: `Negative serial number (0x${serial}): RFC 5280 requires a positive integer, and strict parsers such as Go 1.23+ reject the certificate.`,
      };
    }
    if (ALL_ZEROS.test(serial)) {
      return {
        severity: 'low',
        message:
          'Serial number 0: RFC 5280 requires a positive integer, and zero defeats revocation by serial.',
      };
    }
    if (certificate.serialNumberLength > 20) {
      return {
        severity: 'low',
        message: `Serial number of ${certificate.serialNumberLength} octets (0x${serial}): RFC 5280 allows at most 20, and some clients reject longer ones.`,
      };
    }
    return null;
  },
};

export const extensionsBeforeV3: CertificateRule = {
  id: 'KFS-STR-002',
  scope: 'certificate',
  title: 'Extensions in a v1 or v2 certificate',
  severities: ['medium'],
  remediation: 'Re-issue it as a v3 certificate.',
  evaluate(certificate: ParsedCertificate) {
    const count = certificate.extensions.length;
    if (certificate.version === 3 || count === 0) return null;
    return {
      severity: 'medium',
      message: `v${certificate.version} certificate carrying ${plural(count, 'extension')}: RFC 5280 allows extensions only in v3, so clients may reject it or ignore them, basicConstraints and keyUsage included.`,
    };
  },
};

function caEvidence(certificate: ParsedCertificate, subject: RuleSubject): string {
  if (certificate.basicConstraints.cA) return 'basicConstraints cA';
  if (certificate.keyUsage?.includes('keyCertSign')) return 'keyCertSign key usage';
  const state = subject.command?.CertState;
  return state === CertState.ParentCertificateAuthority
    ? 'Command lists it as a parent CA'
    : 'Command lists it as a CA';
}

export const caWithoutCriticalBasicConstraints: CertificateRule = {
  id: 'KFS-STR-003',
  scope: 'certificate',
  title: 'CA certificate without a critical basicConstraints cA',
  severities: ['medium'],
  remediation:
    'Re-issue the CA certificate with a critical basicConstraints extension asserting cA (RFC 5280 4.2.1.9).',
  evaluate(certificate: ParsedCertificate, subject: RuleSubject) {
    if (!subject.isCa) return null;
    const constraints = certificate.basicConstraints;
    const evidence = caEvidence(certificate, subject);
    let problem: string;
    if (!constraints.present) problem = 'has no basicConstraints extension';
    else if (!constraints.cA) problem = 'has a basicConstraints extension that does not assert cA';
    else if (!constraints.critical) problem = 'has a basicConstraints extension not marked critical';
    else return null;
    return {
      severity: 'medium',
      message: `CA certificate (${evidence}) ${problem}: RFC 5280 requires it critical with cA set in every CA certificate, and clients may refuse chains through it or misjudge what it may sign.`,
    };
  },
};

export const signatureAlgorithmMismatch: CertificateRule = {
  id: 'KFS-STR-004',
  scope: 'certificate',
  title: 'Signature algorithm fields disagree',
  severities: ['medium'],
  remediation:
    'Have the CA re-issue the certificate; find out how a certificate with mismatched fields was produced.',
  evaluate(certificate: ParsedCertificate) {
    if (certificate.signatureAlgorithmsMatch) return null;
    return {
      severity: 'medium',
      message: `The signature algorithm inside the signed part differs from the outer one (${certificate.signatureAlgorithm.name}): RFC 5280 4.1.1.2 requires them identical; strict clients reject it, and it can hide tampering.`,
    };
  },
};

export const validityInverted: CertificateRule = {
  id: 'KFS-STR-005',
  scope: 'certificate',
  title: 'Validity ends before it starts',
  severities: ['medium'],
  remediation: 'Re-issue the certificate; check the clock and validity settings of the issuing CA.',
  evaluate(certificate: ParsedCertificate, subject: RuleSubject) {
    if (!(subject.notAfterMs < subject.notBeforeMs)) return null;
    return {
      severity: 'medium',
      message: `notAfter ${certificate.notAfter} is before notBefore ${certificate.notBefore}: the certificate is never valid.`,
    };
  },
};
