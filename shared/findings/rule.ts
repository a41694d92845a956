// What an analysis rule is, what it sees, and the small helpers several rules share.
import type { CommandCertificate } from '#shared/keyfactor/model';
import type { CertificateParseError, ParsedCertificate } from '#shared/x509/index';
import type { PqcAssessment, Severity } from './types';

/** Everything a rule may read about one certificate; built once per certificate, shared by every rule. */
export interface RuleSubject {
  /** Null when the content did not decode or parse. */
  certificate: ParsedCertificate | null;
  parseError: CertificateParseError | null;
  /** Null for findings made from a file. */
  command: CommandCertificate | null;
  nowMs: number;
  expiringWithinDays: number;
  /** Epoch milliseconds of the certificate's validity; NaN when it did not parse. */
  notBeforeMs: number;
  notAfterMs: number;
  pqc: PqcAssessment | null;
  /** May sign certificates: keyCertSign, or cA without a keyUsage extension, or Command's CertState 6 or 7. */
  isCa: boolean;
  /** Certificate stores plus SSL endpoints where Command found the certificate; 0 without Command data. */
  deployedCount: number;
}

/** A rule that fired; null from evaluate means it did not. */
export interface RuleOutcome {
  severity: Severity;
  /** Names the concrete values (key size, date, names) so a person can act on it without the rest of the finding. */
  message: string;
}

interface RuleDescription {
  /** Stable: KFS-<FAMILY>-<NNN>. Never reused for a different condition. */
  id: string;
  title: string;
  remediation: string;
  /** Every severity the rule can report, most severe first (for the documentation and its tests). */
  severities: readonly Severity[];
}

/** Needs the parsed certificate: skipped when the content does not parse. */
export interface CertificateRule extends RuleDescription {
  scope: 'certificate';
  evaluate(certificate: ParsedCertificate, subject: RuleSubject): RuleOutcome | null;
}

/** Runs for every finding, parse errors included (Command's attributes, the parse error itself). */
export interface InventoryRule extends RuleDescription {
  scope: 'inventory';
  evaluate(subject: RuleSubject): RuleOutcome | null;
}

export type Rule = CertificateRule | InventoryRule;

export const DAY_MS = 86_400_000;

const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  critical: 5,
  high: 4,
  medium: 3,
  low: 2,
  info: 1,
};

export function severityRank(severity: Severity): number {
  return SEVERITY_RANK[severity];
}

export const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';

/** The certificate says it is for TLS servers (EKU serverAuth) and is not a CA. */
export function isTlsServerLeaf(certificate: ParsedCertificate, subject: RuleSubject): boolean {
  if (subject.isCa) return false;
  const usages = certificate.extendedKeyUsage;
  if (usages === null) return false;
  for (const usage of usages) if (usage.oid === SERVER_AUTH_OID) return true;
  return false;
}

/** Self-signed without touching the costly signature check unless the certificate is self-issued. */
export function isSelfSigned(certificate: ParsedCertificate): boolean {
  return certificate.selfIssued && certificate.selfSigned;
}

/** "in 3 days", "1 day ago", "today": whole days, rounded towards zero. */
export function relativeDays(targetMs: number, nowMs: number): string {
  const days = Math.trunc((targetMs - nowMs) / DAY_MS);
  if (days === 0) return targetMs >= nowMs ? 'in less than a day' : 'less than a day ago';
  const count = Math.abs(days);
  const unit = count === 1 ? 'day' : 'days';
  return days > 0 ? `in ${count} ${unit}` : `${count} ${unit} ago`;
}

/** "a, b, c and 4 more": bounded, so a certificate with 500 SANs keeps a readable message. */
export function listSome(values: readonly string[], limit = 3): string {
  if (values.length <= limit) return values.join(', ');
  return `${values.slice(0, limit).join(', ')} and ${values.length - limit} more`;
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** "still found in 2 certificate stores / SSL endpoints" or ''. */
export function deployedPhrase(deployedCount: number): string {
  return deployedCount > 0
    ? `; Command still finds it in ${plural(deployedCount, 'certificate store or SSL endpoint', 'certificate stores or SSL endpoints')}`
    : '';
}
