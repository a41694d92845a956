// KFS-REV-001: Command says the certificate is revoked (CertState 2 or a revocation date), with the reason.
import { CertState } from '#shared/keyfactor/model';
import { deployedPhrase } from '../rule';
import type { InventoryRule, RuleSubject } from '../rule';
import type { CodeAndName, Severity } from '../types';

/**
 * Command's RevocationReason: RFC 5280 CRLReason codes, plus -1 (remove from hold) and 999, per the Command API
 * reference (section 2.4). Command documents 7 as "remove from CRL"; RFC 5280 gives that meaning to 8 and leaves 7
 * unused, so both map to removeFromCRL. 999 is undocumented and read as "unknown".
 */
const REVOCATION_REASON_NAMES: Readonly<Record<number, string>> = {
  [-1]: 'removeFromHold',
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  7: 'removeFromCRL',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
  999: 'unknown',
};

export function revocationReason(code: number | null | undefined): CodeAndName | null {
  if (code === null || code === undefined) return null;
  return { code, name: REVOCATION_REASON_NAMES[code] ?? `reason ${code}` };
}

const COMPROMISE_REASONS: ReadonlySet<number> = new Set([1, 2, 10]);
const REMOVE_FROM_HOLD = -1;

export const revoked: InventoryRule = {
  id: 'KFS-REV-001',
  scope: 'inventory',
  title: 'Certificate revoked',
  severities: ['critical', 'high', 'medium', 'low'],
  remediation:
    'Remove it from every store and endpoint that still holds it and deploy a replacement; after a key compromise, re-key too.',
  evaluate(subject: RuleSubject) {
    const command = subject.command;
    if (command === null) return null;
    const reasonCode = command.RevocationReason ?? null;
    const revokedByState = command.CertState === CertState.Revoked;
    // A hold that was lifted leaves a revocation date behind on a certificate that is valid again.
    const revokedByDate =
      typeof command.RevocationEffDate === 'string' &&
      command.RevocationEffDate !== '' &&
      reasonCode !== REMOVE_FROM_HOLD;
    if (!revokedByState && !revokedByDate) return null;
    const reason = revocationReason(reasonCode);
    const compromised = reasonCode !== null && COMPROMISE_REASONS.has(reasonCode);
    const deployed = subject.deployedCount > 0;
    let severity: Severity = 'low';
    if (compromised && deployed) severity = 'critical';
    else if (deployed) severity = 'high';
    else if (compromised) severity = 'medium';
    const when = command.RevocationEffDate ? ` on ${command.RevocationEffDate}` : '';
    const why = reason === null ? 'no reason given' : `reason: ${reason.name}`;
    const hold = reasonCode === 6 ? ' (on hold: it may be reinstated)' : '';
    return {
      severity,
      message: `Revoked${when} (${why})${hold}${deployedPhrase(subject.deployedCount)}.`,
    };
  },
};
