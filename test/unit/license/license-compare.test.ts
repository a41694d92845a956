// compareLicenses: what installing a candidate license changes (features, dates, allowance, identity).
import { describe, expect, it } from 'vitest';
import { compareLicenses } from '#shared/license/license';
import { LICENSE_FEATURES } from '#shared/license/model';
import { testLicense } from '#test/support/license';

describe('compareLicenses', () => {
  it('with nothing installed: every feature is gained, no date or allowance change', () => {
    const candidate = testLicense({ features: ['kerberos', 'api-scans'] });
    expect(compareLicenses(null, candidate)).toEqual({
      licenseId: { installed: null, candidate: 'LIC-TEST-0001', changed: true },
      licensee: { installed: null, candidate: 'Example Corp', changed: true },
      instanceId: { installed: null, candidate: 'test-instance-0001', changed: true },
      issuedAt: { installed: null, candidate: '2026-01-01T00:00:00Z', changeDays: null },
      expiresAt: { installed: null, candidate: '2027-01-01T00:00:00Z', changeDays: null },
      // In the model's order, not the file's.
      features: { gained: ['api-scans', 'kerberos'], lost: [], kept: [] },
      actionedCertificates: {
        installed: null,
        candidate: { type: 'Limited', allowance: 1000 },
        change: 'none-installed',
        difference: null,
      },
    });
  });

  it('a renewal: features gained, lost and kept, dates moved by whole and fractional days, allowance up', () => {
    const installed = testLicense({
      licenseId: 'LIC-2026',
      features: ['api-scans', 'scheduled-scans', 'kerberos'],
      expiresAt: '2027-01-01T00:00:00Z',
    });
    const candidate = testLicense({
      licenseId: 'LIC-2027',
      issuedAt: '2026-12-01T12:00:00Z',
      expiresAt: '2028-01-01T00:00:00Z',
      features: ['api-scans', 'kerberos', 'cbom-export', 'remote-scan'],
      actionedCertificates: { type: 'Limited', allowance: 2500 },
    });
    const result = compareLicenses(installed, candidate);
    expect(result.features).toEqual({
      gained: ['remote-scan', 'cbom-export'],
      lost: ['scheduled-scans'],
      kept: ['api-scans', 'kerberos'],
    });
    expect(result.licenseId).toEqual({ installed: 'LIC-2026', candidate: 'LIC-2027', changed: true });
    expect(result.licensee.changed).toBe(false);
    expect(result.instanceId.changed).toBe(false);
    // 2027 has 365 days; 2026-01-01 → 2026-12-01T12:00 is 334.5 days.
    expect(result.expiresAt).toEqual({
      installed: '2027-01-01T00:00:00Z',
      candidate: '2028-01-01T00:00:00Z',
      changeDays: 365,
    });
    expect(result.issuedAt.changeDays).toBe(334.5);
    expect(result.actionedCertificates).toEqual({
      installed: { type: 'Limited', allowance: 1000 },
      candidate: { type: 'Limited', allowance: 2500 },
      change: 'increased',
      difference: 1500,
    });
  });

  it('a shorter license with a lower allowance shows negative changes', () => {
    const installed = testLicense();
    const candidate = testLicense({
      expiresAt: '2026-12-01T00:00:00Z',
      actionedCertificates: { type: 'Limited', allowance: 10 },
      licensee: 'Example Corp Ltd',
      instanceId: 'other-instance',
    });
    const result = compareLicenses(installed, candidate);
    expect(result.expiresAt.changeDays).toBe(-31);
    expect(result.actionedCertificates).toMatchObject({ change: 'decreased', difference: -990 });
    expect(result.licensee).toEqual({
      installed: 'Example Corp',
      candidate: 'Example Corp Ltd',
      changed: true,
    });
    expect(result.instanceId).toEqual({
      installed: 'test-instance-0001',
      candidate: 'other-instance',
      changed: true,
    });
    expect(result.features).toEqual({ gained: [], lost: [], kept: [...LICENSE_FEATURES] });
  });

  it('moves to and from Site-License, and reports unchanged allowances', () => {
    const limited = testLicense();
    const site = testLicense({ actionedCertificates: { type: 'Site-License' } });
    expect(compareLicenses(limited, site).actionedCertificates).toMatchObject({
      change: 'to-site-license',
      difference: null,
    });
    expect(compareLicenses(site, limited).actionedCertificates).toMatchObject({
      change: 'from-site-license',
      difference: null,
    });
    expect(compareLicenses(site, site).actionedCertificates.change).toBe('unchanged');
    expect(compareLicenses(limited, limited).actionedCertificates).toMatchObject({
      change: 'unchanged',
      difference: 0,
    });
    expect(compareLicenses(limited, limited).licenseId.changed).toBe(false);
  });

  it('is JSON-friendly: a JSON round trip gives the same value', () => {
    const result = compareLicenses(testLicense(), testLicense({ features: ['api-scans'] }));
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(result.features.lost).toEqual(LICENSE_FEATURES.filter((f) => f !== 'api-scans'));
  });
});
