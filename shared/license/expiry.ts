// License expiry alerts: 30, 14, 7 and 1 days before expiresAt, and after. The daily job raises what this returns; the
// deterministic alertId makes each threshold one alert, not one a day.
import type { Alert, AlertSeverity, LicenseDocument } from './model.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Days before expiry at which an alert is raised, most urgent first, with the severity of each. */
export const EXPIRY_THRESHOLDS: ReadonlyArray<{ days: number; severity: AlertSeverity }> = [
  { days: 1, severity: 'critical' },
  { days: 7, severity: 'warning' },
  { days: 14, severity: 'warning' },
  { days: 30, severity: 'info' },
];

function remaining(ms: number): string {
  if (ms >= DAY_MS) {
    const days = Math.floor(ms / DAY_MS);
    return `in ${days} day${days === 1 ? '' : 's'}`;
  }
  const hours = Math.floor(ms / HOUR_MS);
  return hours >= 1 ? `in ${hours} hour${hours === 1 ? '' : 's'}` : 'in less than an hour';
}

/**
 * The most urgent expiry alert `license` has crossed at `now`, or null when it expires more than 30 days later.
 * A threshold is crossed from the instant exactly that many days remain.
 */
export function expiryAlertFor(license: LicenseDocument, now: Date): Alert | null {
  const expiresAtMs = Date.parse(license.expiresAt);
  const expiresAt = new Date(expiresAtMs).toISOString();
  const left = expiresAtMs - now.getTime();
  const details = {
    licenseId: license.licenseId,
    licensee: license.licensee,
    instanceId: license.instanceId,
    expiresAt,
    daysToExpiry: Math.floor(left / DAY_MS),
  };
  if (left <= 0) {
    return {
      alertId: `license-expired:${license.licenseId}`,
      kind: 'license-expired',
      severity: 'critical',
      message:
        `License ${license.licenseId} for ${license.licensee} expired on ${expiresAt}; licensed features are ` +
        `disabled. Install a renewed license for instance ${license.instanceId}.`,
      createdAt: now.toISOString(),
      details,
    };
  }
  const threshold = EXPIRY_THRESHOLDS.find((t) => left <= t.days * DAY_MS);
  if (threshold === undefined) return null;
  return {
    alertId: `license-expiry:${license.licenseId}:${threshold.days}`,
    kind: 'license-expiry',
    severity: threshold.severity,
    message:
      `License ${license.licenseId} for ${license.licensee} expires on ${expiresAt} (${remaining(left)}). ` +
      `Ask the vendor for a renewed license for instance ${license.instanceId} and install it before then.`,
    createdAt: now.toISOString(),
    details: { ...details, thresholdDays: threshold.days },
  };
}
