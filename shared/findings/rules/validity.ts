// KFS-VAL-*: the validity period — expired, expiring within the window, not yet valid, too long for a TLS server.
import type { ParsedCertificate } from '#shared/x509/index';
import { DAY_MS, deployedPhrase, isTlsServerLeaf, relativeDays } from '../rule';
import type { CertificateRule, RuleSubject } from '../rule';
import type { Severity } from '../types';

export const expired: CertificateRule = {
  id: 'KFS-VAL-001',
  scope: 'certificate',
  title: 'Certificate expired',
  severities: ['high', 'medium'],
  remediation:
    'Replace it wherever it is still installed, then remove it from the stores; if it is unused, retire it in Command.',
  evaluate(certificate: ParsedCertificate, subject: RuleSubject) {
    if (!(subject.notAfterMs < subject.nowMs)) return null;
    // Installed somewhere Command can see, an expired certificate is an outage or a trust failure in waiting.
    const severity: Severity = subject.deployedCount > 0 ? 'high' : 'medium';
    return {
      severity,
      message: `Expired on ${certificate.notAfter} (${relativeDays(subject.notAfterMs, subject.nowMs)})${deployedPhrase(subject.deployedCount)}.`,
    };
  },
};

export const expiringSoon: CertificateRule = {
  id: 'KFS-VAL-002',
  scope: 'certificate',
  title: 'Certificate expiring soon',
  severities: ['high', 'medium', 'low'],
  remediation:
    'Renew it and deploy the renewal to every location before the expiry date (automate renewal where possible).',
  evaluate(certificate: ParsedCertificate, subject: RuleSubject) {
    const left = subject.notAfterMs - subject.nowMs;
    if (!(left >= 0 && left <= subject.expiringWithinDays * DAY_MS)) return null;
    // A week is about the least time a change process needs; two weeks leaves one retry.
    const severity: Severity = left <= 7 * DAY_MS ? 'high' : left <= 14 * DAY_MS ? 'medium' : 'low';
    return {
      severity,
      message: `Expires on ${certificate.notAfter} (${relativeDays(subject.notAfterMs, subject.nowMs)}), within the ${subject.expiringWithinDays}-day window${deployedPhrase(subject.deployedCount)}.`,
    };
  },
};

export const notYetValid: CertificateRule = {
  id: 'KFS-VAL-003',
  scope: 'certificate',
  title: 'Certificate not yet valid',
  severities: ['low'],
  remediation:
    'Do not deploy it before its start date; if the date is wrong, check the issuing CA clock and re-issue.',
  evaluate(certificate: ParsedCertificate, subject: RuleSubject) {
    if (!(subject.notBeforeMs > subject.nowMs)) return null;
    return {
      severity: 'low',
      message: `Not valid until ${certificate.notBefore} (${relativeDays(subject.notBeforeMs, subject.nowMs)}); clients reject it until then.`,
    };
  },
};

/**
 * CA/B Forum Baseline Requirements 6.3.2, by issuance (notBefore): 398 days from 2020-09-01 (Ballot SC31, Apple's
 * policy), then Ballot SC-081v3's steps: 200 days from 2026-03-15, 100 days from 2027-03-15, 47 days from 2029-03-15.
 * Newest step first.
 */
interface ValidityLimit {
  fromMs: number;
  from: string;
  maxDays: number;
  source: string;
}

const TLS_VALIDITY_LIMITS: readonly ValidityLimit[] = [
  { fromMs: Date.UTC(2029, 2, 15), from: '2029-03-15', maxDays: 47, source: 'CA/B Forum Ballot SC-081' },
  { fromMs: Date.UTC(2027, 2, 15), from: '2027-03-15', maxDays: 100, source: 'CA/B Forum Ballot SC-081' },
  { fromMs: Date.UTC(2026, 2, 15), from: '2026-03-15', maxDays: 200, source: 'CA/B Forum Ballot SC-081' },
  {
    fromMs: Date.UTC(2020, 8, 1),
    from: '2020-09-01',
    maxDays: 398,
    source: 'CA/B Forum Baseline Requirements',
  },
];

export const tlsValidityTooLong: CertificateRule = {
  id: 'KFS-VAL-004',
  scope: 'certificate',
  title: 'TLS server certificate valid longer than the CA/B Forum maximum',
  severities: ['medium'],
  remediation:
    'Re-issue with a validity within the CA/B Forum limit for its issuance date, and automate renewal.',
  evaluate(certificate: ParsedCertificate, subject: RuleSubject) {
    const notBefore = subject.notBeforeMs;
    let limit: ValidityLimit | null = null;
    for (const step of TLS_VALIDITY_LIMITS) {
      if (notBefore >= step.fromMs) {
        limit = step;
        break;
      }
    }
    if (limit === null || !isTlsServerLeaf(certificate, subject)) return null;
    // The Baseline Requirements count both ends inclusively: notAfter - notBefore + 1 second.
    const validityMs = subject.notAfterMs - notBefore + 1000;
    if (validityMs <= limit.maxDays * DAY_MS) return null;
    const days = Math.round((validityMs / DAY_MS) * 10) / 10;
    return {
      severity: 'medium',
      message: `TLS server certificate valid for ${days} days (${certificate.notBefore} to ${certificate.notAfter}): the ${limit.source} allow at most ${limit.maxDays} days for certificates issued from ${limit.from}, and browsers reject longer ones from public CAs.`,
    };
  },
};
