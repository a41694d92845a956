// Feature gates: a disabled feature names the feature and the license, or why no valid license is installed.
import { describe, expect, it } from 'vitest';
import { FeatureDisabledError, requireFeature } from '#shared/license/gates';
import { verifyLicense } from '#shared/license/license';
import type { LicenseVerification } from '#shared/license/model';
import { SensorError } from '#shared/errors';
import { issueTestLicense, TEST_INSTANCE_ID, TEST_VENDOR_PUBLIC_KEY } from '#test/support/license';

const options = {
  trustedKeys: [TEST_VENDOR_PUBLIC_KEY],
  instanceId: TEST_INSTANCE_ID,
  now: new Date('2026-06-01T00:00:00Z'),
};

function thrown(verification: LicenseVerification | null, feature: Parameters<typeof requireFeature>[1]) {
  try {
    requireFeature(verification, feature);
  } catch (err) {
    expect(err).toBeInstanceOf(FeatureDisabledError);
    expect(err).toBeInstanceOf(SensorError);
    return err as FeatureDisabledError;
  }
  throw new Error(`requireFeature(${feature}) did not throw`);
}

describe('requireFeature', () => {
  it('passes for a feature the valid license enables', () => {
    const verification = verifyLicense(issueTestLicense({ features: ['api-scans', 'kerberos'] }), options);
    expect(verification.valid).toBe(true);
    expect(() => requireFeature(verification, 'api-scans')).not.toThrow();
    expect(() => requireFeature(verification, 'kerberos')).not.toThrow();
  });

  it('refuses a feature the valid license does not enable, naming the feature, the license and what it enables', () => {
    const verification = verifyLicense(
      issueTestLicense({ licenseId: 'LIC-SMALL', features: ['api-scans', 'kerberos'] }),
      options,
    );
    const err = thrown(verification, 'scheduled-scans');
    expect(err.feature).toBe('scheduled-scans');
    expect(err.licenseId).toBe('LIC-SMALL');
    expect(err.message).toContain('feature scheduled-scans is not enabled by license LIC-SMALL');
    expect(err.message).toContain('features enabled: api-scans, kerberos');
    expect(err.message).toContain('Example Corp');
  });

  it('says "none" when the license enables no features', () => {
    const err = thrown(verifyLicense(issueTestLicense({ features: [] }), options), 'cbom-export');
    expect(err.message).toContain('features enabled: none');
  });

  it('refuses every feature when no license is installed', () => {
    const err = thrown(null, 'remote-scan');
    expect(err.licenseId).toBeNull();
    expect(err.message).toMatch(/feature remote-scan is not enabled: no valid license is installed/);
  });

  it('refuses every feature when the license is invalid, with the reason; an expired license keeps its id', () => {
    const expired = verifyLicense(
      issueTestLicense({ licenseId: 'LIC-OLD', expiresAt: '2026-02-01T00:00:00Z' }),
      options,
    );
    const err = thrown(expired, 'api-scans');
    expect(err.licenseId).toBe('LIC-OLD');
    expect(err.message).toMatch(
      /no valid license is installed \(expired: license LIC-OLD .*expired on 2026-02-01/,
    );

    const tampered = verifyLicense(issueTestLicense().replace('Example Corp', 'Example Corq'), options);
    const err2 = thrown(tampered, 'api-scans');
    // Not authentic, so not named as the license.
    expect(err2.licenseId).toBeNull();
    expect(err2.message).toMatch(/no valid license is installed \(bad-signature: /);
  });
});
