// Expiry alerts on the boundaries: 30, 14, 7 and 1 days before expiresAt, and after.
import { describe, expect, it } from 'vitest';
import { expiryAlertFor } from '#shared/license/expiry';
import { testLicense } from '#test/support/license';

const EXPIRES = Date.parse('2027-01-01T00:00:00Z');
const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;
const license = testLicense({
  licenseId: 'LIC-42',
  licensee: 'Example Corp',
  expiresAt: '2027-01-01T00:00:00Z',
});
const at = (msBeforeExpiry: number) => new Date(EXPIRES - msBeforeExpiry);

describe('expiryAlertFor', () => {
  const cases: Array<[string, number, string | null, string | null]> = [
    ['more than 30 days', 30 * DAY + SECOND, null, null],
    ['exactly 30 days', 30 * DAY, 'license-expiry:LIC-42:30', 'info'],
    ['29 days 23 hours', 29 * DAY + 23 * HOUR, 'license-expiry:LIC-42:30', 'info'],
    ['14 days and a second', 14 * DAY + SECOND, 'license-expiry:LIC-42:30', 'info'],
    ['exactly 14 days', 14 * DAY, 'license-expiry:LIC-42:14', 'warning'],
    ['7 days and a second', 7 * DAY + SECOND, 'license-expiry:LIC-42:14', 'warning'],
    ['exactly 7 days', 7 * DAY, 'license-expiry:LIC-42:7', 'warning'],
    ['1 day and a second', DAY + SECOND, 'license-expiry:LIC-42:7', 'warning'],
    ['exactly 1 day', DAY, 'license-expiry:LIC-42:1', 'critical'],
    ['one second left', SECOND, 'license-expiry:LIC-42:1', 'critical'],
    ['at the expiry instant', 0, 'license-expired:LIC-42', 'critical'],
    ['expired 1 second ago', -SECOND, 'license-expired:LIC-42', 'critical'],
    ['expired a year ago', -365 * DAY, 'license-expired:LIC-42', 'critical'],
  ];

  it.each(cases)('%s before expiry → %s', (_name, before, alertId, severity) => {
    const now = at(before);
    const alert = expiryAlertFor(license, now);
    if (alertId === null) {
      expect(alert).toBeNull();
      return;
    }
    expect(alert).not.toBeNull();
    expect(alert?.alertId).toBe(alertId);
    expect(alert?.severity).toBe(severity);
    expect(alert?.kind).toBe(alertId.startsWith('license-expired') ? 'license-expired' : 'license-expiry');
    expect(alert?.createdAt).toBe(now.toISOString());
    // The message names the license, the licensee and the date.
    expect(alert?.message).toContain('LIC-42');
    expect(alert?.message).toContain('Example Corp');
    expect(alert?.message).toContain('2027-01-01T00:00:00.000Z');
    expect(alert?.details).toMatchObject({ licenseId: 'LIC-42', expiresAt: '2027-01-01T00:00:00.000Z' });
  });

  it('says how long is left in days, or hours in the last day', () => {
    expect(expiryAlertFor(license, at(29 * DAY + 23 * HOUR))?.message).toContain('in 29 days');
    expect(expiryAlertFor(license, at(DAY))?.message).toContain('in 1 day)');
    expect(expiryAlertFor(license, at(5 * HOUR + 10 * SECOND))?.message).toContain('in 5 hours');
    expect(expiryAlertFor(license, at(SECOND))?.message).toContain('in less than an hour');
    expect(expiryAlertFor(license, at(-SECOND))?.message).toMatch(/expired on 2027-01-01T00:00:00.000Z/);
  });

  it('gives the same alert id every day within one threshold (one alert, not one a day)', () => {
    const ids = [13, 12, 10, 8].map((days) => expiryAlertFor(license, at(days * DAY))?.alertId);
    expect(new Set(ids)).toEqual(new Set(['license-expiry:LIC-42:14']));
    expect(expiryAlertFor(license, at(-DAY))?.alertId).toBe(expiryAlertFor(license, at(-30 * DAY))?.alertId);
  });

  it('reads offsets other than Z as the same instant', () => {
    const offset = testLicense({ licenseId: 'LIC-43', expiresAt: '2027-01-01T02:00:00+02:00' });
    expect(expiryAlertFor(offset, at(DAY))?.alertId).toBe('license-expiry:LIC-43:1');
    expect(expiryAlertFor(offset, at(DAY))?.details.expiresAt).toBe('2027-01-01T00:00:00.000Z');
  });
});
